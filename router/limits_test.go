package router

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingClassifier counts its calls: a classifier call is an upstream
// call too.
type countingClassifier struct {
	n atomic.Int32
	c Complexity
}

func (c *countingClassifier) Classify(ctx context.Context, prompt Prompt) (Analysis, error) {
	c.n.Add(1)
	return Analysis{Complexity: c.c, Tier: TierHeuristic}, nil
}

// A prompt that fits no candidate is the caller's mistake: a 400 naming
// messages, before any call (issue 12, item 4; FAULTS.md F8).
func TestServePromptTooLongIsInvalid(t *testing.T) {
	models := Catalog{
		"small":  {Name: "small", Provider: "p", InputPerMTok: 0.1, OutputPerMTok: 0.1, ContextWindow: 1000},
		"small2": {Name: "small2", Provider: "p", InputPerMTok: 0.2, OutputPerMTok: 0.2, ContextWindow: 2000},
		"large":  {Name: "large", Provider: "p", InputPerMTok: 1, OutputPerMTok: 1, ContextWindow: 100000},
	}
	table := Table{Simple: {"small", "small2"}, Moderate: {"small", "large"}, Complex: {"large"}}
	tests := []struct {
		name       string
		complexity Complexity
		prompt     string
		wantCalls  int32 // classifier calls
		wantMsg    string
	}{
		{"larger than every model", Simple, strings.Repeat("x", 1<<20), 0, "largest context window of any configured model (100000)"},
		{"larger than the bucket's candidates", Simple, strings.Repeat("x", 8000), 1, "every candidate model for a simple prompt (small, small2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp := &scripted{}
			cls := &countingClassifier{c: tt.complexity}
			rec := &memRecorder{}
			svc, err := NewService(Options{
				Models: models, Completers: map[string]Completer{"p": comp}, Classifier: cls,
				Recorder: rec, Baseline: "large", Version: Version{ID: 1, Table: table}, Timeout: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Serve(context.Background(), Request{Model: "auto", Messages: userMsg(tt.prompt)})
			var e *Error
			if !asError(err, &e) || e.Kind != KindInvalid || e.Field != "messages" || !strings.Contains(e.Message, tt.wantMsg) {
				t.Fatalf("err = %#v, want KindInvalid on messages containing %q", err, tt.wantMsg)
			}
			if got := cls.n.Load(); got != tt.wantCalls {
				t.Errorf("classifier calls = %d, want %d", got, tt.wantCalls)
			}
			if len(comp.calls) != 0 {
				t.Errorf("completer called %v, want no call", comp.calls)
			}
		})
	}
}

func asError(err error, e **Error) bool {
	if err == nil {
		return false
	}
	v, ok := err.(*Error)
	*e = v
	return ok
}
