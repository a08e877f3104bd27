package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// evalParams are the options of one eval run, stored with its result.
type evalParams struct {
	Dataset    string   `json:"dataset"`
	Source     string   `json:"source,omitempty"`
	Prices     string   `json:"prices,omitempty"`
	Config     string   `json:"config,omitempty"`
	Policies   []string `json:"policies,omitempty"`
	TrainFrac  float64  `json:"train_frac"`
	Seed       uint64   `json:"seed"`
	Classifier string   `json:"classifier"`
	Target     float64  `json:"target"`
	// The local classifier's and the audit's options.
	LocalTarget  float64  `json:"local_target,omitempty"`
	LocalRule    string   `json:"local_rule,omitempty"`
	LocalGap     float64  `json:"local_gap,omitempty"`
	LocalTopics  bool     `json:"local_topics,omitempty"`
	TrainDataset string   `json:"train_dataset,omitempty"`
	TrainSources []string `json:"train_sources,omitempty"`
	Audit        bool     `json:"audit,omitempty"`
	// The quality goal the local policy's point is chosen for.
	KeepQuality float64 `json:"keep_quality,omitempty"`
	Baseline    string  `json:"baseline,omitempty"`
	Z           float64 `json:"z,omitempty"`
	Folds       int     `json:"folds,omitempty"`
	KeepParam   bool    `json:"keep_param,omitempty"`
	// The cascade classifier's options.
	LocalThreshold  float64 `json:"local_threshold,omitempty"`
	LocalMinSamples int     `json:"local_min_samples,omitempty"`
	LLM             string  `json:"llm,omitempty"`
}

func evalCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr)
	var p evalParams
	var policies, trainSources stringList
	fs.StringVar(&p.Dataset, "dataset", "", "labeled dataset (.jsonl or .jsonl.gz), required")
	fs.StringVar(&p.Source, "source", "", "only items whose source starts with this prefix (e.g. mmlu/)")
	fs.StringVar(&p.Prices, "prices", "", "price file (JSON: model -> input_per_mtok, output_per_mtok) for calls without a recorded cost")
	fs.StringVar(&p.Config, "config", "", "configuration whose routing table is the static policy and whose models' prices apply (default: the embedded one, if it loads)")
	fs.Var(&policies, "policy", "policy to score, repeatable: static, learned, random, oracle, always:MODEL (default: all)")
	fs.Float64Var(&p.TrainFrac, "train-frac", 0.5, "share of prompts to train on when the dataset has no train/test split")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed of the train/test split and the random policy")
	fs.StringVar(&p.Classifier, "classifier", "heuristic", "how prompts are bucketed: heuristic, label (the dataset's labels, heuristic where missing), source (category from the item's source) local (a model trained on the training split's outcomes; adds the local policy) or cascade (the service's cascade: that local model when confident, else the LLM, see --llm)")
	fs.Float64Var(&p.Target, "target", learner.DefaultOptions().Target, "quality target of the learned table")
	fs.Float64Var(&p.LocalTarget, "local-target", classify.DefaultLocalTarget, "local classifier: the bucket rule's confidence target, and the local policy's with --local-rule target")
	fs.StringVar(&p.LocalRule, "local-rule", eval.LocalRuleTarget, "local policy: target (cheapest model predicted to succeed with --local-target) or gap (cheapest model within --local-gap of the likeliest)")
	fs.Float64Var(&p.LocalGap, "local-gap", 0.1, "local policy with --local-rule gap: the gap")
	fs.BoolVar(&p.LocalTopics, "local-topics", true, "local classifier: train topic heads on the items' sources (known at training time only)")
	fs.StringVar(&p.TrainDataset, "train-dataset", "", "local classifier: train on this dataset (all of it but prompts that are scored) instead of the training split")
	fs.Var(&trainSources, "train-source", "local classifier: train only on items whose source starts with this prefix, repeatable")
	fs.Float64Var(&p.KeepQuality, "keep-quality", 0, "with --classifier local: choose the local policy's point on the training split (out-of-fold predictions) to keep this share of --baseline's quality at the least cost, and report the test split at that point as the learned policy; the rule is gap unless --local-rule says otherwise")
	fs.StringVar(&p.Baseline, "baseline", "", "with --keep-quality: the baseline model (default: the strongest on the training split)")
	fs.Float64Var(&p.Z, "z", learner.DefaultZ, "with --keep-quality: the one-sided confidence multiplier on the standard error of the paired quality difference")
	fs.BoolVar(&p.KeepParam, "keep-param", false, "with --keep-quality: route the final model at the parameter chosen out of fold as it is, instead of at the one that routes the training prompts at the chosen cost")
	fs.IntVar(&p.Folds, "folds", 5, "with --keep-quality: cross-fitting folds of the local model over the training split")
	fs.BoolVar(&p.Audit, "audit", false, "with --classifier local: report its calibration, agreement with the heuristic and the labels, and how it tracks label.difficulty; accepts a dataset without outcomes")
	fs.Float64Var(&p.LocalThreshold, "local-threshold", classify.DefaultLocalThreshold, "cascade: the confidence a local answer needs to be used without the LLM; in (0, 1] it is also the bucket rule's target, as in the service (classifier.local.threshold); 0 never asks the LLM, above 1 always does (and --local-target is the bucket target)")
	fs.IntVar(&p.LocalMinSamples, "local-min-samples", 1, "cascade: training examples below which the local model's confidence is 0 (the service's classifier.local.min_samples, default 1000 there)")
	fs.StringVar(&p.LLM, "llm", "label", "cascade: the LLM tier's offline stand-in: label (the dataset's labels, what the demo upstream's classifier answers) or heuristic")
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	reportDir := fs.String("report", "", "write a self-contained HTML report into this directory")
	noStore := fs.Bool("no-store", false, "do not record the run in the database")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p.Policies = policies
	p.TrainSources = trainSources
	// A quality goal chooses a point of the rule the service runs, the
	// gap rule, unless a rule is asked for.
	ruleSet := false
	fs.Visit(func(f *flag.Flag) { ruleSet = ruleSet || f.Name == "local-rule" })
	if p.KeepQuality > 0 && !ruleSet {
		p.LocalRule = eval.LocalRuleGap
	}
	if p.Dataset == "" {
		return usageError{"eval: --dataset is required"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("eval: unexpected argument %q", fs.Arg(0))}
	}
	var analyzer eval.Analyzer = classify.Heuristic{}
	var classifier eval.Classifier
	switch p.Classifier {
	case "heuristic":
		classifier = eval.PromptClassifier{Analyzer: analyzer}
	case "label":
		classifier = eval.LabelClassifier{Analyzer: analyzer}
	case "source":
		classifier = eval.SourceClassifier{Analyzer: analyzer}
	case "local", "cascade":
		// Trained below, once the split is known.
	default:
		return usageError{fmt.Sprintf("eval: --classifier %q: want heuristic, label, source, local or cascade", p.Classifier)}
	}
	if err := checkLocalFlags(p); err != nil {
		return err
	}
	if !(p.Target >= 0 && p.Target <= 1) {
		return usageError{"eval: --target must be in [0, 1]"}
	}

	// The configuration is optional here: without provider keys the
	// embedded one does not load, and eval needs none of it but prices
	// and the static table.
	load := config.Load
	if p.Config != "" {
		load = config.LoadWithoutKeys // eval calls no provider
	}
	cfg, err := load(p.Config, getenv)
	if err != nil {
		if p.Config != "" {
			return err
		}
		cfg = nil
	}
	prices := router.Catalog{}
	if cfg != nil {
		prices = cfg.Catalog()
	}
	if p.Prices != "" {
		file, err := loadPrices(p.Prices)
		if err != nil {
			return err
		}
		for name, m := range file {
			prices[name] = m
		}
	}

	items, err := datasets.Load(p.Dataset)
	if err != nil {
		return fmt.Errorf("load dataset: %w", err)
	}
	if p.Source != "" {
		kept := items[:0]
		for _, it := range items {
			if strings.HasPrefix(it.Source, p.Source) {
				kept = append(kept, it)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("dataset %s: no item's source starts with %q", p.Dataset, p.Source)
		}
		items = kept
	}

	split := splitItems(items, p)
	if !split.outcomes && !p.Audit {
		return fmt.Errorf("dataset %s has no outcomes: only --audit (with --classifier local, trained from --train-dataset) can use it", p.Dataset)
	}
	var (
		local   *localSetup
		cascade *eval.CascadeClassifier
	)
	if p.Classifier == "local" || p.Classifier == "cascade" {
		local, err = trainLocal(ctx, p, split, prices, analyzer)
		if err != nil {
			return err
		}
		if p.KeepQuality > 0 {
			if local.outOfFold, err = crossFit(ctx, p, local, analyzer); err != nil {
				return err
			}
		}
		classifier = local.classifier
		if local.dropped > 0 {
			fmt.Fprintf(stderr, "local model: left out %d training prompts that are also scored\n", local.dropped)
		}
	}
	if p.Classifier == "cascade" {
		cascade, err = newCascade(p, local.classifier, analyzer)
		if err != nil {
			return err
		}
		classifier = cascade
	}
	var (
		res *eval.Result
		mx  *eval.Matrix
	)
	if split.outcomes {
		bar := newProgressBar(stdout)
		prep := eval.PrepareOptions{
			Classifier: classifier,
			Prices:     prices,
			TrainFrac:  p.TrainFrac,
			Seed:       p.Seed,
			Progress:   bar.report("preparing"),
		}
		if local != nil && local.outOfFold != nil {
			prep.TrainPredictor = local.outOfFold
		}
		mx, err = eval.Prepare(items, prep)
		if err != nil {
			bar.done()
			return err
		}
		var static router.Table
		if cfg != nil && coversTable(cfg.Table(), mx.Models) {
			static = cfg.Table()
		}
		bar.report("replaying")(0, 1)
		res, err = mx.Evaluate(eval.EvaluateOptions{
			Policies:   p.Policies,
			Target:     p.Target,
			Static:     static,
			Seed:       p.Seed,
			LocalRule:  p.LocalRule,
			LocalParam: localParam(p),

			KeepQuality: p.KeepQuality,
			Baseline:    p.Baseline,
			Z:           p.Z,
			KeepParam:   p.KeepParam,
		})
		bar.done()
		if err != nil {
			return err
		}
	} else {
		// An audit of label-only prompts: nothing to replay.
		res = &eval.Result{NTest: len(items), Split: "none", Target: p.Target}
	}
	res.Dataset = filepath.Base(p.Dataset)
	if p.Source != "" {
		res.Dataset += " (source " + p.Source + ")"
	}
	res.Classifier = p.Classifier
	if cascade != nil {
		res.Cascade = cascadeResult(p, cascade, split, local.prompts)
	}
	if local != nil {
		if res.Local != nil {
			res.Local.TrainPrompts, res.Local.TrainDataset = local.prompts, local.dataset
		}
		if p.Audit {
			res.Audit = eval.AuditLocal(mx, split.scored(), local.classifier, analyzer)
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	} else if err := eval.WriteText(stdout, res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if *reportDir != "" {
		path, err := writeReport(*reportDir, p, res)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report written to %s\n", path)
	}
	if !*noStore {
		if err := storeEvalRun(ctx, p, res, getenv, stderr); err != nil {
			return err
		}
	}
	return nil
}

func loadPrices(path string) (router.Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open price file: %w", err)
	}
	defer f.Close()
	cat, err := eval.ReadPrices(f)
	if err != nil {
		return nil, fmt.Errorf("price file %s: %w", path, err)
	}
	return cat, nil
}

// coversTable reports whether every model the table names is in models,
// that is, whether the configured table can be replayed on the dataset.
func coversTable(t router.Table, models []string) bool {
	have := map[string]bool{}
	for _, m := range models {
		have[m] = true
	}
	for _, list := range t {
		for _, m := range list {
			if !have[m] {
				return false
			}
		}
	}
	return len(t) > 0
}

// writeReport writes the HTML report and returns its path.
func writeReport(dir string, p evalParams, res *eval.Result) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create report directory: %w", err)
	}
	name := filepath.Base(p.Dataset)
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".jsonl")
	if p.Source != "" {
		name += "-" + strings.Trim(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '-'
		}, strings.ToLower(p.Source)), "-")
	}
	path := filepath.Join(dir, "eval-"+name+".html")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("create report: %w", err)
	}
	if err := eval.WriteHTML(f, res); err != nil {
		f.Close()
		return "", fmt.Errorf("write report: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return path, nil
}

// storeEvalRun records the run in the configured database.
func storeEvalRun(ctx context.Context, p evalParams, res *eval.Result, getenv func(string) string, stderr io.Writer) error {
	params, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode eval params: %w", err)
	}
	result, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode eval result: %w", err)
	}
	st, err := openConfiguredStore(ctx, p.Config, getenv, stderr)
	if err != nil {
		return fmt.Errorf("store eval run (use --no-store to skip): %w", err)
	}
	defer st.Close()
	run, err := st.CreateEvalRun(ctx, router.EvalRun{Dataset: res.Dataset, Params: params, Result: result})
	if err != nil {
		return fmt.Errorf("store eval run (use --no-store to skip): %w", err)
	}
	fmt.Fprintf(stderr, "eval run %d stored\n", run.ID)
	return nil
}

// progressBar draws a one-line progress bar, only when stdout is a
// terminal: piped output and --json stay clean.
type progressBar struct {
	w    io.Writer
	on   bool
	last int
}

func newProgressBar(stdout io.Writer) *progressBar {
	b := &progressBar{w: stdout, last: -1}
	if f, ok := stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.on = true
		}
	}
	return b
}

// report returns a progress callback for one stage.
func (b *progressBar) report(stage string) func(done, total int) {
	return func(done, total int) {
		if !b.on || total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct == b.last {
			return
		}
		b.last = pct
		const width = 30
		n := pct * width / 100
		fmt.Fprintf(b.w, "\r%-10s [%s%s] %3d%%", stage, strings.Repeat("=", n), strings.Repeat(" ", width-n), pct)
	}
}

// done clears the bar's line.
func (b *progressBar) done() {
	if b.on {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
