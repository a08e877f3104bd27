package router

import (
	"context"
	"log/slog"
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
		{"attempt failed, escalating", slog.LevelWarn, 1}, // the first request's, before the outage was known
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
	if got := h.Count(slog.LevelInfo); got != 4 {
		t.Errorf("%d lines at INFO or above for a 40-request outage, want 4:\n%s", got, h)
	}
}
