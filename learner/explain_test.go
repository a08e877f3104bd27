package learner

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// TestExplain: the one sentence under a diff follows the gate's actual
// decision and margins, through the real Gate, for every rule that can
// decide; in particular a rising estimate with a wide margin reads as
// rising, never as a drop.
func TestExplain(t *testing.T) {
	active := router.Table{"simple": {"big", "small"}, "moderate": {"big"}, "complex": {"big"}}
	cheaper := router.Table{"simple": {"small", "big"}, "moderate": {"big"}, "complex": {"big"}}
	big := logged(router.Simple, "big", 0.5, 30, 27, 100) // 0.900
	tests := []struct {
		name    string
		logged  []Logged
		labeled LabeledSet
		cause   string
		want    []string
		not     []string
	}{{
		name:   "estimate rises, margin too wide",
		logged: joinLogged(big, logged(router.Simple, "small", 0.5, 30, 28, 10)), // 0.933
		cause:  CauseMargin,
		want:   []string{"Kept: in simple the estimate rises from 0.900 to 0.933, but its margin of ±0.", "too wide to rule out a drop of more than 0.010", "big n=30 vs small n=30"},
		not:    []string{"would drop", "falls"},
	}, {
		name:   "estimate falls within tolerance, margin too wide",
		logged: joinLogged(logged(router.Simple, "big", 0.5, 300, 270, 100), logged(router.Simple, "small", 0.5, 300, 269, 10)),
		cause:  CauseMargin,
		want:   []string{"the estimate falls from 0.900 to 0.897, within the 0.010 tolerance, but its margin"},
		not:    []string{"rises"},
	}, {
		name:   "estimate drops",
		logged: joinLogged(big, logged(router.Simple, "small", 0.5, 30, 21, 10)), // 0.700
		cause:  CauseDrops,
		want:   []string{"Kept: in simple quality would drop from 0.900 to 0.700 (±0.", "more than the 0.010 tolerance"},
		not:    []string{"rises"},
	}, {
		name:   "too few samples",
		logged: joinLogged(big, logged(router.Simple, "small", 0.5, 12, 12, 10)),
		cause:  CauseEvidence,
		want:   []string{"no bucket whose first choice changes has 30 logged requests on both models; the closest, simple, has big n=30 vs small n=12."},
	}, {
		name:   "cost rises",
		logged: joinLogged(logged(router.Simple, "big", 0.5, 400, 400, 10), logged(router.Simple, "small", 0.5, 400, 400, 100)),
		cause:  CauseCost,
		want:   []string{"cost per success would rise from $0.000010 to $0.000100"},
	}, {
		name:    "labeled dataset vetoes",
		logged:  joinLogged(logged(router.Simple, "big", 0.5, 400, 396, 1000), logged(router.Simple, "small", 0.5, 400, 400, 10)),
		labeled: fakeLabeled{"big": {0.9, 1000}, "small": {0.6, 10}},
		cause:   CauseLabeledQuality,
		want:    []string{"on the labeled dataset (100 prompts) quality would drop from 0.900 to 0.600"},
	}, {
		name:   "promoted",
		logged: joinLogged(logged(router.Simple, "big", 0.5, 400, 396, 1000), logged(router.Simple, "small", 0.5, 400, 398, 10)),
		cause:  CausePromoted,
		want:   []string{"Promoted: in simple quality goes from 0.990 to 0.995 (±0.", "cost per success goes from $0.001010 to $0.000010"},
	}}
	opts := GateOptions{MinSamples: 30, Tolerance: 0.01, MaxWeight: 20, Margin: 1}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Gate(active, cheaper, tt.logged, tt.labeled, opts)
			got := v.Explain()
			if v.Cause != tt.cause {
				t.Errorf("cause = %q (%s), want %q", v.Cause, v.Reason, tt.cause)
			}
			if strings.Count(got, ". ") > 0 || !strings.HasSuffix(got, ".") {
				t.Errorf("Explain() = %q, want one sentence", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Explain() = %q, want it to contain %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("Explain() = %q, want no %q", got, n)
				}
			}
		})
	}
}
