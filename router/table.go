package router

import (
	"fmt"
	"time"
)

// Table maps each complexity bucket to its candidate models, cheapest
// first; the first is tried first and the rest are the escalation order.
type Table map[Complexity][]string

// Candidates returns the models for c. An unknown bucket falls back to the
// complex bucket, the safe choice when in doubt.
func (t Table) Candidates(c Complexity) []string {
	if m, ok := t[c]; ok && len(m) > 0 {
		return m
	}
	return t[Complex]
}

// Validate checks that every bucket is present and names only models in
// the catalog, each at most once per bucket.
func (t Table) Validate(models Catalog) error {
	for _, c := range Complexities {
		names := t[c]
		if len(names) == 0 {
			return fmt.Errorf("bucket %s: no candidate models", c)
		}
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if _, ok := models[n]; !ok {
				return fmt.Errorf("bucket %s: unknown model %q", c, n)
			}
			if seen[n] {
				return fmt.Errorf("bucket %s: model %q listed twice", c, n)
			}
			seen[n] = true
		}
	}
	for c := range t {
		if _, err := ParseComplexity(string(c)); err != nil {
			return fmt.Errorf("bucket %q: %w", c, err)
		}
	}
	return nil
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
	ID        int64
	ParentID  int64 // zero for the first version
	Status    Status
	Source    string // "config", "learner", "manual"
	CreatedAt time.Time
	Table     Table
	// Note says why the version exists or why it was not promoted.
	Note string
	// Provenance is what the version was derived from; the learner fills
	// it (data window, samples, fitted rates), the config seed leaves it
	// mostly empty.
	Provenance Provenance
}

// Provenance records how a version was produced.
type Provenance struct {
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	Samples    int       `json:"samples,omitempty"`
	// Stats holds per-bucket, per-model fitted figures, keyed
	// bucket -> model.
	Stats map[string]map[string]ModelStat `json:"stats,omitempty"`
}

// ModelStat is the evidence about one model in one bucket.
type ModelStat struct {
	Samples     int     `json:"samples"`
	SuccessRate float64 `json:"success_rate"`
	LowerBound  float64 `json:"lower_bound,omitempty"`
	MeanCost    Micros  `json:"mean_cost_micros,omitempty"`
}
