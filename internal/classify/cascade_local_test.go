package classify

import (
	"context"
	"errors"
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
			got, err := c.Classify(context.Background(), prompt)
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

func TestCascadeLocalNotCachedAndSwappable(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	sure := &fakeLocal{complexity: router.Simple, confidence: 0.9}
	c := NewCascade(CascadeOptions{LLM: NewLLM(srv.client(), "classifier-test", LLMOptions{}), Local: sure})
	ctx := context.Background()
	const prompt = "Name a prime number."
	for range 2 {
		if got, err := c.Classify(ctx, prompt); err != nil || got.Tier != router.TierLocal {
			t.Fatalf("Classify() = %+v, %v; want the local tier", got, err)
		}
	}
	// Local answers are not cached: a swapped-in model is asked afresh.
	if n := sure.calls.Load(); n != 2 {
		t.Errorf("local calls = %d, want 2 (local answers are not cached)", n)
	}
	if st := c.Stats(); st.LocalHits != 2 || st.LLMCalls != 0 || st.MemoryHits != 0 {
		t.Errorf("Stats() = %+v, want 2 local hits, no LLM call, no cache hit", st)
	}

	// Without a local tier the LLM answers, and is cached.
	c.SetLocal(nil)
	for range 2 {
		if _, err := c.Classify(ctx, prompt); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("LLM requests = %d, want 1 (the second answer is cached)", got)
	}

	// A cached LLM answer wins over the local tier.
	c.SetLocal(sure)
	got, err := c.Classify(ctx, prompt)
	if err != nil || got.Tier != router.TierCache {
		t.Errorf("Classify() = %+v, %v; want the cached LLM answer", got, err)
	}
	if n := sure.calls.Load(); n != 2 {
		t.Errorf("local calls = %d, want still 2", n)
	}
}
