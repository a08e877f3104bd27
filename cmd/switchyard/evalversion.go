package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
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
	if err := parseFlags(fs, args); err != nil {
		return err
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

	// The service's own reading of the version: its local tier gives the
	// predictor, the picker is the one the service builds.
	tier := classify.NewLocalTier(classify.LocalTierOptions{
		Store: st, Cascade: classify.NewCascade(classify.CascadeOptions{}), Models: cfg.Catalog(), Enabled: true,
		Threshold: cfg.Classifier.Local.Threshold, MinSamples: cfg.Classifier.Local.MinSamples, Logger: log,
	})
	pred := tier.Load(ctx, v)
	var picker *router.Picker
	res := versionScore{Version: v.ID, Split: *split, Calls: map[string]int{}}
	if pred != nil {
		costs := make([]float64, len(v.Policy.Models))
		for k, m := range v.Policy.Models {
			costs[k] = float64(cfg.Catalog()[m].Cost(1000, 1000))
		}
		if picker, err = router.NewPicker(v.Policy.Models, costs, v.Policy.Point); err != nil {
			return fmt.Errorf("eval-version: %w", err)
		}
		res.Point = v.Policy.Point.String()
	}
	heuristic := classify.Heuristic{}
	fixed := datasets.FixedSplit(items)
	for i := range items {
		it := &items[i]
		if *split != "all" && datasets.SplitOf(it, fixed, *trainFrac, *seed) != *split || len(it.Outcomes) == 0 {
			continue
		}
		a := heuristic.Analyze(it.Prompt)
		model := ""
		if picker != nil {
			p, err := pred.Predict(ctx, router.NormalizePrompt(it.Prompt))
			if err != nil {
				return fmt.Errorf("eval-version: predict: %w", err)
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
			return fmt.Errorf("eval-version: item %s has no outcome of %q, where version %d routes it", it.ID, model, v.ID)
		}
		cost, err := eval.CallCost(it, model, o, a, prices)
		if err != nil {
			return fmt.Errorf("eval-version: item %s: %w", it.ID, err)
		}
		res.N++
		res.Quality += o.Score
		res.CostUSD += cost
		res.Calls[model]++
	}
	if res.N > 0 {
		res.Quality /= float64(res.N)
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	_, err = fmt.Fprintf(stdout, "version %d on the %s split (%d prompts): quality %.4f, cost $%.6f, %d routed by the per-prompt policy %s\n",
		res.Version, res.Split, res.N, res.Quality, res.CostUSD, res.ByPolicy, res.Point)
	return err
}
