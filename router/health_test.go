package router

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func status(code int, retryAfter time.Duration) func() (Reply, error) {
	return func() (Reply, error) {
		return Reply{}, &CallError{Outcome: OutcomeError, StatusCode: code, Message: "x", RetryAfter: retryAfter}
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name      string
		cheap     func() (Reply, error)
		deadline  time.Duration
		wantCalls []string
	}{
		// cheap and mid share provider p1: after a 429 p1 cools down, so
		// the request moves on to strong on p2.
		{"429 with short Retry-After: honoured once on the same model", status(429, 20*time.Millisecond), time.Second, []string{"cheap", "cheap", "strong"}},
		{"429 with Retry-After beyond the deadline: next provider at once", status(429, 5*time.Second), time.Second, []string{"cheap", "strong"}},
		{"429 with absurd Retry-After: next provider at once", status(429, 24*time.Hour), time.Hour, []string{"cheap", "strong"}},
		{"429 without Retry-After: next provider at once", status(429, 0), time.Second, []string{"cheap", "strong"}},
		{"400: never retried", status(400, 0), time.Second, []string{"cheap", "mid"}},
		{"timeout: the silent model is not retried", func() (Reply, error) {
			return Reply{}, &CallError{Outcome: OutcomeTimeout, Message: "x"}
		}, time.Second, []string{"cheap", "mid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{reply: map[string]func() (Reply, error){"cheap": tt.cheap}}
			svc, _ := newTestService(t, c, fixedClassifier(Simple))
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			start := time.Now()
			res, err := svc.Serve(ctx, Request{Messages: userMsg("hi")})
			if want := tt.wantCalls[len(tt.wantCalls)-1]; err != nil || res.Model != want {
				t.Fatalf("Serve: model %q err %v, want %s", res.Model, err, want)
			}
			if !equal(c.calls, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", c.calls, tt.wantCalls)
			}
			if time.Since(start) > 500*time.Millisecond {
				t.Errorf("took %v: a retry waited although it should have moved on", time.Since(start))
			}
		})
	}
}

// A 429 cools its provider down: the next request skips it until the
// Retry-After has passed (FAULTS.md F1: never hammer).
func TestRateLimitCoolsProviderDown(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &scripted{reply: map[string]func() (Reply, error){"cheap": status(429, 10*time.Second)}}
	svc := newClockedService(t, c, clk)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for range 2 {
		if _, err := svc.Serve(ctx, Request{Messages: userMsg("hi")}); err != nil {
			t.Fatal(err)
		}
	}
	// cheap and mid share provider p1, so the second request goes to strong.
	if want := []string{"cheap", "strong", "strong"}; !equal(c.calls, want) {
		t.Errorf("calls = %v, want %v (p1 cooling down after the 429)", c.calls, want)
	}
	clk.add(11 * time.Second)
	c.reply = nil
	c.calls = nil
	if res, _ := svc.Serve(context.Background(), Request{Messages: userMsg("hi")}); res.Model != "cheap" {
		t.Errorf("after the cooldown: model %q, want cheap again", res.Model)
	}
}

// 401/403 disable the provider for good and are never retried (F11).
func TestRejectedCredentialsDisableProvider(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &scripted{reply: map[string]func() (Reply, error){"cheap": status(401, 0)}}
	svc := newClockedService(t, c, clk)
	svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	clk.add(time.Hour)
	c.calls = nil
	res, err := svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	if err != nil || res.Model != "strong" || !equal(c.calls, []string{"strong"}) {
		t.Errorf("after a 401: model %q calls %v err %v, want p1 skipped", res.Model, c.calls, err)
	}
	var found bool
	for _, ph := range svc.Providers() {
		if ph.Provider == "p1" {
			found = true
			if ph.State != "disabled" || ph.Reason == "" {
				t.Errorf("p1 health = %+v, want disabled with a reason", ph)
			}
		}
	}
	if !found {
		t.Errorf("p1 missing from Providers()")
	}
}

// A flapping provider (F13): repeated failures open the breaker, traffic
// goes to the fallback, and after the open period one probe returns it.
func TestBreaker(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	down := true
	c := &scripted{reply: map[string]func() (Reply, error){
		"strong": func() (Reply, error) {
			if down {
				return Reply{}, &CallError{Outcome: OutcomeTimeout, Message: "x"}
			}
			return Reply{Content: "ok", FinishReason: "stop", PromptTokens: 1, CompletionTokens: 1}, nil
		},
	}}
	svc := newClockedService(t, c, clk)
	svc.SetVersion(Version{ID: 2, Table: Table{Simple: {"strong", "mid"}, Moderate: {"strong", "mid"}, Complex: {"strong", "mid"}}})
	for range breakerThreshold {
		svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	}
	c.calls = nil
	res, _ := svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	if res.Model != "mid" || !equal(c.calls, []string{"mid"}) {
		t.Errorf("breaker open: model %q calls %v, want strong skipped", res.Model, c.calls)
	}
	down = false
	clk.add(DefaultBreakerMaxWait + time.Second)
	c.calls = nil
	res, _ = svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	if res.Model != "strong" {
		t.Errorf("after recovery: model %q (calls %v), want the probe to return strong", res.Model, c.calls)
	}
	res, _ = svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
	if res.Model != "strong" {
		t.Errorf("after a good probe: model %q, want strong", res.Model)
	}
}

