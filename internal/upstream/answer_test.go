package upstream

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
)

func TestWrongText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		item     *datasets.Item
		category string
	}{
		{"integer reference", &datasets.Item{Reference: "1368"}, "math"},
		{"decimal reference", &datasets.Item{Reference: "5 kilometers is about 3.11 miles."}, "conversion"},
		{"text reference", &datasets.Item{Reference: "The capital of Peru is Lima."}, "factual"},
		{"label answer", &datasets.Item{Label: datasets.Label{Answer: "18"}}, "math"},
		{"zero", &datasets.Item{Reference: "0"}, "math"},
		{"code", nil, "code"},
		{"unknown", nil, "general"},
	} {
		for h := range uint64(12) {
			right := rightText(tc.item, tc.category, "Some prompt here?", h)
			wrong := wrongText(tc.item, tc.category, "Some prompt here?", h)
			if strings.TrimSpace(wrong) == "" || strings.TrimSpace(right) == "" {
				t.Fatalf("%s h=%d: got right %q wrong %q, want both non-empty", tc.name, h, right, wrong)
			}
			if wrong == right {
				t.Errorf("%s h=%d: wrong answer equals the right one: %q", tc.name, h, wrong)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	long := "HEAD " + strings.Repeat("lorem ipsum ", 1000) + " TAIL"
	items := []datasets.Item{
		{ID: "a", Prompt: "What is 2 + 2?", Outcomes: map[string]datasets.Outcome{"m": {Score: 1}}},
		{ID: "dup", Prompt: "what is 2 + 2?", Outcomes: map[string]datasets.Outcome{"m": {Score: 0}}},
		{ID: "long", Prompt: long, Outcomes: map[string]datasets.Outcome{"m": {Score: 1}}},
	}
	s := New(items, Options{})
	// The classifier's shortening of a long prompt: head, marker, tail.
	shortened := long[:6000] + fmt.Sprintf("\n[... %d bytes omitted ...]\n", len(long)-8000) + long[len(long)-2000:]
	for _, tc := range []struct{ prompt, want string }{
		{"What is 2 + 2?", "a"},
		{"WHAT is  2 + 2?\n", "a"}, // first item wins among equal prompts
		{shortened, "long"},
		{"What is 3 + 3?", ""},
		{"x\n[... 5 bytes omitted ...]\ny", ""},
	} {
		got := ""
		if it := s.lookup(tc.prompt); it != nil {
			got = it.ID
		}
		if got != tc.want {
			t.Errorf("lookup(%.30q): got %q, want %q", tc.prompt, got, tc.want)
		}
	}
}

func TestModelDefaults(t *testing.T) {
	items := []datasets.Item{
		{ID: "1", Prompt: "a", Label: datasets.Label{Complexity: "simple"},
			Outcomes: map[string]datasets.Outcome{"m": {Score: 1, LatencyMS: intp(100)}}},
		{ID: "2", Prompt: "b", Label: datasets.Label{Complexity: "simple"},
			Outcomes: map[string]datasets.Outcome{"m": {Score: 0, LatencyMS: intp(300)}}},
		{ID: "3", Prompt: "c", Label: datasets.Label{Complexity: "complex"},
			Outcomes: map[string]datasets.Outcome{"m": {Score: 0}}},
	}
	got := modelDefaults(items, map[string]ModelDefaults{"extra": {Latency: time.Second}})
	m := got["m"]
	if m.Latency != 200*time.Millisecond {
		t.Errorf("got latency %v, want the 200ms mean", m.Latency)
	}
	// Moderate has no outcomes: the overall rate, 1/3.
	if want := (datasets.Rates{Simple: 0.5, Moderate: 1.0 / 3, Complex: 0}); *m.Success != want {
		t.Errorf("got rates %+v, want %+v", *m.Success, want)
	}
	if e := got["extra"]; e.Latency != time.Second || e.Success == nil {
		t.Errorf("got extra %+v, want 1s and default rates", e)
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if sleep(ctx, time.Hour) {
		t.Error("sleep on a cancelled context reported a full wait")
	}
	if !sleep(t.Context(), 0) {
		t.Error("sleep(0) on a live context reported an interruption")
	}
}
