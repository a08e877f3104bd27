package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

func learnCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("learn", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded configuration)")
	dryRun := fs.Bool("dry-run", false, "fit and gate, but write nothing")
	asJSON := fs.Bool("json", false, "print the run's report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("learn: unexpected argument %q", fs.Arg(0))}
	}
	// The learner calls no provider: keys are not required.
	cfg, err := config.LoadWithoutKeys(*cfgPath, getenv)
	if err != nil {
		return err
	}
	// Only warnings: the command's output is its report, not a log.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	job, err := newLearnerJob(cfg, st, log, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Learner.Timeout)
	defer cancel()
	rep, err := job.Run(ctx, *dryRun)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeLearnReport(stdout, rep)
}

// newLearnerJob builds the learner of cfg on st; onPromote (may be nil)
// is told of a promotion.
func newLearnerJob(cfg *config.Config, st *store.Store, log *slog.Logger, onPromote func(router.Version)) (*learner.Job, error) {
	l := cfg.Learner
	opts := learner.JobOptions{
		Outcomes:  st,
		Versions:  st,
		Lock:      st,
		Window:    l.Window,
		Fit:       fitOptions(cfg),
		Gate:      gateOptions(l),
		Models:    cfg.Catalog(),
		OnPromote: onPromote,
		Logger:    log,
	}
	if l.Dataset != "" {
		opts.Labeled = labeledSet(l.Dataset, cfg.Catalog())
	}
	if l.KeepPrompts {
		opts.Local = learner.LocalOptions{Store: st, MinSamples: cfg.Classifier.Local.MinSamples}
	}
	job, err := learner.NewJob(opts)
	if err != nil {
		return nil, fmt.Errorf("learner: %w", err)
	}
	return job, nil
}