// A failure that opens the breaker is not retried past it, and a probe
// after the breaker's wait is one call, not one call and its retries
// (F13): strong is called 3 times (1 + 2 retries), then twice (failures
// 4 and 5 open the breaker), then not at all, then once per wait.
func TestBreakerStopsRetries(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &scripted{reply: map[string]func() (Reply, error){"strong": status(503, 0)}}
	svc := newClockedService(t, c, clk)
	svc.SetVersion(Version{ID: 2, Table: Table{Simple: {"strong", "mid"}, Moderate: {"strong", "mid"}, Complex: {"strong", "mid"}}})
	for i, step := range []struct {
		advance time.Duration
		want    int
	}{
		{0, 3},
		{0, 2},
		{0, 0},
		{DefaultBreakerWait, 1}, // the probe fails: the wait doubles
		{DefaultBreakerWait, 0}, // not yet
		{DefaultBreakerWait, 1}, // 10 s after the failed probe
	} {
		clk.add(step.advance)
		c.calls = nil
		res, err := svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
		if err != nil || res.Model != "mid" {
			t.Fatalf("request %d: %q, %v; want mid", i, res.Model, err)
		}
		if got := count(c.calls, "strong"); got != step.want {
			t.Errorf("request %d: calls to strong = %d (%v), want %d", i, got, c.calls, step.want)
		}
	}
}

func count(calls []string, model string) int {
	n := 0
	for _, c := range calls {
		if c == model {
			n++
		}
	}
	return n
}

func TestHalfOpenAllowsOneProbe(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	h := newHealth(clk.now, 0, 0)
	for range breakerThreshold {
		h.observe("p", &CallError{Outcome: OutcomeError, StatusCode: 503})
	}
	if ok, _ := h.allow("p"); ok {
		t.Fatal("breaker did not open")
	}
	clk.add(DefaultBreakerMaxWait)
	if ok, _ := h.allow("p"); !ok {
		t.Fatal("no probe allowed after the open period")
	}
	if ok, _ := h.allow("p"); ok {
		t.Fatal("a second concurrent probe was allowed")
	}
	h.observe("p", &CallError{Outcome: OutcomeError, StatusCode: 503})
	if ok, _ := h.allow("p"); ok {
		t.Fatal("a failed probe did not reopen the breaker")
	}
}

func newClockedService(t *testing.T, c Completer, clk *clock) *Service {
	t.Helper()
	svc, err := NewService(Options{
		Models:     testModels,
		Completers: map[string]Completer{"p1": c, "p2": c},
		Classifier: fixedClassifier(Simple),
		Recorder:   &memRecorder{},
		Baseline:   "strong",
		Version:    Version{ID: 1, Table: testTable},
		Timeout:    time.Second,
		Now:        clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// A provider's refusal (400: content policy, unsupported parameter) is
// passed on to the client, who must change the request (FAULTS.md F9):
// when every model refused, a 400 with the reasons; when some failed
// otherwise, a 502 that still names the refusals.
func TestRefusalReasonPassedOn(t *testing.T) {
	refuse := func() (Reply, error) {
		return Reply{}, &CallError{Outcome: OutcomeError, StatusCode: 400, Message: "provider refused the request (400): content policy"}
	}
	tests := []struct {
		name     string
		replies  map[string]func() (Reply, error)
		wantKind Kind
	}{
		{"every model refused", map[string]func() (Reply, error){"cheap": refuse, "mid": refuse, "strong": refuse}, KindInvalid},
		{"one refused, others down", map[string]func() (Reply, error){"cheap": refuse, "mid": status(503, 0), "strong": status(503, 0)}, KindUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{reply: tt.replies}
			svc, _ := newTestService(t, c, fixedClassifier(Simple))
			_, err := svc.Serve(context.Background(), Request{Messages: userMsg("hi")})
			if KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), "cheap: provider refused the request (400): content policy") {
				t.Errorf("err = %v (%s), want %s naming cheap's refusal", err, KindOf(err), tt.wantKind)
			}
		})
	}
}

// Each failed probe doubles the breaker's wait from its first wait up to
// its longest; a success starts the next opening short again. The waits
// are the defaults or the configured ones.
func TestBreakerBacksOff(t *testing.T) {
	tests := []struct {
		name             string
		first, longest   time.Duration // configured; zero: the defaults
		waits            []time.Duration
		wantFirst, limit time.Duration
	}{
		{"defaults", 0, 0, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, 30 * time.Second}, DefaultBreakerWait, DefaultBreakerMaxWait},
		{"configured", 200 * time.Millisecond, time.Second, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}, 200 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(0, 0)}
			h := newHealth(clk.now, tt.first, tt.longest)
			fail := &CallError{Outcome: OutcomeError, StatusCode: 503}
			open := func() {
				for range breakerThreshold {
					h.observe("p", fail)
				}
			}
			open()
			for _, wait := range tt.waits {
				clk.add(wait - time.Millisecond)
				if ok, _ := h.allow("p"); ok {
					t.Fatalf("probe allowed before the %s wait ended", wait)
				}
				clk.add(time.Millisecond)
				if ok, _ := h.allow("p"); !ok {
					t.Fatalf("no probe after the %s wait", wait)
				}
				h.observe("p", fail) // the probe fails
			}
			clk.add(tt.limit)
			if ok, _ := h.allow("p"); !ok {
				t.Fatal("no probe after the longest wait")
			}
			h.observe("p", nil) // back
			open()
			clk.add(tt.wantFirst)
			if ok, _ := h.allow("p"); !ok {
				t.Errorf("after a recovery the next opening waits longer than %s", tt.wantFirst)
			}
		})
	}
}
