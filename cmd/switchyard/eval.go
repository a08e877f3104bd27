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

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
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
	// TrainAllSources trains the local model on every source's training
	// split, not only --source's.
	TrainAllSources bool `json:"train_all_sources,omitempty"`
	Audit           bool `json:"audit,omitempty"`
	// The quality goal the local policy's point is chosen for.
	KeepQuality float64 `json:"keep_quality,omitempty"`
	Baseline    string  `json:"baseline,omitempty"`
	Z           float64 `json:"z,omitempty"`
	Folds       int     `json:"folds,omitempty"`
	KeepParam   bool    `json:"keep_param,omitempty"`
	MatchCostOn string  `json:"match_cost_on,omitempty"`
	// The cascade classifier's options.
	LocalThreshold  float64 `json:"local_threshold,omitempty"`
	LocalMinSamples int     `json:"local_min_samples,omitempty"`
	LLM             string  `json:"llm,omitempty"`
}

func evalCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	p, out, err := parseEvalFlags(args, stderr)
	if err != nil {
		return err
	}
	e, err := buildEval(ctx, p, getenv, stderr)
	if err != nil {
		return err
	}
	res, err := e.run(newProgressBar(stdout))
	if err != nil {
		return err
	}
	return out.write(ctx, p, res, getenv, stdout, stderr)
}

// evalOutput says where an eval's result goes.
type evalOutput struct {
	json      bool   // print JSON instead of text
	reportDir string // write the HTML report here, if set
	noStore   bool   // do not record the run in the database
}

// parseEvalFlags reads eval's command line and checks what it can
// without the dataset.
func parseEvalFlags(args []string, stderr io.Writer) (evalParams, evalOutput, error) {
	fs := newFlagSet("eval", stderr)
	var (
		p                      evalParams
		out                    evalOutput
		policies, trainSources stringList
	)
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
	fs.BoolVar(&p.TrainAllSources, "train-all-sources", false, "with --source and --classifier local or cascade: train the local model on the training split of every source of the dataset, not only --source's (each source a topic, as ever); only --source's test split is scored")
	fs.Float64Var(&p.KeepQuality, "keep-quality", 0, "with --classifier local: choose the local policy's point on the training split (out-of-fold predictions) to keep this share of --baseline's quality at the least cost, and report the test split at that point as the learned policy; the rule is gap unless --local-rule says otherwise")
	fs.StringVar(&p.Baseline, "baseline", "", "with --keep-quality: the baseline model (default: the strongest on the training split)")
	fs.Float64Var(&p.Z, "z", learner.DefaultZ, "with --keep-quality: the one-sided confidence multiplier on the standard error of the paired quality difference")
	fs.BoolVar(&p.KeepParam, "keep-param", false, "with --keep-quality: route the final model at the parameter chosen out of fold as it is, instead of at the one that routes the training prompts at the chosen cost")
	fs.StringVar(&p.MatchCostOn, "match-cost-on", matchOnCalibration, "with --keep-quality: the training prompts the final model is matched to the chosen point's cost on: calibration (its calibration slice, the tenth of them its weights never fitted, which it predicts as it predicts new prompts) or training (all of them, which it is surer of: new prompts then cost more than chosen)")
	fs.IntVar(&p.Folds, "folds", 5, "with --keep-quality: cross-fitting folds of the local model over the training split")
	fs.BoolVar(&p.Audit, "audit", false, "with --classifier local: report its calibration, agreement with the heuristic and the labels, and how it tracks label.difficulty; accepts a dataset without outcomes")
	fs.Float64Var(&p.LocalThreshold, "local-threshold", classify.DefaultLocalThreshold, "cascade: the confidence a local answer needs to be used without the LLM; in (0, 1] it is also the bucket rule's target, as in the service (classifier.local.threshold); 0 never asks the LLM, above 1 always does (and --local-target is the bucket target)")
	fs.IntVar(&p.LocalMinSamples, "local-min-samples", 1, "cascade: training examples below which the local model's confidence is 0 (the service's classifier.local.min_samples, default 1000 there)")
	fs.StringVar(&p.LLM, "llm", "label", "cascade: the LLM tier's offline stand-in: label (the dataset's labels, what the demo upstream's classifier answers) or heuristic")
	fs.BoolVar(&out.json, "json", false, "print the result as one JSON object")
	fs.StringVar(&out.reportDir, "report", "", "write a self-contained HTML report into this directory")
	fs.BoolVar(&out.noStore, "no-store", false, "do not record the run in the database")
	if err := parseFlags(fs, args); err != nil {
		return p, out, err
	}
	p.Policies = policies
	p.TrainSources = trainSources
	// A quality goal chooses a point of the rule the service runs, the
	// gap rule, unless a rule is asked for.
	ruleSet, matchSet := false, false
	fs.Visit(func(f *flag.Flag) {
		ruleSet = ruleSet || f.Name == "local-rule"
		matchSet = matchSet || f.Name == "match-cost-on"
	})
	if p.KeepParam && matchSet {
		return p, out, usageError{"eval: --keep-param matches no cost, which --match-cost-on says where to match: drop one"}
	}
	if p.KeepQuality > 0 && !ruleSet {
		p.LocalRule = eval.LocalRuleGap
	}
	if p.Dataset == "" {
		return p, out, usageError{"eval: --dataset is required"}
	}
	if fs.NArg() > 0 {
		return p, out, usageError{fmt.Sprintf("eval: unexpected argument %q", fs.Arg(0))}
	}
	switch p.Classifier {
	case "heuristic", "label", "source", "local", "cascade":
	default:
		return p, out, usageError{fmt.Sprintf("eval: --classifier %q: want heuristic, label, source, local or cascade", p.Classifier)}
	}
	if err := checkLocalFlags(p); err != nil {
		return p, out, err
	}
	if !(p.Target >= 0 && p.Target <= 1) {
		return p, out, usageError{"eval: --target must be in [0, 1]"}
	}
	return p, out, nil
}

// write prints res as text or JSON, writes its HTML report and stores
// the run, as o says.
func (o evalOutput) write(ctx context.Context, p evalParams, res *eval.Result, getenv func(string) string, stdout, stderr io.Writer) error {
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("write result: %w", err)
		}
	} else if err := eval.WriteText(stdout, res); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if o.reportDir != "" {
		path, err := writeReport(o.reportDir, p, res)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "report written to %s\n", path)
	}
	if !o.noStore {
		if err := storeEvalRun(ctx, p, res, getenv, stderr); err != nil {
			return err
		}
	}
	return nil
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
