package classify

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// TestCascadeLocalAnswer: an answer the service already computed is used
// without asking the local tier again; when it is enough (the policy
// routed) the LLM is not asked even if the local tier is unsure; when it
// is not (a label sample) the cascade goes on as usual.
func TestCascadeLocalAnswer(t *testing.T) {
	const prompt = "Prove that there are infinitely many primes."
	local := router.Analysis{Complexity: router.Complex, Reason: "precomputed", Tier: router.TierLocal}
	tests := []struct {
		name     string
		la       router.LocalAnswer
		wantTier router.Tier
		wantLLM  int64
	}{
		{"enough: local even when unsure", router.LocalAnswer{Analysis: local, Confidence: 0.3, Enough: true}, router.TierLocal, 0},
		{"label sample, sure: local", router.LocalAnswer{Analysis: local, Confidence: 0.9}, router.TierLocal, 0},
		{"label sample, unsure: the LLM labels", router.LocalAnswer{Analysis: local, Confidence: 0.3}, router.TierLLM, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLLM(t, toolCall(validArgs))
			fl := &fakeLocal{complexity: router.Simple, confidence: 0.99}
			c := NewCascade(CascadeOptions{Local: fl, LLM: NewLLM(srv.client(), "classifier-test", LLMOptions{})})
			got, err := c.Classify(router.WithLocalAnswer(context.Background(), tt.la), router.PreparePrompt(prompt))
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			if got.Tier != tt.wantTier {
				t.Errorf("tier = %s, want %s", got.Tier, tt.wantTier)
			}
			if got.Tier == router.TierLocal && got.Reason != "precomputed" {
				t.Errorf("reason = %q, want the precomputed answer's", got.Reason)
			}
			if n := srv.requests.Load(); n != tt.wantLLM {
				t.Errorf("LLM requests = %d, want %d", n, tt.wantLLM)
			}
			if n := fl.calls.Load(); n != 0 {
				t.Errorf("local tier asked %d times, want 0: the answer was precomputed", n)
			}
		})
	}
}

// memModels is a ModelStore in memory.
type memModels map[string][]byte

func (m memModels) LocalModel(_ context.Context, digest string) ([]byte, error) {
	b, ok := m[digest]
	if !ok {
		return nil, errors.New("no such model")
	}
	return b, nil
}

var tierModels = router.Catalog{
	"cheap":  {Name: "cheap", Provider: "p", InputPerMTok: 0.1, OutputPerMTok: 0.4},
	"strong": {Name: "strong", Provider: "p", InputPerMTok: 10, OutputPerMTok: 30},
	"other":  {Name: "other", Provider: "p", InputPerMTok: 20, OutputPerMTok: 40},
}

// TestLocalTierLoad: a version with a policy and a stored model gives the
// cascade its classifier and a predictor whose one reading of the prompt
// yields the policy models' success (NaN for a model the local model
// does not predict) and the same analysis the cascade's tier gives.
func TestLocalTierLoad(t *testing.T) {
	m := trainLocal(t, 1200)
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := m.Digest()
	if err != nil {
		t.Fatal(err)
	}
	casc := NewCascade(CascadeOptions{})
	tier := NewLocalTier(LocalTierOptions{
		Store: memModels{digest: data}, Cascade: casc, Models: tierModels, Enabled: true,
		Threshold: 0.8, MinSamples: 1000,
	})
	table := router.Table{router.Simple: {"cheap", "strong"}, router.Moderate: {"strong"}, router.Complex: {"strong"}}
	policy := &router.PromptPolicy{Models: []string{"cheap", "strong", "other"}, Point: router.OperatingPoint{Rule: router.RuleGap, Param: 0.1}}
	ctx := context.Background()

	if p := tier.Load(ctx, router.Version{ID: 1, Table: table}); p != nil {
		t.Errorf("version without a model: predictor %v, want none", p)
	}
	if p := tier.Load(ctx, router.Version{ID: 2, Table: table, Provenance: router.Provenance{LocalModel: digest}}); p != nil {
		t.Errorf("version without a policy: predictor %v, want none", p)
	}
	if casc.local.Load() == nil {
		t.Fatal("version with a model: the cascade has no local tier")
	}
	v := router.Version{ID: 3, Table: table, Policy: policy, Provenance: router.Provenance{LocalModel: digest}}
	p := tier.Load(ctx, v)
	if p == nil {
		t.Fatal("version with a policy and a model: no predictor")
	}
	prompt := router.NormalizePrompt("Write a rigorous proof about a recipe, lemma 4.")
	pred, err := p.Predict(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	if len(pred.Success) != 3 || !(pred.Success[1] > pred.Success[0]) || !math.IsNaN(pred.Success[2]) {
		t.Errorf("success = %v, want strong above cheap and NaN for other", pred.Success)
	}
	a, conf, err := casc.local.Load().l.Predict(ctx, prompt)
	if err != nil {
		t.Fatal(err)
	}
	if a != pred.Analysis || conf != pred.Confidence {
		t.Errorf("predictor's analysis %+v (%.3f), cascade's %+v (%.3f): want the same", pred.Analysis, pred.Confidence, a, conf)
	}
	picker, err := router.NewPicker(policy.Models, []float64{1, 2, 3}, policy.Point)
	if err != nil {
		t.Fatal(err)
	}
	if got := picker.Order(pred.Success, nil); len(got) != 2 || got[0] != "strong" {
		t.Errorf("order of a proof prompt = %v, want strong first and other left out", got)
	}

	// A model that cannot be loaded keeps the previous one, and the
	// policy is not used without its model.
	bad := router.Version{ID: 4, Table: table, Policy: policy, Provenance: router.Provenance{LocalModel: "missing"}}
	if p := tier.Load(ctx, bad); p != nil {
		t.Errorf("version whose model is missing: predictor %v, want none", p)
	}
	if casc.local.Load() == nil {
		t.Error("a failed load removed the cascade's local tier")
	}
	// Disabled: nothing loads.
	off := NewLocalTier(LocalTierOptions{Store: memModels{digest: data}, Cascade: NewCascade(CascadeOptions{}), Models: tierModels})
	if p := off.Load(ctx, v); p != nil {
		t.Errorf("disabled tier: predictor %v, want none", p)
	}
}
