package router

import (
	"context"
	"fmt"
	"log/slog"
)

// Predictor reads a prompt once with a version's local model and gives
// both what the per-prompt policy routes by (each policy model's
// predicted success) and what the local classifier tier answers (an
// analysis and its confidence), so the prompt is featurised once per
// request. Implementations are bound to one version's local model and
// PromptPolicy (internal/classify.LocalTier makes them).
type Predictor interface {
	// Predict returns the prediction for prompt, already normalised
	// (NormalizePrompt), the text the local model was trained on. It
	// returns an error when the prediction cannot be made (ctx done).
	Predict(ctx context.Context, prompt string) (PromptPrediction, error)
}

// PromptPrediction is a Predictor's answer for one prompt.
type PromptPrediction struct {
	// Success holds the predicted chance that each of the policy's
	// Models answers well, in the policy's order; NaN marks a model the
	// local model cannot speak for or that cannot take the prompt.
	Success []float64
	// Analysis and Confidence are the local classifier tier's answer for
	// the same prompt (Tier local); Confidence is 0 when the local model
	// was trained on too little data to classify.
	Analysis   Analysis
	Confidence float64
}

// The deciders of a request's candidates, recorded in Analysis.RoutedBy.
const (
	// RoutedByPolicy: the version's per-prompt policy ordered the
	// candidates from the local model's predictions.
	RoutedByPolicy = "policy"
	// RoutedByTable: the bucket table did (no policy, no local model, or
	// a prediction that failed).
	RoutedByTable = "table"
)

// LocalAnswer is the local tier's answer the service has already
// computed for a request, handed to the Classifier through the context
// so it does not read the prompt again.
type LocalAnswer struct {
	Analysis   Analysis
	Confidence float64
	// Enough says routing needs no more: the per-prompt policy has
	// chosen the candidates, so the classifier should answer from this
	// (or its caches) without paying for an LLM classification.
	Enough bool
}

type localAnswerKey struct{}

// WithLocalAnswer returns ctx carrying la for the Classifier.
func WithLocalAnswer(ctx context.Context, la LocalAnswer) context.Context {
	return context.WithValue(ctx, localAnswerKey{}, la)
}

// LocalAnswerFrom returns the LocalAnswer ctx carries, if any.
func LocalAnswerFrom(ctx context.Context) (LocalAnswer, bool) {
	la, ok := ctx.Value(localAnswerKey{}).(LocalAnswer)
	return la, ok
}

// routing is what routes a request, swapped whole so that a request sees
// one version with the predictor and picker made for it.
type routing struct {
	version   Version
	predictor Predictor // nil: the table routes
	picker    *Picker   // nil exactly when predictor is
}

// newRouting validates v and pairs it with p. The policy is used only
// when v has one and p is given; otherwise the bucket table routes.
func newRouting(v Version, p Predictor, models Catalog, log *slog.Logger) (*routing, error) {
	if err := servable(v, models); err != nil {
		return nil, fmt.Errorf("routing table version %d: %w", v.ID, err)
	}
	r := &routing{version: v}
	if v.Policy == nil || p == nil {
		return r, nil
	}
	picker, err := NewPicker(v.Policy.Models, policyCosts(v.Policy.Models, models), v.Policy.Point)
	if err != nil {
		// The catalog's prices disagree with the policy's order (prices
		// changed since it was learned): keep the learned order, one
		// price tier per model, rather than refuse the version.
		log.Warn("policy models are not cheapest first at configured prices; keeping the learned order", "version", v.ID, "err", err)
		ranks := make([]float64, len(v.Policy.Models))
		for k := range ranks {
			ranks[k] = float64(k)
		}
		if picker, err = NewPicker(v.Policy.Models, ranks, v.Policy.Point); err != nil {
			return nil, fmt.Errorf("routing table version %d: %w", v.ID, err)
		}
	}
	r.predictor, r.picker = p, picker
	return r, nil
}

// policyCosts is each model's price of a typical call (1,000 tokens in
// and out), the unit the picker's price tiers compare.
func policyCosts(names []string, models Catalog) []float64 {
	costs := make([]float64, len(names))
	for k, n := range names {
		costs[k] = float64(models[n].Cost(1000, 1000))
	}
	return costs
}

// policyOrder asks the predictor about text, the normalised prompt, and
// returns the policy's candidates and the local answer, or ok false when
// the table must decide: no policy in use, a failed prediction, or no
// model the policy can send to.
func (r *routing) policyOrder(ctx context.Context, text string, log *slog.Logger) (order []string, pred PromptPrediction, ok bool) {
	if r.picker == nil {
		return nil, PromptPrediction{}, false
	}
	pred, err := r.predictor.Predict(ctx, text)
	if err != nil {
		log.Warn("local prediction failed; the bucket table routes", "version", r.version.ID, "err", err)
		return nil, PromptPrediction{}, false
	}
	if len(pred.Success) != len(r.picker.Models()) {
		log.Warn("local prediction does not match the policy; the bucket table routes", "version", r.version.ID,
			"predicted", len(pred.Success), "models", len(r.picker.Models()))
		return nil, PromptPrediction{}, false
	}
	order = r.picker.Order(pred.Success, make([]string, 0, len(pred.Success)))
	if len(order) == 0 {
		return nil, pred, false
	}
	return order, pred, true
}
