package classify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// syncBuffer is a log sink safe for the cascade's background goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newCascade wires a Cascade to srv with a short LLM timeout.
func newCascade(srv *fakeLLM, store Store, logs *syncBuffer) *Cascade {
	opts := CascadeOptions{
		LLM: NewLLM(srv.client(), "classifier-test", LLMOptions{Timeout: 100 * time.Millisecond}),
	}
	if store != nil {
		opts.Store = store
	}
	if logs != nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	return NewCascade(opts)
}

func TestCascadeLLMAnswer(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	c := newCascade(srv, nil, nil)

	got, err := c.Classify(context.Background(), router.PreparePrompt("Write a function that sums a list."))
	if err != nil {
		t.Fatalf("Classify: %v", err)
	}
	if got.Tier != router.TierLLM || got.Complexity != router.Moderate || got.Fallback != "" {
		t.Errorf("Classify() = %+v, want tier llm, moderate, no fallback", got)
	}
	if st := c.Stats(); st.LLMCalls != 1 || st.LLMErrors != 0 || st.Fallbacks != 0 {
		t.Errorf("Stats() = %+v, want 1 LLM call, no errors or fallbacks", st)
	}
}

func TestCascadeFallsBackToHeuristic(t *testing.T) {
	tests := []struct {
		name    string
		respond func(http.ResponseWriter, *http.Request)
		want    string
		// wantLog: an invalid answer is a warning each time; a model
		// out of reach starts a classifier outage (one line, not one
		// per prompt).
		wantLog string
	}{
		{"bad json args", toolCall(`{"complexity":`), "llm: invalid output", "level=WARN"},
		{"complexity extreme", toolCall(strings.Replace(validArgs, `"moderate"`, `"extreme"`, 1)), "llm: invalid output", "level=WARN"},
		{"no tool call, no json", content("I think it is complex."), "llm: invalid output", "level=WARN"},
		{"http 500", status(http.StatusInternalServerError), "llm: unavailable", `level=ERROR msg="classifier unreachable"`},
		{"timeout", hang, "llm: timeout", `level=ERROR msg="classifier unreachable"`},
	}
	const prompt = "Prove that there are infinitely many primes."
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLLM(t, tt.respond)
			logs := &syncBuffer{}
			c := newCascade(srv, nil, logs)

			got, err := c.Classify(context.Background(), router.PreparePrompt(prompt))
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			want := Heuristic{}.Analyze(prompt)
			want.Fallback = tt.want
			if got != want {
				t.Errorf("Classify() = %+v, want the heuristic's %+v", got, want)
			}
			if !strings.Contains(logs.String(), tt.wantLog) || !strings.Contains(logs.String(), tt.want) {
				t.Errorf("logs = %q, want %q naming %q", logs.String(), tt.wantLog, tt.want)
			}
			assertNoSecrets(t, logs.String(), srv.URL)

			// A fallback is not cached: the next call asks the LLM again.
			if _, err := c.Classify(context.Background(), router.PreparePrompt(prompt)); err != nil {
				t.Fatalf("second Classify: %v", err)
			}
			if got := srv.requests.Load(); got != 2 {
				t.Errorf("server requests after two calls = %d, want 2", got)
			}
			if st := c.Stats(); st.LLMCalls != 2 || st.LLMErrors != 2 || st.Fallbacks != 2 || st.MemoryHits != 0 {
				t.Errorf("Stats() = %+v, want 2 calls, 2 errors, 2 fallbacks, no hits", st)
			}
			if n, want := strings.Count(logs.String(), "\n"), map[bool]int{true: 2, false: 1}[tt.wantLog == "level=WARN"]; n != want {
				t.Errorf("%d log lines for two fallbacks, want %d:\n%s", n, want, logs.String())
			}
		})
	}
}

