package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

// versionScore is eval-version's result: a stored version's routing
// replayed offline on a dataset split.
type versionScore struct {
	Version int64   `json:"version"`
	Split   string  `json:"split"`
	N       int     `json:"n"`
	Quality float64 `json:"quality"`
	CostUSD float64 `json:"cost_usd"`
	// ByPolicy is how many prompts the version's per-prompt policy
	// routed; the rest went by its bucket table (heuristic buckets).
	ByPolicy int            `json:"by_policy"`
	Calls    map[string]int `json:"calls_by_model"`
	Point    string         `json:"point,omitempty"`
}

// The JSON of a recorded eval-version run (--record), one router.EvalRun
// a held-out measurement of a version: what the admin page's learning
// curve plots, one point a run. Its Params are versionParams with Kind
// "eval-version" (a `switchyard eval` run's Params have no kind), and
// its Result is a versionResult. A loop (scripts/loop.sh) records one
// after each learner run, so the curve is Result.cost_share and
// Result.quality (and Result.static.quality) against
// Params.prompts_replayed, ordered by prompts_replayed then created_at.

// versionParams are the Params of a recorded eval-version run.
type versionParams struct {
	// Kind is "eval-version", telling these runs from `switchyard eval`
	// runs in the same table.
	Kind string `json:"kind"`
	// Version is the scored version's id (the active one's when
	// --version active).
	Version int64 `json:"version"`
	// Dataset is the dataset file's base name; Split, TrainFrac and Seed
	// select its prompts (the held-out "test" split in the loop).
	Dataset   string  `json:"dataset"`
	Split     string  `json:"split"`
	TrainFrac float64 `json:"train_frac"`
	Seed      uint64  `json:"seed"`
	// PromptsReplayed is how many prompts the service had answered with
	// feedback when the version was scored (--replayed; zero when not
	// given): the learning curve's x axis.
	PromptsReplayed int `json:"prompts_replayed"`
	// StaticVersion is the version the cost share is relative to
	// (--static; zero when not given).
	StaticVersion int64 `json:"static_version,omitempty"`
}

// versionResult is the Result of a recorded eval-version run: the
// version's figures on the split (versionScore's fields: version,
// split, n, quality as the mean score in [0, 1], cost_usd as the total
// over the n prompts, by_policy, calls_by_model, point) and, with
// --static, the static version's figures on the same prompts (static:
// the same fields), cost_share = cost_usd / static.cost_usd (absent when
// the static cost is zero) and quality_delta = quality - static.quality.
type versionResult struct {
	versionScore
	Static       *versionScore `json:"static,omitempty"`
	CostShare    *float64      `json:"cost_share,omitempty"`
	QualityDelta *float64      `json:"quality_delta,omitempty"`
}

