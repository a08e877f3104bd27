package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/router"
)

// evalSetup is an eval's pieces built from its parameters: the prices
// and the static table, the dataset placed in its split, and the
// classifier (for local and cascade, trained on the training split).
// run replays it.
type evalSetup struct {
	p          evalParams
	cfg        *config.Config // nil when none loads
	prices     router.Catalog
	items      []datasets.Item
	split      evalSplit
	analyzer   eval.Analyzer
	classifier eval.Classifier
	local      *localSetup
	cascade    *eval.CascadeClassifier
}

// buildEval loads the configuration, prices and dataset of p and makes
// its classifier; training notes go to stderr.
func buildEval(ctx context.Context, p evalParams, getenv func(string) string, stderr io.Writer) (*evalSetup, error) {
	e := &evalSetup{p: p, analyzer: classify.Heuristic{}}
	switch p.Classifier {
	case "heuristic":
		e.classifier = eval.PromptClassifier{Analyzer: e.analyzer}
	case "label":
		e.classifier = eval.LabelClassifier{Analyzer: e.analyzer}
	case "source":
		e.classifier = eval.SourceClassifier{Analyzer: e.analyzer}
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
			return nil, err
		}
		cfg = nil
	}
	e.cfg = cfg
	e.prices = router.Catalog{}
	if cfg != nil {
		e.prices = cfg.Catalog()
	}
	if p.Prices != "" {
		file, err := loadPrices(p.Prices)
		if err != nil {
			return nil, err
		}
		for name, m := range file {
			e.prices[name] = m
		}
	}

	items, err := datasets.Load(p.Dataset)
	if err != nil {
		return nil, fmt.Errorf("load dataset: %w", err)
	}
	// --train-all-sources trains on the training split of every source;
	// the filter below reuses items' array, so that split is taken from
	// a copy.
	var wide []*datasets.Item
	if p.TrainAllSources {
		wide = splitItems(slices.Clone(items), p).train
	}
	if p.Source != "" {
		kept := items[:0]
		for _, it := range items {
			if strings.HasPrefix(it.Source, p.Source) {
				kept = append(kept, it)
			}
		}
		if len(kept) == 0 {
			return nil, fmt.Errorf("dataset %s: no item's source starts with %q", p.Dataset, p.Source)
		}
		items = kept
	}
	e.items = items

	e.split = splitItems(items, p)
	e.split.wide = wide
	if !e.split.outcomes && !p.Audit {
		return nil, fmt.Errorf("dataset %s has no outcomes: only --audit (with --classifier local, trained from --train-dataset) can use it", p.Dataset)
	}
	if p.Classifier == "local" || p.Classifier == "cascade" {
		e.local, err = trainLocal(ctx, p, e.split, e.prices, e.analyzer)
		if err != nil {
			return nil, err
		}
		if p.KeepQuality > 0 {
			e.local.outOfFold, err = eval.CrossFit(ctx, e.local.kept, e.local.order, eval.CrossFitOptions{
				Folds: p.Folds, Seed: p.Seed, Target: p.LocalTarget, Analyzer: e.analyzer,
				Train: e.local.train,
			})
			if err != nil {
				return nil, err
			}
			if p.MatchCostOn == matchOnCalibration && !p.KeepParam {
				calib, err := eval.CalibrationItems(e.local.kept, e.local.order, e.local.train)
				if err != nil {
					return nil, err
				}
				e.local.matchOn = map[string]bool{}
				for _, it := range calib {
					e.local.matchOn[it.ID] = true
				}
			}
		}
		e.classifier = e.local.classifier
		if e.local.dropped > 0 {
			fmt.Fprintf(stderr, "local model: left out %d training prompts that are also scored\n", e.local.dropped)
		}
	}
	if p.Classifier == "cascade" {
		e.cascade, err = newCascade(p, e.local.classifier, e.analyzer)
		if err != nil {
			return nil, err
		}
		e.classifier = e.cascade
	}
	return e, nil
}

// run replays the dataset through the policies (when it has outcomes)
// and fills in the result's account of the dataset and the classifier.
func (e *evalSetup) run(bar *progressBar) (*eval.Result, error) {
	p, local := e.p, e.local
	var (
		res *eval.Result
		mx  *eval.Matrix
		err error
	)
	if e.split.outcomes {
		prep := eval.PrepareOptions{
			Classifier: e.classifier,
			Prices:     e.prices,
			TrainFrac:  p.TrainFrac,
			Seed:       p.Seed,
			Progress:   bar.report("preparing"),
		}
		if local != nil && local.outOfFold != nil {
			prep.TrainPredictor = local.outOfFold
		}
		if local != nil && local.matchOn != nil {
			prep.MatchOn = func(it *datasets.Item) bool { return local.matchOn[it.ID] }
		}
		mx, err = eval.Prepare(e.items, prep)
		if err != nil {
			bar.done()
			return nil, err
		}
		var static router.Table
		if e.cfg != nil && coversTable(e.cfg.Table(), mx.Models) {
			static = e.cfg.Table()
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
			return nil, err
		}
	} else {
		// An audit of label-only prompts: nothing to replay.
		res = &eval.Result{NTest: len(e.items), Split: "none", Target: p.Target}
	}
	res.Dataset = filepath.Base(p.Dataset)
	if p.Source != "" {
		res.Dataset += " (source " + p.Source + ")"
	}
	res.Classifier = p.Classifier
	if e.cascade != nil {
		res.Cascade = cascadeResult(p, e.cascade, e.split, local.prompts)
	}
	if local != nil {
		if res.Local != nil {
			res.Local.TrainPrompts, res.Local.TrainDataset = local.prompts, local.dataset
		}
		if p.Audit {
			res.Audit = eval.AuditLocal(mx, e.split.scored(), local.classifier, e.analyzer)
		}
	}
	return res, nil
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
