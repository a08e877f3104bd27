package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/router"
)

// evalSplit is the dataset's items placed as eval.Prepare places them.
type evalSplit struct {
	train, test []*datasets.Item
	outcomes    bool // some item has outcomes
}

func splitItems(items []datasets.Item, p evalParams) evalSplit {
	var s evalSplit
	fixed := datasets.FixedSplit(items)
	for i := range items {
		it := &items[i]
		s.outcomes = s.outcomes || len(it.Outcomes) > 0
		if datasets.SplitOf(it, fixed, p.TrainFrac, p.Seed) == datasets.SplitTrain {
			s.train = append(s.train, it)
		} else {
			s.test = append(s.test, it)
		}
	}
	return s
}

// scored is what the local classifier is judged on: the test split's
// prompts with outcomes, or, for a dataset without outcomes (an audit),
// every prompt.
func (s evalSplit) scored() []*datasets.Item {
	if !s.outcomes {
		return append(append([]*datasets.Item(nil), s.train...), s.test...)
	}
	var out []*datasets.Item
	for _, it := range s.test {
		if len(it.Outcomes) > 0 {
			out = append(out, it)
		}
	}
	return out
}

// localSetup is a trained local classifier and what it was trained on.
type localSetup struct {
	classifier *eval.LocalClassifier
	prompts    int
	dataset    string
	dropped    int // training prompts dropped because a scored prompt is the same
	kept       []*datasets.Item
	order      []string
	// outOfFold predicts the training prompts by cross-fitting, with
	// --keep-quality only.
	outOfFold *foldPredictor
}

// trainLocal trains the local model on the training split (or on
// --train-dataset), leaving out every prompt that is also scored, so
// that a duplicated prompt never lands on both sides.
func trainLocal(ctx context.Context, p evalParams, s evalSplit, prices router.Catalog, analyzer eval.Analyzer) (*localSetup, error) {
	pool := s.train
	setup := &localSetup{}
	if p.TrainDataset != "" {
		items, err := datasets.Load(p.TrainDataset)
		if err != nil {
			return nil, fmt.Errorf("load training dataset: %w", err)
		}
		pool = nil
		for i := range items {
			pool = append(pool, &items[i])
		}
		setup.dataset = filepath.Base(p.TrainDataset)
	}
	scored := map[string]bool{}
	for _, it := range s.scored() {
		scored[router.NormalizePrompt(it.Prompt)] = true
	}
	var kept []*datasets.Item
	for _, it := range pool {
		if len(it.Outcomes) == 0 || !hasAnyPrefix(it.Source, p.TrainSources) {
			continue
		}
		if scored[router.NormalizePrompt(it.Prompt)] {
			setup.dropped++
			continue
		}
		kept = append(kept, it)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("eval: no training prompt with outcomes for the local model (see --train-dataset, --train-source)")
	}
	order, err := eval.ModelOrder(kept, prices, analyzer)
	if err != nil {
		return nil, err
	}
	model, err := eval.TrainLocal(ctx, kept, order, eval.LocalTrainOptions{Topics: p.LocalTopics, Seed: p.Seed})
	if err != nil {
		return nil, err
	}
	lc, err := eval.NewLocalClassifier(model, order, p.LocalTarget, analyzer)
	if err != nil {
		return nil, err
	}
	setup.classifier, setup.prompts = lc, len(kept)
	setup.kept, setup.order = kept, order
	return setup, nil
}

// foldPredictor holds each training prompt's predictions from the local
// model trained on the other folds, by normalized prompt.
type foldPredictor struct {
	pred map[string][]float64
	none []float64 // NaN for each model: a prompt no fold predicted
}

func (f *foldPredictor) Probabilities(it *datasets.Item) []float64 {
	if p, ok := f.pred[router.NormalizePrompt(it.Prompt)]; ok {
		return p
	}
	return f.none
}

