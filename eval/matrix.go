package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// PrepareOptions say how a dataset becomes a Matrix.
type PrepareOptions struct {
	// Classifier buckets each prompt; required.
	Classifier Classifier
	// Prices price the calls whose cost the dataset does not record. A
	// model that needs a price and has none is an error.
	Prices router.Catalog
	// TrainFrac is the share of prompts trained on when the dataset does
	// not fix a split (it fixes one when it has both "train" and "test"
	// items); Seed makes that split reproducible.
	TrainFrac float64
	Seed      uint64
	// TrainPredictor, when set with a Predictor classifier, gives the
	// training prompts' out-of-fold predictions (cross-fitting), which an
	// operating point is chosen on (Matrix.OutOfFold). Its models are the
	// classifier's Order.
	TrainPredictor interface {
		Probabilities(it *datasets.Item) []float64
	}
	// MatchOn, when set, marks the training prompts an operating point
	// chosen out of fold is carried over to the final model on
	// (Matrix.MatchRows): those it predicts as it predicts new prompts,
	// its calibration slice (CalibrationItems). Nil: every training
	// prompt.
	MatchOn func(it *datasets.Item) bool
	// Progress, when set, is told how many items are prepared so far.
	Progress func(done, total int)
}

// Split modes reported in Result.Split.
const (
	SplitDataset  = "dataset"
	SplitFraction = "fraction"
)

// Matrix is a dataset ready to replay: for prompt i and model m,
// Quality[i*M+m] and Cost[i*M+m] (USD), NaN quality where the dataset has
// no outcome. Buckets are interned: prompt i is in Buckets[Bucket[i]].
type Matrix struct {
	Models  []string
	Quality []float64
	Cost    []float64
	Bucket  []int32
	Buckets []router.Analysis
	Train   []int32 // prompt indices trained on
	Test    []int32 // prompt indices scored
	Split   string  // SplitDataset or SplitFraction
	// Skipped counts items without outcomes (label-only lines).
	Skipped int
	// With a Predictor classifier: Pred[i*K+k] is prompt i's predicted
	// success of model PredModels[k] (K of them, cheapest to strongest),
	// and PredCols[k] is that model's column, -1 when the dataset lacks
	// it. Nil otherwise.
	Pred       []float64
	PredModels []string
	PredCols   []int
	// OutOfFold, laid out as Pred, holds the training rows' predictions
	// from models not trained on them (PrepareOptions.TrainPredictor),
	// NaN on test rows; nil without a TrainPredictor.
	OutOfFold []float64
	// MatchRows are the training rows PrepareOptions.MatchOn marked; nil
	// means every training row.
	MatchRows []int32
}

// progressEvery is how many items pass between progress reports.
const progressEvery = 1024

// Prepare classifies, prices and splits items.
func Prepare(items []datasets.Item, opts PrepareOptions) (*Matrix, error) {
	if opts.Classifier == nil {
		return nil, errors.New("prepare dataset: no classifier")
	}
	if !(opts.TrainFrac >= 0 && opts.TrainFrac <= 1) {
		return nil, fmt.Errorf("prepare dataset: train fraction %g: want a value in [0, 1]", opts.TrainFrac)
	}
	mx := &Matrix{Models: datasets.Models(items), Split: SplitFraction}
	M := len(mx.Models)
	if M == 0 {
		return nil, errors.New("prepare dataset: no model outcomes")
	}
	pred, _ := opts.Classifier.(Predictor)
	if pred != nil {
		mx.PredModels = slices.Clone(pred.Order())
		for _, name := range mx.PredModels {
			mx.PredCols = append(mx.PredCols, mx.modelIndex(name))
		}
	}
	fixed := datasets.FixedSplit(items)
	if fixed {
		mx.Split = SplitDataset
	}

	type bucketKey struct {
		c   router.Complexity
		cat string
	}
	bucketIdx := map[bucketKey]int32{}
	mx.Quality = make([]float64, 0, len(items)*M)
	mx.Cost = make([]float64, 0, len(items)*M)
	for n := range items {
		it := &items[n]
		if opts.Progress != nil && n%progressEvery == 0 {
			opts.Progress(n, len(items))
		}
		if len(it.Outcomes) == 0 {
			mx.Skipped++
			continue
		}
		a := opts.Classifier.Classify(it)
		key := bucketKey{a.Complexity, a.Category}
		b, ok := bucketIdx[key]
		if !ok {
			b = int32(len(mx.Buckets))
			bucketIdx[key] = b
			mx.Buckets = append(mx.Buckets, router.Analysis{Complexity: a.Complexity, Category: a.Category})
		}
		row := int32(len(mx.Bucket))
		mx.Bucket = append(mx.Bucket, b)
		train := datasets.SplitOf(it, fixed, opts.TrainFrac, opts.Seed) == datasets.SplitTrain
		if pred != nil {
			mx.Pred = append(mx.Pred, pred.Probabilities(it)...)
		}
		if pred != nil && opts.TrainPredictor != nil {
			if train {
				mx.OutOfFold = append(mx.OutOfFold, opts.TrainPredictor.Probabilities(it)...)
			} else {
				for range mx.PredModels {
					mx.OutOfFold = append(mx.OutOfFold, math.NaN())
				}
			}
		}
		base := len(mx.Quality)
		for range M {
			mx.Quality = append(mx.Quality, math.NaN())
			mx.Cost = append(mx.Cost, 0)
		}
		// In column order, so that errors and sums do not depend on map
		// iteration.
		for m, model := range mx.Models {
			o, ok := it.Outcomes[model]
			if !ok {
				continue
			}
			cost, err := CallCost(it, model, o, a, opts.Prices)
			if err != nil {
				return nil, fmt.Errorf("prepare dataset: item %q: %w", it.ID, err)
			}
			mx.Quality[base+m] = o.Score
			mx.Cost[base+m] = cost
		}
		if train {
			mx.Train = append(mx.Train, row)
			if opts.MatchOn != nil && opts.MatchOn(it) {
				mx.MatchRows = append(mx.MatchRows, row)
			}
		} else {
			mx.Test = append(mx.Test, row)
		}
	}
	if opts.Progress != nil {
		opts.Progress(len(items), len(items))
	}
	return mx, nil
}

// CallCost is the dataset's recorded cost, else tokens times price.
// Missing prompt tokens are estimated from the prompt; missing completion
// tokens are the classifier's estimate of the answer length, what the
// gateway itself estimates before a call.
func CallCost(it *datasets.Item, model string, o datasets.Outcome, a router.Analysis, prices router.Catalog) (float64, error) {
	if o.CostUSD != nil {
		return *o.CostUSD, nil
	}
	p, ok := prices[model]
	if !ok {
		return 0, fmt.Errorf("model %q has no recorded cost and no price (add it to the price file)", model)
	}
	pt := datasets.EstimateTokens(it.Prompt)
	if o.PromptTokens != nil {
		pt = *o.PromptTokens
	}
	ct := max(1, a.EstimatedTokens)
	if o.CompletionTokens != nil {
		ct = *o.CompletionTokens
	}
	return (float64(pt)*p.InputPerMTok + float64(ct)*p.OutputPerMTok) / 1e6, nil
}

// N is the number of prompts.
func (mx *Matrix) N() int { return len(mx.Bucket) }

// modelIndex returns a model's column, or -1.
func (mx *Matrix) modelIndex(name string) int {
	return slices.Index(mx.Models, name)
}
