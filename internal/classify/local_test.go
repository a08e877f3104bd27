package classify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// localExamples: prompts about "proofs" defeat the cheap model and not
// the strong one; everything else both answer. Every third prompt is a
// "law" prompt, for the category head.
func localExamples(n int) []textmodel.Example {
	topics := []string{"the weather", "a recipe", "capital cities", "a short poem", "holiday plans", "a shopping list"}
	exs := make([]textmodel.Example, n)
	for i := range exs {
		// i%2 picks the kind, i/2 the rest, so that kinds, topics and
		// categories vary independently.
		j := i / 2
		p := fmt.Sprintf("Tell me about %s, item %d.", topics[j%len(topics)], j%17)
		cheap := 1.0
		if i%2 == 0 {
			p = fmt.Sprintf("Write a rigorous proof about %s, lemma %d.", topics[j%len(topics)], j%13)
			cheap = 0
		}
		cat := "general"
		if (j/len(topics))%3 == 0 {
			p += " Consider the contract and the court."
			cat = "law"
		}
		exs[i] = textmodel.Example{Prompt: p, Scores: map[string]float64{"cheap": cheap, "strong": 1}, Category: cat}
	}
	return exs
}

func trainLocal(t *testing.T, n int) *textmodel.Model {
	t.Helper()
	m, err := textmodel.Train(context.Background(), localExamples(n), textmodel.Options{Seed: 1, CategoryMin: 10})
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

func TestLocalModelConfident(t *testing.T) {
	l, err := NewLocalModel(LocalModelOptions{Model: trainLocal(t, 1200), Order: []string{"cheap", "strong"}, Target: 0.8, MinSamples: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prompt   string
		want     router.Complexity
		category string
	}{
		{"Tell me about the weather, item 3.", router.Simple, "general"},
		{"Write a rigorous proof about a recipe, lemma 4.", router.Complex, "general"},
		{"Tell me about a short poem, item 5. Consider the contract and the court.", router.Simple, "law"},
	}
	for _, tt := range tests {
		a, conf, err := l.Predict(context.Background(), tt.prompt)
		if err != nil {
			t.Fatalf("Predict(%q): %v", tt.prompt, err)
		}
		if a.Complexity != tt.want || conf < 0.8 {
			t.Errorf("Predict(%q) = %s with confidence %.2f, want %s with >= 0.8 (%s)", tt.prompt, a.Complexity, conf, tt.want, a.Reason)
		}
		if a.Category != tt.category {
			t.Errorf("Predict(%q) category = %q, want %q", tt.prompt, a.Category, tt.category)
		}
		if a.Tier != router.TierLocal || a.Fallback != "" {
			t.Errorf("Predict(%q) tier %q fallback %q, want local and none", tt.prompt, a.Tier, a.Fallback)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("Predict(%q) = invalid analysis: %v", tt.prompt, err)
		}
		if !strings.HasPrefix(a.Reason, "local: ") {
			t.Errorf("Predict(%q) reason %q, want a local: reason", tt.prompt, a.Reason)
		}
	}
}

func TestLocalModelThinData(t *testing.T) {
	m := trainLocal(t, 1200)
	tests := []struct {
		name       string
		minSamples int
		wantZero   bool
	}{
		{"enough", 1200, false},
		{"one short", 1201, true},
		{"default (1000)", 0, false},
	}
	for _, tt := range tests {
		l, err := NewLocalModel(LocalModelOptions{Model: m, Order: []string{"cheap", "strong"}, MinSamples: tt.minSamples})
		if err != nil {
			t.Fatal(err)
		}
		a, conf, err := l.Predict(context.Background(), "Tell me about the weather, item 3.")
		if err != nil {
			t.Fatal(err)
		}
		if (conf == 0) != tt.wantZero {
			t.Errorf("%s: confidence %.2f, want zero %v", tt.name, conf, tt.wantZero)
		}
		if tt.wantZero && !strings.Contains(a.Reason, "too little training data") {
			t.Errorf("%s: reason %q does not say why", tt.name, a.Reason)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: invalid analysis: %v", tt.name, err)
		}
	}
}

func TestLocalModelUnsure(t *testing.T) {
	// A target no prediction reaches: every answer is moderate and below
	// the target, so a cascade asks its LLM.
	l, err := NewLocalModel(LocalModelOptions{Model: trainLocal(t, 1200), Order: []string{"cheap", "strong"}, Target: 1, MinSamples: 1})
	if err != nil {
		t.Fatal(err)
	}
	a, conf, err := l.Predict(context.Background(), "Tell me about the weather, item 3.")
	if err != nil {
		t.Fatal(err)
	}
	if a.Complexity != router.Moderate || conf >= 1 {
		t.Errorf("Predict = %s with confidence %.3f, want moderate below 1", a.Complexity, conf)
	}
}

func TestNewLocalModelErrors(t *testing.T) {
	m := trainLocal(t, 200)
	tests := []struct {
		name string
		opts LocalModelOptions
	}{
		{"no model", LocalModelOptions{Order: []string{"cheap"}}},
		{"no order", LocalModelOptions{Model: m}},
		{"unknown model", LocalModelOptions{Model: m, Order: []string{"cheap", "gpt-9"}}},
		{"category as model", LocalModelOptions{Model: m, Order: []string{"law"}}},
		{"target above 1", LocalModelOptions{Model: m, Order: []string{"cheap"}, Target: 1.5}},
		{"negative target", LocalModelOptions{Model: m, Order: []string{"cheap"}, Target: -0.5}},
	}
	for _, tt := range tests {
		if _, err := NewLocalModel(tt.opts); err == nil {
			t.Errorf("%s: NewLocalModel succeeded, want an error", tt.name)
		}
	}
}

func TestLocalModelCancelled(t *testing.T) {
	l, err := NewLocalModel(LocalModelOptions{Model: trainLocal(t, 200), Order: []string{"cheap", "strong"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Predict(ctx, "hello"); !errors.Is(err, context.Canceled) {
		t.Errorf("Predict with a cancelled context = %v, want context.Canceled", err)
	}
}
