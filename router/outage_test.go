package router

import (
	"context"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/logtest"
)

// downUpstream is a Completer that refuses every call until up.
type downUpstream struct{ up atomic.Bool }

func (d *downUpstream) Complete(ctx context.Context, call Call) (Reply, error) {
	if !d.up.Load() {
		return Reply{}, &CallError{Outcome: OutcomeError, Message: "connection refused"}
	}
	return Reply{Content: "answer", FinishReason: "stop", PromptTokens: 10, CompletionTokens: 5}, nil
}

// An upstream down for 40 requests over 40 s is logged as its start, one
// 30-second summary and its end, not a line per request and attempt
// (issue 12, item 5: 1,219 of 1,358 lines in a soak). Requests refused
// while the breaker is open are 502s, whether the model was routed to or
// named: a model skipped for its health is not a prompt too long for it.
func TestUpstreamOutageLogged(t *testing.T) {
	h, log := logtest.New()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	up := &downUpstream{}
	svc, err := NewService(Options{
		Models:     testModels,
		Completers: map[string]Completer{"p1": up, "p2": up},
		Classifier: fixedClassifier(Complex), // one candidate: strong
		Recorder:   &memRecorder{},
		Baseline:   "strong",
		Version:    Version{ID: 7, Table: testTable, Status: StatusActive},
		Logger:     log,
		Now:        clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		req := Request{Endpoint: "ask", Messages: userMsg("what is 2+2?")}
		if i%2 == 1 {
			req.Model = "strong"
		}
		_, err := svc.Serve(context.Background(), req)
		if KindOf(err) != KindUnavailable {
			t.Fatalf("request %d (model %q): err = %v (kind %s), want kind %s", i, req.Model, err, KindOf(err), KindUnavailable)
		}
		advance(time.Second)
	}
	advance(DefaultBreakerMaxWait) // let the breaker's probe through
	up.up.Store(true)
	if _, err := svc.Serve(context.Background(), Request{Endpoint: "ask", Messages: userMsg("what is 2+2?")}); err != nil {
		t.Fatalf("after recovery: %v", err)
	}

	tests := []struct {
		msg   string
		level slog.Level
		want  int
	}{
		// The first request's failure is the outage's start line, not a
		// warning of its own before the outage was known.
		{"attempt failed, escalating", slog.LevelWarn, 0},
		{"upstream unreachable", slog.LevelError, 1},
		{"upstream still unreachable", slog.LevelWarn, 1},
		{"upstream reachable again", slog.LevelInfo, 1},
	}
	for _, tt := range tests {
		n := 0
		for _, l := range h.Lines() {
			if l.Msg == tt.msg && l.Level == tt.level {
				n++
			}
		}
		if n != tt.want {
			t.Errorf("%d %s lines %q, want %d", n, tt.level, tt.msg, tt.want)
		}
	}
	if got := h.Count(slog.LevelInfo); got != 3 {
		t.Errorf("%d lines at INFO or above for a 40-request outage, want 3:\n%s", got, h)
	}
	for _, l := range h.Lines() {
		if l.Msg == "upstream unreachable" && !strings.Contains(l.Attrs["err"], "strong: error: connection refused") {
			t.Errorf("the outage's start line says %q, want the first failure (strong: error: connection refused)", l.Attrs["err"])
		}
	}
}

// A request's attempt failures are logged as they came when another
// model answered it (an isolated failure stays visible), and folded into
// the upstream tracker's start line when no model could: the first
// failure of an outage is its start line, not warnings before it.
func TestAttemptFailuresLogged(t *testing.T) {
	fail := func() (Reply, error) {
		return Reply{}, &CallError{Outcome: OutcomeError, StatusCode: 503, Message: "provider error (503)"}
	}
	tests := []struct {
		name    string
		replies map[string]func() (Reply, error)
		want    map[string]int // lines at INFO or above by message
	}{
		{"another model answered", map[string]func() (Reply, error){"cheap": fail},
			map[string]int{"attempt failed, retrying": 2, "attempt failed, escalating": 1}},
		{"isolated, every model failed", map[string]func() (Reply, error){"cheap": fail, "mid": fail, "strong": fail},
			map[string]int{"upstream unreachable": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, log := logtest.New()
			svc, err := NewService(Options{
				Models:     testModels,
				Completers: map[string]Completer{"p1": &scripted{reply: tt.replies}, "p2": &scripted{reply: tt.replies}},
				Classifier: fixedClassifier(Simple), // cheap, mid, strong
				Recorder:   &memRecorder{},
				Baseline:   "strong",
				Version:    Version{ID: 7, Table: testTable, Status: StatusActive},
				Logger:     log,
			})
			if err != nil {
				t.Fatal(err)
			}
			svc.Serve(context.Background(), Request{Endpoint: "ask", Messages: userMsg("what is 2+2?")})
			got := map[string]int{}
			for _, l := range h.Lines() {
				if l.Level >= slog.LevelInfo {
					got[l.Msg]++
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("lines at INFO or above = %v, want %v:\n%s", got, tt.want, h)
			}
		})
	}
}
