package router

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Table maps each bucket to its candidate models, cheapest first; the
// first is tried first and the rest are the escalation order. A bucket is
// a complexity ("simple") or a complexity refined by a prompt category
// ("complex/math"), which the learner adds where the data supports it.
type Table map[string][]string

// BucketOf names the refined bucket of a complexity and category.
func BucketOf(c Complexity, category string) string {
	if category == "" {
		return string(c)
	}
	return string(c) + "/" + category
}

// Candidates returns the models for an analysis: its refined bucket if
// the table has one, else its complexity's, else the complex bucket's,
// the safe choice when in doubt.
func (t Table) Candidates(a Analysis) []string { return t[t.Bucket(a)] }

// Bucket names the bucket Candidates reads for a.
func (t Table) Bucket(a Analysis) string {
	if a.Category != "" {
		if b := BucketOf(a.Complexity, a.Category); len(t[b]) > 0 {
			return b
		}
	}
	if len(t[string(a.Complexity)]) > 0 {
		return string(a.Complexity)
	}
	return Complex
}

// Validate checks that every complexity has a bucket, that refined
// buckets refine a known complexity, and that buckets name only models in
// the catalog, each at most once.
func (t Table) Validate(models Catalog) error {
	for _, c := range Complexities {
		if len(t[string(c)]) == 0 {
			return fmt.Errorf("bucket %s: no candidate models", c)
		}
	}
	for bucket, names := range t {
		c, category, refined := strings.Cut(bucket, "/")
		if pc, err := ParseComplexity(c); err != nil || string(pc) != c {
			return fmt.Errorf("bucket %q: want simple, moderate or complex, optionally /category", bucket)
		}
		if refined && !ValidCategory(category) {
			return fmt.Errorf("bucket %q: category must be 1-40 lowercase letters, digits, - or _", bucket)
		}
		if len(names) == 0 {
			return fmt.Errorf("bucket %s: no candidate models", bucket)
		}
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if _, ok := models[n]; !ok {
				return fmt.Errorf("bucket %s: unknown model %q", bucket, n)
			}
			if seen[n] {
				return fmt.Errorf("bucket %s: model %q listed twice", bucket, n)
			}
			seen[n] = true
		}
	}
	return nil
}

// ValidCategory reports whether s may name a category in a routing
// table's bucket ("complex/math"): 1 to 40 bytes of lowercase letters,
// digits, - and _. Classifiers and the learner ask it before refining a
// bucket with a category.
func ValidCategory(s string) bool {
	if len(s) == 0 || len(s) > maxCategoryLen {
		return false
	}
	for _, r := range s {
		if !categoryRune(r) {
			return false
		}
	}
	return true
}

func categoryRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// CategoryName turns free text (a dataset's label or source) into a
// category ValidCategory accepts, or "": lowercased, spaces, dots and
// slashes become _, other characters are dropped, at most 40 bytes.
func CategoryName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case categoryRune(r):
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '/':
			b.WriteByte('_')
		}
		if b.Len() >= maxCategoryLen {
			break
		}
	}
	return b.String()
}

// Status is where a table version is in its life.
type Status string

// Version statuses. At most one version is active at a time.
const (
	StatusCandidate Status = "candidate"
	StatusActive    Status = "active"
	StatusRetired   Status = "retired"
)

// Version is one immutable routing-table version with its provenance.
type Version struct {
	ID        int64     `json:"id"`
	ParentID  int64     `json:"parent_id,omitempty"` // zero for the first version
	Status    Status    `json:"status"`
	Source    string    `json:"source"` // "config", "learner", "manual"
	CreatedAt time.Time `json:"created_at"`
	Table     Table     `json:"table"`
	// Policy, when set, routes each prompt by the predicted success per
	// model of the local model named in Provenance.LocalModel, at the
	// policy's operating point; the bucket table remains the fallback
	// (cold start, a model that cannot be loaded) and the explanation.
	// The bucket table, the local model and the operating point together
	// are the routing decision a version stands for.
	Policy *PromptPolicy `json:"policy,omitempty"`
	// Note says why the version exists or why it was not promoted.
	Note string `json:"note,omitempty"`
	// Provenance is what the version was derived from; the learner fills
	// it (data window, samples, fitted rates), the config seed leaves it
	// mostly empty.
	Provenance Provenance `json:"provenance"`
}

// Provenance records how a version was produced.
type Provenance struct {
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	Samples    int       `json:"samples,omitempty"`
	// Stats holds per-bucket, per-model fitted figures, keyed
	// bucket -> model.
	Stats map[string]map[string]ModelStat `json:"stats,omitempty"`
	// Params are the fitting parameters by name (quality target, prior,
	// credibility...), so a version says what it was fitted to.
	Params map[string]float64 `json:"params,omitempty"`
	// LocalModel is the digest of the local classifier trained with the
	// table (internal/textmodel, stored by the store under it); empty
	// when the version has none. Its training figures are in Params
	// under "local_*" names.
	LocalModel string `json:"local_model,omitempty"`
	// Gate is the learner's gate's decision about the version, in one
	// sentence with the estimates and margins it rested on
	// (learner.Verdict.Explain); empty for versions it did not judge.
	Gate string `json:"gate,omitempty"`
}

// ModelStat is the evidence about one model in one bucket.
type ModelStat struct {
	Samples     int     `json:"samples"`
	SuccessRate float64 `json:"success_rate"`
	LowerBound  float64 `json:"lower_bound,omitempty"`
	MeanCost    Micros  `json:"mean_cost_micros,omitempty"`
}

// Equal reports whether t and u list the same candidates, in the same
// order, for every bucket.
func (t Table) Equal(u Table) bool {
	return maps.EqualFunc(t, u, func(x, y []string) bool { return slices.Equal(x, y) })
}
