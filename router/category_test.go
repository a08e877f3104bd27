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