func TestCascadeCachesLLMAnswer(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	store := newMemStore()
	c := newCascade(srv, store, nil)

	first, err := c.Classify(context.Background(), router.PreparePrompt("Write a function that sums a list."))
	if err != nil {
		t.Fatalf("Classify: %v", err)
	}
	want := first
	want.Tier = router.TierCache
	for _, p := range []string{"Write a function that sums a list.", "  write a FUNCTION that\n\tsums a list.  "} {
		got, err := c.Classify(context.Background(), router.PreparePrompt(p))
		if err != nil {
			t.Fatalf("Classify(%q): %v", p, err)
		}
		if got != want {
			t.Errorf("Classify(%q) = %+v, want %+v", p, got, want)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("server requests = %d, want 1", got)
	}
	if st := c.Stats(); st.MemoryHits != 2 || st.LLMCalls != 1 {
		t.Errorf("Stats() = %+v, want 2 memory hits and 1 LLM call", st)
	}
	stored, ok := store.lookup(router.HashPrompt("write a function that sums a list."))
	if !ok || stored.Tier != router.TierLLM || stored.Complexity != first.Complexity {
		t.Errorf("store holds %+v (present %v), want the LLM answer", stored, ok)
	}
}

func TestCascadeDedupsConcurrentPrompts(t *testing.T) {
	release := make(chan struct{})
	answer := toolCall(validArgs)
	srv := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer(w, r)
	})
	// Released in the body; the cleanup keeps a failing test from hanging
	// on the held request (it runs before the server's Close).
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock)
	c := NewCascade(CascadeOptions{LLM: NewLLM(srv.client(), "m", LLMOptions{Timeout: 10 * time.Second})})

	const n = 50
	results := make([]router.Analysis, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = c.Classify(context.Background(), router.PreparePrompt("What is a monad?"))
		})
	}
	// Hold the one request until every caller has joined it.
	waitFor(t, func() bool { return c.Stats().Shared == n-1 })
	unblock()
	wg.Wait()

	if got := srv.requests.Load(); got != 1 {
		t.Errorf("server requests = %d, want 1", got)
	}
	for i := range n {
		if errs[i] != nil || results[i].Tier != router.TierLLM || results[i].Complexity != router.Moderate {
			t.Errorf("caller %d: %+v, %v; want the shared LLM answer", i, results[i], errs[i])
		}
	}
}

// A caller that gives up gets an error; the classification it started
// finishes for the next caller instead of being paid for twice.
func TestCascadeCallerCancelKeepsFlight(t *testing.T) {
	release := make(chan struct{})
	answer := toolCall(validArgs)
	srv := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		answer(w, r)
	})
	// Released in the body; the cleanup keeps a failing test from hanging
	// on the held request (it runs before the server's Close).
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock)
	c := NewCascade(CascadeOptions{LLM: NewLLM(srv.client(), "m", LLMOptions{Timeout: 10 * time.Second})})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Classify(ctx, router.PreparePrompt("Explain monads."))
		done <- err
	}()
	waitFor(t, func() bool { return srv.requests.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Classify() error = %v, want context.Canceled", err)
	}

	unblock()
	got, err := c.Classify(context.Background(), router.PreparePrompt("Explain monads."))
	if err != nil {
		t.Fatalf("second Classify: %v", err)
	}
	if got.Complexity != router.Moderate || (got.Tier != router.TierLLM && got.Tier != router.TierCache) {
		t.Errorf("second Classify() = %+v, want the first flight's LLM answer", got)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("server requests = %d, want 1", n)
	}
}

