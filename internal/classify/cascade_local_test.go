package classify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// fakeLocal is a Local tier answering with a fixed complexity and
// confidence, counting its calls and keeping the last prompt it saw.
type fakeLocal struct {
	complexity router.Complexity
	confidence float64
	err        error
	calls      atomic.Int64
	last       atomic.Value
}

func (f *fakeLocal) Predict(_ context.Context, prompt string) (router.Analysis, float64, error) {
	f.calls.Add(1)
	f.last.Store(prompt)
	if f.err != nil {
		return router.Analysis{}, 0, f.err
	}
	return router.Analysis{Complexity: f.complexity, Reason: "fake local", Tier: router.TierLocal}, f.confidence, nil
}

func TestCascadeLocalTier(t *testing.T) {
	const prompt = "  What is  24 × 57? "
	tests := []struct {
		name        string
		llm         func(http.ResponseWriter, *http.Request) // nil: no LLM configured
		local       *fakeLocal
		wantTier    router.Tier
		wantComplex router.Complexity
		wantLLM     int64
		wantFall    string
	}{
		{"confident local: no LLM call", toolCall(validArgs), &fakeLocal{complexity: router.Simple, confidence: 0.95}, router.TierLocal, router.Simple, 0, ""},
		{"at the threshold counts as confident", toolCall(validArgs), &fakeLocal{complexity: router.Complex, confidence: 0.8}, router.TierLocal, router.Complex, 0, ""},
		{"unsure local: the LLM answers", toolCall(validArgs), &fakeLocal{complexity: router.Simple, confidence: 0.5}, router.TierLLM, router.Moderate, 1, ""},
		{"thin local (confidence 0): the LLM answers", toolCall(validArgs), &fakeLocal{complexity: router.Simple}, router.TierLLM, router.Moderate, 1, ""},
		{"local error: the LLM answers", toolCall(validArgs), &fakeLocal{err: errors.New("boom")}, router.TierLLM, router.Moderate, 1, ""},
		{"LLM down: the unsure local answer with the fallback", status(http.StatusInternalServerError), &fakeLocal{complexity: router.Complex, confidence: 0.6}, router.TierLocal, router.Complex, 1, "llm: unavailable"},
		{"LLM down, thin local: heuristic with the fallback", status(http.StatusInternalServerError), &fakeLocal{complexity: router.Complex}, router.TierHeuristic, Heuristic{}.Analyze(prompt).Complexity, 1, "llm: unavailable"},
		{"no LLM: the unsure local answer", nil, &fakeLocal{complexity: router.Complex, confidence: 0.3}, router.TierLocal, router.Complex, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := CascadeOptions{Local: tt.local}
			var srv *fakeLLM
			if tt.llm != nil {
				srv = newFakeLLM(t, tt.llm)
				opts.LLM = NewLLM(srv.client(), "classifier-test", LLMOptions{})
			}
			c := NewCascade(opts)
			got, err := c.Classify(context.Background(), router.PreparePrompt(prompt))
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			if got.Tier != tt.wantTier || got.Complexity != tt.wantComplex || got.Fallback != tt.wantFall {
				t.Errorf("Classify() = tier %s, %s, fallback %q; want %s, %s, %q", got.Tier, got.Complexity, got.Fallback, tt.wantTier, tt.wantComplex, tt.wantFall)
			}
			var llmReqs int64
			if srv != nil {
				llmReqs = srv.requests.Load()
			}
			if llmReqs != tt.wantLLM {
				t.Errorf("LLM requests = %d, want %d", llmReqs, tt.wantLLM)
			}
			if n := tt.local.calls.Load(); n != 1 {
				t.Errorf("local calls = %d, want 1", n)
			}
			if p, _ := tt.local.last.Load().(string); p != router.NormalizePrompt(prompt) {
				t.Errorf("local saw %q, want the normalised prompt %q", p, router.NormalizePrompt(prompt))
			}
		})
	}
}

