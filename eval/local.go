package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// Predictor is a Classifier that also predicts, per prompt, each
// candidate model's chance of answering well. Prepare keeps those
// predictions in the Matrix, which is what the local policy and the
// calibration audit replay.
type Predictor interface {
	Classifier
	// Order names the candidate models, cheapest to strongest.
	Order() []string
	// Probabilities returns one calibrated success probability per model
	// of Order. The slice may be shared: callers must not modify it.
	Probabilities(it *datasets.Item) []float64
}

// LocalTrainOptions say how TrainLocal fits the local model.
type LocalTrainOptions struct {
	// Topics trains topic heads on each item's source (a label known at
	// training time only, see textmodel.Example.Topic), for sources with
	// at least 20 training prompts.
	Topics bool
	// Seed fixes the training shuffles.
	Seed uint64
}

// topicMin is the prompts a source needs to get a topic head; the
// textmodel report found 20 a good floor on RouteLLM's MMLU subjects.
const topicMin = 20

// TrainLocal fits a textmodel on the items' prompts and outcomes, one
// model head per name in order. Items without outcomes are ignored.
func TrainLocal(ctx context.Context, items []*datasets.Item, order []string, opts LocalTrainOptions) (*textmodel.Model, error) {
	examples, _ := localExamples(items, order, opts)
	if len(examples) == 0 {
		return nil, errors.New("train local model: no training prompt has an outcome")
	}
	m, err := textmodel.Train(ctx, examples, localOptions(order, opts))
	if err != nil {
		return nil, fmt.Errorf("train local model: %w", err)
	}
	return m, nil
}

// CalibrationItems returns the items whose examples TrainLocal, given the
// same arguments, holds out of its heads' fit to calibrate them
// (textmodel.CalibrationSlice): the training prompts the trained model
// predicts as it predicts new ones.
func CalibrationItems(items []*datasets.Item, order []string, opts LocalTrainOptions) ([]*datasets.Item, error) {
	examples, from := localExamples(items, order, opts)
	idx, err := textmodel.CalibrationSlice(len(examples), localOptions(order, opts))
	if err != nil {
		return nil, fmt.Errorf("calibration slice: %w", err)
	}
	out := make([]*datasets.Item, len(idx))
	for k, i := range idx {
		out[k] = from[i]
	}
	return out, nil
}

// localOptions are the textmodel options TrainLocal trains with.
func localOptions(order []string, opts LocalTrainOptions) textmodel.Options {
	topics := 0
	if opts.Topics {
		topics = topicMin
	}
	return textmodel.Options{Models: order, TopicMin: topics, Seed: opts.Seed}
}

// localExamples are the examples TrainLocal fits on items, and the item
// each comes from: items without an outcome for a model of order are
// left out.
func localExamples(items []*datasets.Item, order []string, opts LocalTrainOptions) ([]textmodel.Example, []*datasets.Item) {
	examples := make([]textmodel.Example, 0, len(items))
	from := make([]*datasets.Item, 0, len(items))
	for _, it := range items {
		// The service and the learner give the model the normalised
		// prompt (the learner only keeps that); training here on the raw
		// text would teach the dense features (length, lines, upper-case
		// share, option lines) values the service never sends.
		ex := textmodel.Example{Prompt: router.NormalizePrompt(it.Prompt), Scores: map[string]float64{}}
		for _, m := range order {
			if o, ok := it.Outcomes[m]; ok && !math.IsNaN(o.Score) {
				ex.Scores[m] = min(1, max(0, o.Score))
			}
		}
		if len(ex.Scores) == 0 {
			continue
		}
		if opts.Topics {
			ex.Topic = it.Source
		}
		examples = append(examples, ex)
		from = append(from, it)
	}
	return examples, from
}

