package upstream

import (
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

func TestHeuristic(t *testing.T) {
	for _, tc := range []struct {
		prompt       string
		want         router.Complexity
		wantCategory string
	}{
		{"What is 17 × 23?", router.Simple, "math"},
		{"hi there", router.Simple, "general"},
		{"What is the capital of Chile?", router.Simple, "factual"},
		{"Convert 12 miles to kilometers.", router.Simple, "conversion"},
		{"Explain the difference between a process and a thread.", router.Moderate, "explanation"},
		{"Write a function that reverses a string in Python.", router.Moderate, "code"},
		{"Implement a thread-safe LRU cache in Go, and include tests.", router.Complex, "code"},
		{"Summarize this article: the council met on Tuesday.", router.Moderate, "summarization"},
		{"Prove that the square root of 2 is irrational.", router.Complex, "reasoning"},
		{"Design a URL shortener for 50k requests per second.", router.Complex, "system_design"},
		{"In how many ways can you climb 20 stairs taking 1 or 2 steps?", router.Complex, "math"},
	} {
		g := heuristic(tc.prompt)
		if g.Complexity != tc.want || g.Category != tc.wantCategory {
			t.Errorf("heuristic(%q): got %s/%s, want %s/%s", tc.prompt, g.Complexity, g.Category, tc.want, tc.wantCategory)
		}
		if g.EstimatedTokens <= 0 || g.Reason == "" {
			t.Errorf("heuristic(%q): got tokens %d reason %q", tc.prompt, g.EstimatedTokens, g.Reason)
		}
	}
}

func TestComplexityFromItem(t *testing.T) {
	outcomes := func(scores ...float64) map[string]datasets.Outcome {
		m := map[string]datasets.Outcome{}
		for i, s := range scores {
			m[string(rune('a'+i))] = datasets.Outcome{Score: s}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		item datasets.Item
		want router.Complexity
	}{
		{"label wins", datasets.Item{Prompt: "x", Outcomes: outcomes(0, 0), Label: datasets.Label{Complexity: "Simple"}}, router.Simple},
		{"all right", datasets.Item{Prompt: "x", Outcomes: outcomes(1, 1, 1, 0.9, 0.2)}, router.Simple},
		{"half right", datasets.Item{Prompt: "x", Outcomes: outcomes(1, 0)}, router.Moderate},
		{"none right", datasets.Item{Prompt: "x", Outcomes: outcomes(0, 0.4)}, router.Complex},
		{"unknown label, no outcomes", datasets.Item{Prompt: "Prove that 7 is prime.", Label: datasets.Label{Complexity: "hard"}}, router.Complex},
	} {
		if got := complexityFromItem(&tc.item); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}
