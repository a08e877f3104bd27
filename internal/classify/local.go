package classify

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// Defaults of LocalModelOptions.
const (
	DefaultLocalTarget     = 0.8
	DefaultLocalMinSamples = 1000
)

// LocalModelOptions configure a LocalModel.
type LocalModelOptions struct {
	// Model is the trained local model; required.
	Model *textmodel.Model
	// Order names the candidate models cheapest to strongest; each must
	// be one of Model's model heads. Required.
	Order []string
	// Target is the bucket rule's confidence target in (0, 1]; default
	// DefaultLocalTarget.
	Target float64
	// MinSamples is the training examples the model, and each model head
	// in Order, needs before its answers count; below it Predict reports
	// confidence 0. Default DefaultLocalMinSamples.
	MinSamples int
}

// LocalModel is the Local tier on top of a textmodel.Model: it buckets a
// prompt by the bucket rule (textmodel.Bucket) from each candidate's
// predicted chance of answering well, in microseconds and with no
// network. The yes/no fields and answer length, which the model does not
// predict, come from the Heuristic.
type LocalModel struct {
	model      *textmodel.Model
	heads      []int // model head index of each Order entry
	order      []string
	target     float64
	thin       bool // too little training data: confidence 0
	heuristic  Heuristic
	categories bool
}

var _ Local = (*LocalModel)(nil)

// NewLocalModel checks opts and returns a LocalModel.
func NewLocalModel(opts LocalModelOptions) (*LocalModel, error) {
	if opts.Model == nil {
		return nil, fmt.Errorf("local model: no model")
	}
	if len(opts.Order) == 0 {
		return nil, fmt.Errorf("local model: no candidate models in order")
	}
	if opts.Target == 0 {
		opts.Target = DefaultLocalTarget
	}
	if !(opts.Target > 0 && opts.Target <= 1) {
		return nil, fmt.Errorf("local model: target %g: want (0, 1]", opts.Target)
	}
	if opts.MinSamples == 0 {
		opts.MinSamples = DefaultLocalMinSamples
	}
	l := &LocalModel{model: opts.Model, order: opts.Order, target: opts.Target}
	heads := opts.Model.Heads()
	l.thin = opts.Model.Samples() < opts.MinSamples
	for _, name := range opts.Order {
		h := opts.Model.Head(textmodel.KindModel, name)
		if h < 0 {
			return nil, fmt.Errorf("local model: model %q: not predicted by the local model", name)
		}
		l.heads = append(l.heads, h)
		l.thin = l.thin || heads[h].Samples < opts.MinSamples
	}
	for _, h := range heads {
		l.categories = l.categories || h.Kind == textmodel.KindCategory
	}
	return l, nil
}

// Predict returns the local analysis of prompt and its confidence: the
// calibrated probability that the model the bucket points at answers
// well (see textmodel.Bucket), or 0 when the model was trained on too
// little data. It returns an error only when ctx is done.
func (l *LocalModel) Predict(ctx context.Context, prompt string) (router.Analysis, float64, error) {
	if err := ctx.Err(); err != nil {
		return router.Analysis{}, 0, fmt.Errorf("local prediction: %w", err)
	}
	a, conf := l.analyse(prompt, l.model.Predict(prompt, nil))
	return a, conf, nil
}

// analyse is Predict from all, the model's prediction for prompt, which
// a caller that also routes by it has already made.
func (l *LocalModel) analyse(prompt string, all []float64) (router.Analysis, float64) {
	p := make([]float64, len(l.heads))
	for k, h := range l.heads {
		p[k] = all[h]
	}
	d := textmodel.Bucket(p, l.target)

	a := l.heuristic.cues(prompt) // Reason is the local model's, below
	a.Complexity = d.Complexity
	if l.categories {
		if cat, pc := l.model.Category(all); pc >= 0.5 && router.ValidCategory(cat) {
			a.Category = cat
		}
	}
	a.Reason = l.reason(d, p)
	a.Tier, a.Fallback = router.TierLocal, ""

	confidence := d.Confidence
	if l.thin {
		confidence = 0
	}
	return a, confidence
}

// reason explains a decision in one short line.
func (l *LocalModel) reason(d textmodel.Decision, p []float64) string {
	var s string
	switch {
	case d.Pick < 0:
		s = "local: no prediction"
	case d.Sure:
		s = fmt.Sprintf("local: cheapest model predicted to succeed is %s (p=%.2f >= %.2f)", l.order[d.Pick], p[d.Pick], l.target)
	default:
		s = fmt.Sprintf("local: no model reaches p=%.2f; likeliest %s (p=%.2f)", l.target, l.order[d.Pick], p[d.Pick])
	}
	if l.thin {
		s += "; too little training data"
	}
	return oneLine(s, maxReasonBytes)
}