// ModelOrder lists the models with outcomes in items cheapest to
// strongest: by mean cost a call (recorded, else priced as Prepare
// prices it, with the analyzer's answer-length estimate), equal costs
// by mean quality, weaker first, so that the strongest of a price tier
// comes last.
func ModelOrder(items []*datasets.Item, prices router.Catalog, analyzer Analyzer) ([]string, error) {
	type acc struct{ cost, quality, n float64 }
	sums := map[string]*acc{}
	for _, it := range items {
		if len(it.Outcomes) == 0 {
			continue
		}
		a := analyzer.Analyze(it.Prompt)
		for model, o := range it.Outcomes {
			if math.IsNaN(o.Score) {
				continue
			}
			c, err := CallCost(it, model, o, a, prices)
			if err != nil {
				return nil, fmt.Errorf("order models: item %q: %w", it.ID, err)
			}
			s := sums[model]
			if s == nil {
				s = &acc{}
				sums[model] = s
			}
			s.cost += c
			s.quality += o.Score
			s.n++
		}
	}
	if len(sums) == 0 {
		return nil, errors.New("order models: no outcomes")
	}
	order := make([]string, 0, len(sums))
	for m := range sums {
		order = append(order, m)
	}
	slices.SortFunc(order, func(a, b string) int {
		sa, sb := sums[a], sums[b]
		ca, cb := sa.cost/sa.n, sb.cost/sb.n
		if !sameCost(ca, cb) {
			return cmp.Compare(ca, cb)
		}
		if c := cmp.Compare(sa.quality/sa.n, sb.quality/sb.n); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order, nil
}

// sameCost treats costs equal to nine digits as one price tier: the
// same prices summed in another order differ in the last bits.
func sameCost(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))
}

// LocalClassifier buckets prompts with a trained local model by the
// bucket rule (textmodel.Bucket), as the service's local tier does: the
// complexity from the models' predicted success, everything else
// (category, answer length) from the Analyzer. It caches predictions by
// prompt and is not safe for concurrent use.
type LocalClassifier struct {
	model    *textmodel.Model
	order    []string
	heads    []int
	target   float64
	analyzer Analyzer
	cache    map[string][]float64
	all      []float64
}

var _ Predictor = (*LocalClassifier)(nil)

// NewLocalClassifier returns a classifier over model for the candidate
// models order (cheapest to strongest, each a model head of model) with
// the bucket rule's confidence target in (0, 1].
func NewLocalClassifier(model *textmodel.Model, order []string, target float64, analyzer Analyzer) (*LocalClassifier, error) {
	if !(target > 0 && target <= 1) {
		return nil, fmt.Errorf("local classifier: target %g: want (0, 1]", target)
	}
	c := &LocalClassifier{model: model, order: slices.Clone(order), target: target, analyzer: analyzer, cache: map[string][]float64{}}
	for _, name := range order {
		h := model.Head(textmodel.KindModel, name)
		if h < 0 {
			return nil, fmt.Errorf("local classifier: model %q has no head in the local model", name)
		}
		c.heads = append(c.heads, h)
	}
	return c, nil
}

// Model returns the trained model.
func (c *LocalClassifier) Model() *textmodel.Model { return c.model }

// Order returns the candidate models, cheapest to strongest.
func (c *LocalClassifier) Order() []string { return c.order }

// Target returns the bucket rule's confidence target.
func (c *LocalClassifier) Target() float64 { return c.target }

// Probabilities returns the predicted success of each model of Order.
func (c *LocalClassifier) Probabilities(it *datasets.Item) []float64 {
	return c.predict(it.Prompt)
}

func (c *LocalClassifier) predict(prompt string) []float64 {
	if p, ok := c.cache[prompt]; ok {
		return p
	}
	// The text the service predicts on (router's policyOrder, the
	// classify local tier): the one normalisation, not a copy of it.
	c.all = c.model.PredictInto(router.NormalizePrompt(prompt), nil, c.all)
	p := make([]float64, len(c.heads))
	for k, h := range c.heads {
		p[k] = c.all[h]
	}
	c.cache[prompt] = p
	return p
}

// Decide applies the bucket rule to the prompt's predictions.
func (c *LocalClassifier) Decide(prompt string) textmodel.Decision {
	return textmodel.Bucket(c.predict(prompt), c.target)
}

// Classify buckets the item's prompt.
func (c *LocalClassifier) Classify(it *datasets.Item) router.Analysis {
	a := c.analyzer.Analyze(it.Prompt)
	a.Complexity = c.Decide(it.Prompt).Complexity
	a.Tier = router.TierLocal
	return a
}
