package eval

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// TrainingPool returns the items of pool the local model may be trained
// on: those with outcomes, whose source starts with one of sources (any
// source when sources is empty), and whose prompt (normalised) is not
// also scored, so that a duplicated prompt never lands on both sides.
// dropped counts the prompts left out for being scored.
func TrainingPool(pool, scored []*datasets.Item, sources []string) (kept []*datasets.Item, dropped int) {
	isScored := map[string]bool{}
	for _, it := range scored {
		isScored[router.NormalizePrompt(it.Prompt)] = true
	}
	for _, it := range pool {
		if len(it.Outcomes) == 0 || !hasAnyPrefix(it.Source, sources) {
			continue
		}
		if isScored[router.NormalizePrompt(it.Prompt)] {
			dropped++
			continue
		}
		kept = append(kept, it)
	}
	return kept, dropped
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

// FoldPredictor holds each training prompt's predictions from the local
// model trained on the other folds, by normalized prompt: what
// PrepareOptions.TrainPredictor takes.
type FoldPredictor struct {
	pred map[string][]float64
	none []float64 // NaN for each model: a prompt no fold predicted
}

// Probabilities returns it's out-of-fold predictions, NaN for each model
// when no fold predicted it.
func (f *FoldPredictor) Probabilities(it *datasets.Item) []float64 {
	if p, ok := f.pred[router.NormalizePrompt(it.Prompt)]; ok {
		return p
	}
	return f.none
}

// CrossFitOptions say how CrossFit trains and predicts.
type CrossFitOptions struct {
	Folds  int // at least 2
	Seed   uint64
	Train  LocalTrainOptions
	Target float64 // the local classifier's bucket target
	// Analyzer answers what the local model does not predict.
	Analyzer Analyzer
}

// CrossFit trains the local model o.Folds times on items, each time
// leaving out one fold and predicting it, so that every item gets
// predictions from a model that never saw it: what an operating point
// must be chosen on. Folds go by normalized prompt, so duplicates share
// one.
func CrossFit(ctx context.Context, items []*datasets.Item, order []string, o CrossFitOptions) (*FoldPredictor, error) {
	if o.Folds < 2 {
		return nil, fmt.Errorf("eval: cross-fitting needs at least 2 folds, not %d", o.Folds)
	}
	fold := func(it *datasets.Item) int {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d\x00%s", o.Seed, router.NormalizePrompt(it.Prompt))
		return int(h.Sum64() % uint64(o.Folds))
	}
	out := &FoldPredictor{pred: map[string][]float64{}}
	for range order {
		out.none = append(out.none, math.NaN())
	}
	for f := range o.Folds {
		var train, held []*datasets.Item
		for _, it := range items {
			if fold(it) == f {
				held = append(held, it)
			} else {
				train = append(train, it)
			}
		}
		if len(train) == 0 || len(held) == 0 {
			return nil, fmt.Errorf("eval: --folds %d: fold %d of %d training prompts is empty or everything", o.Folds, f, len(items))
		}
		model, err := TrainLocal(ctx, train, order, o.Train)
		if err != nil {
			return nil, fmt.Errorf("eval: cross-fitting fold %d: %w", f, err)
		}
		lc, err := NewLocalClassifier(model, order, o.Target, o.Analyzer)
		if err != nil {
			return nil, err
		}
		for _, it := range held {
			out.pred[router.NormalizePrompt(it.Prompt)] = slices.Clone(lc.Probabilities(it))
		}
	}
	return out, nil
}