// TestCascadeLocalRememberedPerModel: a sure local answer is remembered
// for the model that gave it (a repeat costs no prediction), a swapped-in
// model is asked afresh, and a cached LLM answer wins over the local tier.
func TestCascadeLocalRememberedPerModel(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	sure := &fakeLocal{complexity: router.Simple, confidence: 0.9}
	c := NewCascade(CascadeOptions{LLM: NewLLM(srv.client(), "classifier-test", LLMOptions{}), Local: sure})
	ctx := context.Background()
	const prompt = "Name a prime number."
	for range 2 {
		if got, err := c.Classify(ctx, router.PreparePrompt(prompt)); err != nil || got.Tier != router.TierLocal || got.Complexity != router.Simple {
			t.Fatalf("Classify() = %+v, %v; want the local tier's answer", got, err)
		}
	}
	if n := sure.calls.Load(); n != 1 {
		t.Errorf("local calls = %d, want 1 (the repeat is remembered)", n)
	}
	if st := c.Stats(); st.LocalHits != 1 || st.Remembered != 1 || st.LLMCalls != 0 || st.MemoryHits != 0 {
		t.Errorf("Stats() = %+v, want 1 local hit, 1 remembered, no LLM call", st)
	}

	// A retrained model is asked afresh.
	retrained := &fakeLocal{complexity: router.Complex, confidence: 0.9}
	c.SetLocal(retrained)
	if got, err := c.Classify(ctx, router.PreparePrompt(prompt)); err != nil || got.Complexity != router.Complex || retrained.calls.Load() != 1 {
		t.Errorf("after SetLocal: Classify() = %+v, %v, retrained model asked %d times; want its answer", got, err, retrained.calls.Load())
	}

	// Without a local tier the LLM answers, and is cached.
	c.SetLocal(nil)
	for range 2 {
		if _, err := c.Classify(ctx, router.PreparePrompt(prompt)); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("LLM requests = %d, want 1 (the second answer is cached)", got)
	}

	// A cached LLM answer wins over the local tier.
	c.SetLocal(sure)
	got, err := c.Classify(ctx, router.PreparePrompt(prompt))
	if err != nil || got.Tier != router.TierCache {
		t.Errorf("Classify() = %+v, %v; want the cached LLM answer", got, err)
	}
	if n := sure.calls.Load(); n != 1 {
		t.Errorf("local calls = %d, want still 1", n)
	}
}

// TestCascadeNoStoreReadWithoutLLMCall: a prompt answered without the
// LLM (a sure local tier, or no LLM tier) never reads the store, which
// would cost a database round trip per new prompt; an unsure one reads
// it before calling the LLM.
func TestCascadeNoStoreReadWithoutLLMCall(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	ctx := context.Background()

	st := newMemStore()
	c := NewCascade(CascadeOptions{Store: st, Local: &fakeLocal{complexity: router.Simple, confidence: 0.9}, LLM: NewLLM(srv.client(), "m", LLMOptions{})})
	noLLM := NewCascade(CascadeOptions{Store: st})
	for i := range 5 {
		for _, cc := range []*Cascade{c, noLLM} {
			if _, err := cc.Classify(ctx, router.PreparePrompt(fmt.Sprintf("new prompt %d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := st.gets.Load(); got != 0 {
		t.Errorf("store lookups = %d, want 0 when no LLM call is needed", got)
	}

	unsure := NewCascade(CascadeOptions{Store: st, Local: &fakeLocal{complexity: router.Simple, confidence: 0.2}, LLM: NewLLM(srv.client(), "m", LLMOptions{})})
	if got, err := unsure.Classify(ctx, router.PreparePrompt("a prompt the local tier is unsure of")); err != nil || got.Tier != router.TierLLM {
		t.Fatalf("unsure local: Classify() = %+v, %v; want the LLM's answer", got, err)
	}
	if got := st.gets.Load(); got != 1 {
		t.Errorf("store lookups = %d, want 1 before the LLM call", got)
	}
}
