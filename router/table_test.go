package router

import (
	"strings"
	"testing"
)

func TestValidCategory(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"math", true},
		{"college_math-2", true},
		{"", false},
		{"Math", false},
		{"math/algebra", false},
		{"résumé", false},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
	}
	for _, tt := range tests {
		if got := ValidCategory(tt.in); got != tt.want {
			t.Errorf("ValidCategory(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCategoryName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Math", "math"},
		{"  mmlu/college math ", "mmlu_college_math"},
		{"gsm8k.v2", "gsm8k_v2"},
		{"Q&A (hard)", "qa_hard"},
		{"¿?", ""},
		{strings.Repeat("ab", 30), strings.Repeat("ab", 20)},
	}
	for _, tt := range tests {
		got := CategoryName(tt.in)
		if got != tt.want {
			t.Errorf("CategoryName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got != "" && !ValidCategory(got) {
			t.Errorf("CategoryName(%q) = %q, which ValidCategory refuses", tt.in, got)
		}
	}
}

func TestSumSpend(t *testing.T) {
	days := []Spend{
		{Date: "2026-11-26", Total: 10, Baseline: 30, Prompts: 1, ByModel: map[string]Micros{"a": 10}, ByComplexity: map[string]Micros{"simple": 10}},
		{Date: "2026-11-27", Total: 5, Baseline: 20, Prompts: 2, ByModel: map[string]Micros{"a": 1, "b": 4}},
	}
	got := SumSpend("week", days)
	if got.Date != "week" || got.Total != 15 || got.Baseline != 50 || got.Prompts != 3 || got.Savings() != 35 ||
		got.ByModel["a"] != 11 || got.ByModel["b"] != 4 || got.ByComplexity["simple"] != 10 {
		t.Errorf("SumSpend = %+v, want 15 of 50 over 3 prompts, a 11, b 4, simple 10", got)
	}
	if empty := SumSpend("none", nil); empty.Total != 0 || empty.ByModel == nil {
		t.Errorf("SumSpend(nil) = %+v, want zero with empty maps", empty)
	}
}