// labeledSet loads the gate's labeled dataset at each run (it may have
// been refreshed), keeping the configured models' outcomes: a table
// routes only to those. Prompts are bucketed by the dataset's labels
// where it has them, else by the heuristic classifier.
func labeledSet(path string, models router.Catalog) func(context.Context) (learner.LabeledSet, error) {
	return func(context.Context) (learner.LabeledSet, error) {
		items, err := datasets.Load(path)
		if err != nil {
			return nil, err
		}
		for i := range items {
			for m := range items[i].Outcomes {
				if _, ok := models[m]; !ok {
					delete(items[i].Outcomes, m)
				}
			}
		}
		mx, err := eval.Prepare(items, eval.PrepareOptions{
			Classifier: eval.LabelClassifier{Analyzer: classify.Heuristic{}},
			Prices:     models,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return eval.GateSet{Matrix: mx}, nil
	}
}

// runLearner is one scheduled run inside serve: its outcome goes to the
// log, since nobody waits for it.
func runLearner(ctx context.Context, job *learnerRuns, log *slog.Logger) {
	rep, err := job.Run(ctx, false)
	if errors.Is(err, errLearnerHalted) {
		log.Info("learner run stopped: serve is shutting down; the next run redoes it", "err", err)
		return
	}
	if err != nil {
		log.Error("learner run", "err", err)
		return
	}
	attrs := []any{"status", rep.Status, "reason", rep.Reason, "observations", rep.Observations, "requests", rep.Requests, "active", rep.Active.ID}
	if rep.Candidate != nil && rep.Candidate.ID != 0 {
		attrs = append(attrs, "candidate", rep.Candidate.ID)
	}
	log.Info("learner run", attrs...)
}

// writeLearnReport prints a run for people: what happened, the gate's
// verdict bucket by bucket, and the table diff.
func writeLearnReport(w io.Writer, rep learner.Report) error {
	what := map[string]string{
		learner.RunPromoted:  "promoted",
		learner.RunKept:      "kept as candidate",
		learner.RunUnchanged: "nothing to change",
		learner.RunNoData:    "nothing to learn from",
		learner.RunLocked:    "skipped: another learner is running",
	}[rep.Status]
	if rep.DryRun {
		what = "dry run, nothing written: would be " + what
	}
	fmt.Fprintf(w, "learner: %s\n", what)
	if rep.Status == learner.RunLocked {
		return nil
	}
	fmt.Fprintf(w, "window: %s to %s, %d outcomes, %d routed requests\n",
		rep.WindowFrom.Format("2006-01-02 15:04"), rep.WindowTo.Format("2006-01-02 15:04 MST"), rep.Observations, rep.Requests)
	if c := rep.Candidate; c != nil && c.ID != 0 {
		fmt.Fprintf(w, "version: v%d (%s), parent v%d\n", c.ID, c.Status, c.ParentID)
	}
	fmt.Fprintf(w, "reason: %s\n", rep.Reason)
	if p := rep.Policy; p != nil {
		fmt.Fprintf(w, "per-prompt policy: %s: %s\n", p.Status, p.Reason)
		if p.Policy != nil {
			fmt.Fprintf(w, "  models %v, point %s\n", p.Policy.Models, p.Policy.Point)
		}
	}
	if v := rep.Verdict; v != nil {
		how := "in sample"
		if v.HeldOutFolds > 0 {
			how = fmt.Sprintf("candidate held out in %d folds: each request scored at the choice fitted without it", v.HeldOutFolds)
		}
		fmt.Fprintf(w, "\ngate (logged requests, inverse-propensity weighted; %s):\n", how)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  bucket\trequests\tactive\tcandidate\tquality\tcost/success\tcounts")
		for _, b := range v.Buckets {
			counts := "-"
			switch {
			case b.Drops:
				counts = "blocks: quality drops"
			case b.Blocks:
				counts = "blocks: margin too wide"
			case b.Counts:
				counts = "yes"
			case b.Unstable:
				counts = "unstable: folds chose " + strings.Join(b.FoldChoices(), ", ")
			case b.ActiveModel != b.CandidateModel:
				counts = "too few samples"
			}
			quality := fmt.Sprintf("%.3f -> %.3f", b.Active.Quality, b.Candidate.Quality)
			if b.Counts {
				// The gate's margin beside every change it judged.
				quality += fmt.Sprintf(" ±%.3f", b.Margin)
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s (n=%d)\t%s (n=%d)\t%s\t%s -> %s\t%s\n", b.Bucket, b.Requests,
				b.ActiveModel, b.Active.Samples, b.CandidateModel, b.Candidate.Samples,
				quality, usdMicros(b.Active.CostPerSuccess), usdMicros(b.Candidate.CostPerSuccess), counts)
		}
		fmt.Fprintf(tw, "  total\t\t\t\t%.3f -> %.3f\t%s -> %s\t\n", v.Active.Quality, v.Candidate.Quality,
			usdMicros(v.Active.CostPerSuccess), usdMicros(v.Candidate.CostPerSuccess))
		if err := tw.Flush(); err != nil {
			return err
		}
		if l := v.Labeled; l != nil {
			fmt.Fprintf(w, "labeled dataset (%d prompts): quality %.3f -> %.3f, cost per success %s -> %s\n", l.Active.Samples,
				l.Active.Quality, l.Candidate.Quality, usdMicros(l.Active.CostPerSuccess), usdMicros(l.Candidate.CostPerSuccess))
		}
	}
	if rep.Diff != nil {
		fmt.Fprintln(w)
		return rep.Diff.WriteText(w)
	}
	return nil
}

func usdMicros(m float64) string {
	if m == 0 {
		return "-"
	}
	return fmt.Sprintf("$%.6f", m/1e6)
}

// fitOptions are the configured goal: learner.target, when set, is an
// absolute target that replaces routing.keep_quality's relative one.
func fitOptions(cfg *config.Config) learner.Options {
	if cfg.Learner.Target > 0 {
		return learner.Options{Target: cfg.Learner.Target}
	}
	return learner.Options{KeepQuality: cfg.Routing.KeepQuality, Baseline: cfg.Baseline}
}

// gateOptions are the configured gate settings over the defaults.
func gateOptions(l config.Learner) learner.GateOptions {
	g := learner.DefaultGateOptions()
	g.MinSamples, g.Tolerance = l.MinSamples, l.Tolerance
	return g
}
