package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/router"
)

// evalSplit is the dataset's items placed as eval.Prepare places them.
type evalSplit struct {
	train, test []*datasets.Item
	outcomes    bool // some item has outcomes
	// wide is the training split of every source of the dataset, before
	// --source filtered it: the local model's pool with
	// --train-all-sources, nil without.
	wide []*datasets.Item
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
	train      eval.LocalTrainOptions // what the model was trained with
	// outOfFold predicts the training prompts by cross-fitting, with
	// --keep-quality only.
	outOfFold *eval.FoldPredictor
	// matchOn holds the ids of the model's calibration slice, with
	// --match-cost-on calibration only.
	matchOn map[string]bool
}

// trainLocal trains the local model on the training split (of every
// source with --train-all-sources, or on --train-dataset), leaving out
// every prompt that is also scored, so that a duplicated prompt never
// lands on both sides.
func trainLocal(ctx context.Context, p evalParams, s evalSplit, prices router.Catalog, analyzer eval.Analyzer) (*localSetup, error) {
	pool := s.train
	if s.wide != nil {
		pool = s.wide
	}
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
	kept, dropped := eval.TrainingPool(pool, s.scored(), p.TrainSources)
	setup.dropped = dropped
	if len(kept) == 0 {
		return nil, fmt.Errorf("eval: no training prompt with outcomes for the local model (see --train-dataset, --train-source)")
	}
	order, err := eval.ModelOrder(kept, prices, analyzer)
	if err != nil {
		return nil, err
	}
	setup.train = eval.LocalTrainOptions{Topics: p.LocalTopics, Seed: p.Seed}
	model, err := eval.TrainLocal(ctx, kept, order, setup.train)
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

// checkLocalFlags validates the local classifier's and the audit's flags.
func checkLocalFlags(p evalParams) error {
	local := p.Classifier == "local"
	trained := local || p.Classifier == "cascade"
	switch {
	case p.Audit && !local:
		return usageError{"eval: --audit needs --classifier local"}
	case !trained && (p.TrainDataset != "" || len(p.TrainSources) > 0):
		return usageError{"eval: --train-dataset and --train-source need --classifier local or cascade"}
	case p.TrainAllSources && (!trained || p.Source == "" || p.TrainDataset != ""):
		return usageError{"eval: --train-all-sources needs --source, --classifier local or cascade, and no --train-dataset"}
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
	case p.MatchCostOn != matchOnTraining && p.MatchCostOn != matchOnCalibration:
		return usageError{fmt.Sprintf("eval: --match-cost-on %q: want %s or %s", p.MatchCostOn, matchOnTraining, matchOnCalibration)}
	}
	return nil
}

// The --match-cost-on values: which training prompts the final local
// model is matched to the chosen point's cost on.
const (
	matchOnTraining    = "training"
	matchOnCalibration = "calibration"
)

// localParam is the local policy's setting for its rule.
func localParam(p evalParams) float64 {
	if p.LocalRule == eval.LocalRuleGap {
		return p.LocalGap
	}
	return p.LocalTarget
}