// evalVersionCmd scores a stored version the way the service routes with
// it: the version's local model read through the service's own local
// tier (classify.LocalTier) and its policy's router.Picker at the
// catalog's prices, or, without a policy, the first model of the bucket
// the heuristic classifier puts the prompt in. Each prompt is scored by
// the dataset's recorded outcome of that model, and costed as eval
// costs it (recorded cost, else tokens times price).
func evalVersionCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval-version", stderr)
	cfgPath := fs.String("config", "", "configuration (models, prices, database); its provider keys are not needed")
	dataset := fs.String("dataset", "", "labeled dataset (.jsonl or .jsonl.gz), required")
	which := fs.String("version", "active", "the version: active or its id")
	split := fs.String("split", "test", "which prompts: train, test or all")
	trainFrac := fs.Float64("train-frac", 0.5, "share of prompts in train when the dataset fixes no split")
	seed := fs.Uint64("seed", 1, "seed of the split when the dataset fixes none")
	pricesPath := fs.String("prices", "", "price file (JSON: model -> input_per_mtok, output_per_mtok), over the configuration's prices, for calls without a recorded cost")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	record := fs.Bool("record", false, "record the result in the database as an eval run (the admin page's learning curve)")
	replayed := fs.Int("replayed", 0, "prompts replayed when the version was scored, recorded with --record")
	static := fs.Int64("static", 0, "also score this version id on the same prompts and report the cost share against it (0: none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *replayed < 0 {
		return usageError{fmt.Sprintf("eval-version: --replayed %d: want a count >= 0", *replayed)}
	}
	if *static < 0 {
		return usageError{fmt.Sprintf("eval-version: --static %d: want a version id", *static)}
	}
	if *dataset == "" {
		return usageError{"eval-version: --dataset is required"}
	}
	if *split != "train" && *split != "test" && *split != "all" {
		return usageError{fmt.Sprintf("eval-version: --split %q: want train, test or all", *split)}
	}
	load := config.Load
	if *cfgPath != "" {
		load = config.LoadWithoutKeys
	}
	cfg, err := load(*cfgPath, getenv)
	if err != nil {
		return err
	}
	prices := cfg.Catalog()
	if *pricesPath != "" {
		// As eval does: the file's prices win.
		file, err := loadPrices(*pricesPath)
		if err != nil {
			return err
		}
		for name, m := range file {
			prices[name] = m
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	var v router.Version
	if *which == "active" {
		v, err = st.ActiveVersion(ctx)
	} else {
		id, perr := strconv.ParseInt(*which, 10, 64)
		if perr != nil {
			return usageError{fmt.Sprintf("eval-version: --version %q: want active or a version id", *which)}
		}
		v, err = st.GetVersion(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("eval-version: %w", err)
	}
	items, err := datasets.Load(*dataset)
	if err != nil {
		return err
	}

	sc := versionScorer{st: st, cfg: cfg, prices: prices, log: log, items: items, split: *split, trainFrac: *trainFrac, seed: *seed}
	score, err := sc.score(ctx, v)
	if err != nil {
		return err
	}
	res := versionResult{versionScore: score}
	if *static > 0 {
		sv, err := st.GetVersion(ctx, *static)
		if err != nil {
			return fmt.Errorf("eval-version: static version: %w", err)
		}
		ss, err := sc.score(ctx, sv)
		if err != nil {
			return err
		}
		res.Static = &ss
		delta := res.Quality - ss.Quality
		res.QualityDelta = &delta
		if ss.CostUSD > 0 {
			share := res.CostUSD / ss.CostUSD
			res.CostShare = &share
		}
	}
	if *record {
		params, err := json.Marshal(versionParams{Kind: "eval-version", Version: v.ID, Dataset: filepath.Base(*dataset),
			Split: *split, TrainFrac: *trainFrac, Seed: *seed, PromptsReplayed: *replayed, StaticVersion: *static})
		if err != nil {
			return fmt.Errorf("eval-version: encode params: %w", err)
		}
		result, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("eval-version: encode result: %w", err)
		}
		run, err := st.CreateEvalRun(ctx, router.EvalRun{Dataset: filepath.Base(*dataset), Params: params, Result: result})
		if err != nil {
			return fmt.Errorf("eval-version: record: %w", err)
		}
		fmt.Fprintf(stderr, "eval run %d stored\n", run.ID)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	if _, err := fmt.Fprintf(stdout, "version %d on the %s split (%d prompts): quality %.4f, cost $%.6f, %d routed by the per-prompt policy %s\n",
		res.Version, res.Split, res.N, res.Quality, res.CostUSD, res.ByPolicy, res.Point); err != nil {
		return err
	}
	if res.Static != nil {
		share := "n/a"
		if res.CostShare != nil {
			share = fmt.Sprintf("%.1f%%", 100**res.CostShare)
		}
		_, err := fmt.Fprintf(stdout, "static version %d: quality %.4f, cost $%.6f; cost share %s, quality %+.4f\n",
			res.Static.Version, res.Static.Quality, res.Static.CostUSD, share, *res.QualityDelta)
		return err
	}
	return nil
}

// versionScorer replays stored versions on a dataset split.
type versionScorer struct {
	st        *store.Store
	cfg       *config.Config
	prices    router.Catalog
	log       *slog.Logger
	items     []datasets.Item
	split     string
	trainFrac float64
	seed      uint64
}

// score replays v on the split's prompts.
func (sc versionScorer) score(ctx context.Context, v router.Version) (versionScore, error) {
	st, cfg, prices, log, items := sc.st, sc.cfg, sc.prices, sc.log, sc.items
	// The service's own reading of the version: its local tier gives the
	// predictor, the picker is the one the service builds.
	tier := classify.NewLocalTier(classify.LocalTierOptions{
		Store: st, Cascade: classify.NewCascade(classify.CascadeOptions{}), Models: cfg.Catalog(), Enabled: true,
		Threshold: cfg.Classifier.Local.Threshold, MinSamples: cfg.Classifier.Local.MinSamples, Logger: log,
	})
	pred := tier.Load(ctx, v)
	var picker *router.Picker
	res := versionScore{Version: v.ID, Split: sc.split, Calls: map[string]int{}}
	if pred != nil {
		costs := make([]float64, len(v.Policy.Models))
		for k, m := range v.Policy.Models {
			costs[k] = float64(cfg.Catalog()[m].Cost(1000, 1000))
		}
		var err error
		if picker, err = router.NewPicker(v.Policy.Models, costs, v.Policy.Point); err != nil {
			return versionScore{}, fmt.Errorf("eval-version: %w", err)
		}
		res.Point = v.Policy.Point.String()
	}
	heuristic := classify.Heuristic{}
	fixed := datasets.FixedSplit(items)
	for i := range items {
		it := &items[i]
		if sc.split != "all" && datasets.SplitOf(it, fixed, sc.trainFrac, sc.seed) != sc.split || len(it.Outcomes) == 0 {
			continue
		}
		a := heuristic.Analyze(it.Prompt)
		model := ""
		if picker != nil {
			p, err := pred.Predict(ctx, router.NormalizePrompt(it.Prompt))
			if err != nil {
				return versionScore{}, fmt.Errorf("eval-version: predict: %w", err)
			}
			if k := picker.Choose(p.Success); k >= 0 {
				model = picker.Models()[k]
				res.ByPolicy++
			}
		}
		if model == "" {
			if c := v.Table.Candidates(a); len(c) > 0 {
				model = c[0]
			}
		}
		o, ok := it.Outcomes[model]
		if !ok {
			return versionScore{}, fmt.Errorf("eval-version: item %s has no outcome of %q, where version %d routes it", it.ID, model, v.ID)
		}
		cost, err := eval.CallCost(it, model, o, a, prices)
		if err != nil {
			return versionScore{}, fmt.Errorf("eval-version: item %s: %w", it.ID, err)
		}
		res.N++
		res.Quality += o.Score
		res.CostUSD += cost
		res.Calls[model]++
	}
	if res.N > 0 {
		res.Quality /= float64(res.N)
	}
	return res, nil
}