func TestCascadeDoneContext(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	c := newCascade(srv, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Classify(ctx, router.PreparePrompt("hi")); !errors.Is(err, context.Canceled) {
		t.Errorf("Classify(done ctx) error = %v, want context.Canceled", err)
	}
	if got := srv.requests.Load(); got != 0 {
		t.Errorf("server requests = %d, want 0 for a caller already gone", got)
	}
}

func TestCascadePersistentStoreHit(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	store := newMemStore()
	const prompt = "Summarise the plot of Hamlet."
	stored := router.Analysis{Complexity: router.Simple, EstimatedTokens: 150, Category: "summarization", Reason: "short summary", Tier: router.TierLLM}
	if err := store.PutClassification(context.Background(), router.HashPrompt(prompt), stored); err != nil {
		t.Fatal(err)
	}
	c := newCascade(srv, store, nil) // fresh: empty memory

	for range 2 {
		got, err := c.Classify(context.Background(), router.PreparePrompt(prompt))
		if err != nil {
			t.Fatalf("Classify: %v", err)
		}
		want := stored
		want.Tier = router.TierCache
		if got != want {
			t.Errorf("Classify() = %+v, want %+v", got, want)
		}
	}
	if got := srv.requests.Load(); got != 0 {
		t.Errorf("server requests = %d, want 0", got)
	}
	if st := c.Stats(); st.StoreHits != 1 || st.MemoryHits != 1 || st.LLMCalls != 0 {
		t.Errorf("Stats() = %+v, want 1 store hit, then 1 memory hit, no LLM call", st)
	}
	if got := store.gets.Load(); got != 1 {
		t.Errorf("store lookups = %d, want 1 (the second call is a memory hit)", got)
	}
}

func TestCascadeIgnoresStoreErrors(t *testing.T) {
	srv := newFakeLLM(t, toolCall(validArgs))
	store := newMemStore()
	store.err = errDatabaseDown
	logs := &syncBuffer{}
	c := newCascade(srv, store, logs)

	got, err := c.Classify(context.Background(), router.PreparePrompt("Write a function that sums a list."))
	if err != nil {
		t.Fatalf("Classify: %v", err)
	}
	if got.Tier != router.TierLLM || got.Fallback != "" {
		t.Errorf("Classify() = %+v, want the LLM answer despite the store", got)
	}
	if store.gets.Load() != 1 || store.puts.Load() != 1 {
		t.Errorf("store gets, puts = %d, %d; want 1, 1", store.gets.Load(), store.puts.Load())
	}
	if !strings.Contains(logs.String(), "database down") {
		t.Errorf("logs = %q, want the store error logged", logs.String())
	}
}

func TestCascadeWithoutLLM(t *testing.T) {
	c := NewCascade(CascadeOptions{})
	const prompt = "Why is the sky blue?"
	for range 2 {
		got, err := c.Classify(context.Background(), router.PreparePrompt(prompt))
		if err != nil {
			t.Fatalf("Classify: %v", err)
		}
		if want := (Heuristic{}).Analyze(prompt); got != want {
			t.Errorf("Classify() = %+v, want the heuristic's %+v with no fallback", got, want)
		}
	}
	// With no LLM tier the heuristic's answer is final: the repeat is
	// remembered rather than analysed again.
	if st := c.Stats(); st != (CascadeStats{Remembered: 1}) {
		t.Errorf("Stats() = %+v, want only 1 remembered", st)
	}
}

// badAnalyzer returns an analysis that does not validate, without error.
type badAnalyzer struct{}

func (badAnalyzer) Classify(context.Context, string) (router.Analysis, error) {
	return router.Analysis{Complexity: "extreme"}, nil
}

func TestCascadeValidatesAnyAnalyzer(t *testing.T) {
	c := NewCascade(CascadeOptions{LLM: badAnalyzer{}})
	got, err := c.Classify(context.Background(), router.PreparePrompt("hi"))
	if err != nil {
		t.Fatalf("Classify: %v", err)
	}
	if got.Tier != router.TierHeuristic || got.Fallback != "llm: invalid output" {
		t.Errorf("Classify() = %+v, want heuristic with fallback %q", got, "llm: invalid output")
	}
}

// waitFor polls cond until it holds, failing the test after 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkCascadeCached(b *testing.B) {
	c := NewCascade(CascadeOptions{})
	const prompt = "Write a function that sums a list of integers in Go."
	c.mem.add(router.HashPrompt(prompt), router.Analysis{Complexity: router.Moderate, Category: "code", Tier: router.TierLLM})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Classify(ctx, router.PreparePrompt(prompt)); err != nil {
			b.Fatal(err)
		}
	}
}
