package router

import (
	"fmt"
	"strings"
)

// Complexity is the coarse difficulty bucket a prompt is routed by.
type Complexity string

// The three complexity buckets, from cheapest to most demanding. They are
// untyped so that they also serve as routing-table bucket names.
const (
	Simple   = "simple"
	Moderate = "moderate"
	Complex  = "complex"
)

// Complexities lists every bucket in escalation order.
var Complexities = []Complexity{Simple, Moderate, Complex}

// ParseComplexity accepts the three bucket names, case-insensitively.
func ParseComplexity(s string) (Complexity, error) {
	c := Complexity(strings.ToLower(strings.TrimSpace(s)))
	switch c {
	case Simple, Moderate, Complex:
		return c, nil
	}
	return "", fmt.Errorf("complexity %q: want simple, moderate or complex", s)
}

// Tier names which classifier tier produced an Analysis.
type Tier string

// Classifier tiers, in the order the cascade asks them.
const (
	TierCache     Tier = "cache"
	TierLocal     Tier = "local" // the trained local model (internal/textmodel)
	TierLLM       Tier = "llm"
	TierHeuristic Tier = "heuristic"
)

// Analysis is what the classifier says a prompt needs (the seed's
// PromptAnalysis). The JSON names are part of the API (DESIGN.md).
type Analysis struct {
	Complexity              Complexity `json:"complexity"`
	ReasoningRequired       bool       `json:"reasoning_required"`
	ExternalKnowledgeNeeded bool       `json:"external_knowledge_needed"`
	MultiStep               bool       `json:"multi_step"`
	EstimatedTokens         int        `json:"estimated_tokens"`
	Category                string     `json:"category"`
	Reason                  string     `json:"reason"`

	// Tier is the classifier tier that answered; Fallback says why a
	// cheaper or safer tier answered instead of the one asked (for example
	// "llm: timeout"). Neither comes from the model.
	Tier     Tier   `json:"tier,omitempty"`
	Fallback string `json:"fallback,omitempty"`
	// RoutedBy says what ordered the request's candidates: the version's
	// per-prompt policy (RoutedByPolicy) or its bucket table
	// (RoutedByTable). Set by the service, empty for a named model.
	RoutedBy string `json:"routed_by,omitempty"`
}

// maxCategoryLen and maxReasonLen bound what a classifier may put in free
// text fields, so a misbehaving model cannot bloat every record.
const (
	maxCategoryLen = 40
	maxReasonLen   = 300
)

// Validate checks an analysis as it comes from an untrusted classifier.
func (a Analysis) Validate() error {
	if _, err := ParseComplexity(string(a.Complexity)); err != nil {
		return err
	}
	if a.EstimatedTokens < 0 {
		return fmt.Errorf("estimated_tokens %d: must not be negative", a.EstimatedTokens)
	}
	if len(a.Category) > maxCategoryLen {
		return fmt.Errorf("category: longer than %d bytes", maxCategoryLen)
	}
	if len(a.Reason) > maxReasonLen {
		return fmt.Errorf("reason: longer than %d bytes", maxReasonLen)
	}
	return nil
}