// crossFit trains the local model p.Folds times, each time leaving out
// one fold of the training prompts and predicting it, so that every
// training prompt gets predictions from a model that never saw it: what
// an operating point must be chosen on. Folds go by normalized prompt, so
// duplicates share one.
func crossFit(ctx context.Context, p evalParams, s *localSetup, analyzer eval.Analyzer) (*foldPredictor, error) {
	fold := func(it *datasets.Item) int {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d\x00%s", p.Seed, router.NormalizePrompt(it.Prompt))
		return int(h.Sum64() % uint64(p.Folds))
	}
	out := &foldPredictor{pred: map[string][]float64{}}
	for range s.order {
		out.none = append(out.none, math.NaN())
	}
	for f := range p.Folds {
		var train, held []*datasets.Item
		for _, it := range s.kept {
			if fold(it) == f {
				held = append(held, it)
			} else {
				train = append(train, it)
			}
		}
		if len(train) == 0 || len(held) == 0 {
			return nil, fmt.Errorf("eval: --folds %d: fold %d of %d training prompts is empty or everything", p.Folds, f, len(s.kept))
		}
		model, err := eval.TrainLocal(ctx, train, s.order, eval.LocalTrainOptions{Topics: p.LocalTopics, Seed: p.Seed})
		if err != nil {
			return nil, fmt.Errorf("eval: cross-fitting fold %d: %w", f, err)
		}
		lc, err := eval.NewLocalClassifier(model, s.order, p.LocalTarget, analyzer)
		if err != nil {
			return nil, err
		}
		for _, it := range held {
			out.pred[router.NormalizePrompt(it.Prompt)] = slices.Clone(lc.Probabilities(it))
		}
	}
	return out, nil
}

// hasAnyPrefix reports whether s starts with one of prefixes, or
// prefixes is empty.
func hasAnyPrefix(s string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, pre := range prefixes {
		if strings.HasPrefix(s, pre) {
			return true
		}
	}
	return false
}

// checkLocalFlags validates the local classifier's and the audit's flags.
func checkLocalFlags(p evalParams) error {
	local := p.Classifier == "local"
	trained := local || p.Classifier == "cascade"
	switch {
	case p.Audit && !local:
		return usageError{"eval: --audit needs --classifier local"}
	case !trained && (p.TrainDataset != "" || len(p.TrainSources) > 0):
		return usageError{"eval: --train-dataset and --train-source need --classifier local or cascade"}
	case p.LLM != "label" && p.LLM != "heuristic":
		return usageError{fmt.Sprintf("eval: --llm %q: want label or heuristic", p.LLM)}
	case p.LocalMinSamples < 1:
		return usageError{"eval: --local-min-samples must be at least 1"}
	case math.IsNaN(p.LocalThreshold):
		return usageError{"eval: --local-threshold must be a number"}
	case !(p.LocalTarget > 0 && p.LocalTarget <= 1):
		return usageError{"eval: --local-target must be in (0, 1]"}
	case p.LocalRule != eval.LocalRuleTarget && p.LocalRule != eval.LocalRuleGap:
		return usageError{fmt.Sprintf("eval: --local-rule %q: want target or gap", p.LocalRule)}
	case !(p.LocalGap >= 0 && p.LocalGap <= 1):
		return usageError{"eval: --local-gap must be in [0, 1]"}
	case p.KeepQuality != 0 && !local:
		return usageError{"eval: --keep-quality needs --classifier local"}
	case !(p.KeepQuality >= 0 && p.KeepQuality <= 1.5):
		return usageError{"eval: --keep-quality must be in (0, 1.5]"}
	case p.KeepQuality > 0 && p.TrainDataset != "":
		return usageError{"eval: --keep-quality chooses its point on the training split: drop --train-dataset"}
	case p.Baseline != "" && p.KeepQuality == 0:
		return usageError{"eval: --baseline needs --keep-quality"}
	case !(p.Z > 0) || math.IsInf(p.Z, 0):
		return usageError{"eval: --z must be a positive number"}
	case p.Folds < 2:
		return usageError{"eval: --folds must be at least 2"}
	}
	return nil
}

// localParam is the local policy's setting for its rule.
func localParam(p evalParams) float64 {
	if p.LocalRule == eval.LocalRuleGap {
		return p.LocalGap
	}
	return p.LocalTarget
}
