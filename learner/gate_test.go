package learner

import (
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// logged returns n requests of a bucket first sent to model with
// propensity p, ok of them scored 1 and the rest 0, each costing cost.
func logged(c router.Complexity, model string, p float64, n, ok int, cost float64) []Logged {
	out := make([]Logged, n)
	for i := range out {
		out[i] = Logged{Analysis: router.Analysis{Complexity: c}, Model: model, Propensity: p, Cost: cost}
		if i < ok {
			out[i].Score = 1
		}
	}
	return out
}

func joinLogged(parts ...[]Logged) []Logged {
	var out []Logged
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// fakeLabeled scores tables by their simple bucket's first model.
type fakeLabeled map[string][2]float64

func (f fakeLabeled) Replay(t router.Table) (float64, float64, int) {
	q := f[t[string(router.Simple)][0]]
	return q[0], q[1], 100
}

func TestGate(t *testing.T) {
	active := router.Table{"simple": {"big", "small"}, "moderate": {"big"}, "complex": {"big"}}
	cheaper := router.Table{"simple": {"small", "big"}, "moderate": {"big"}, "complex": {"big"}}
	opts := GateOptions{MinSamples: 30, Tolerance: 0.02, MaxWeight: 20}
	tests := []struct {
		name      string
		candidate router.Table
		logged    []Logged
		labeled   LabeledSet
		promote   bool
		reason    string
	}{{
		name:      "cheaper at held quality",
		candidate: cheaper,
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 50, 49, 10),
			logged(router.Moderate, "big", 1, 100, 90, 2000)),
		promote: true,
		reason:  "1 changed buckets",
	}, {
		name:      "quality drops beyond tolerance",
		candidate: cheaper,
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 50, 40, 10)),
		reason: "quality drops more than 0.020 in simple 0.980 -> 0.800",
	}, {
		name:      "too few samples cannot justify",
		candidate: cheaper,
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 29, 29, 10)),
		reason: "not enough evidence",
	}, {
		name: "too few samples cannot block",
		// moderate changes to a model with 5 bad samples; simple
		// justifies.
		candidate: router.Table{"simple": {"small"}, "moderate": {"small"}, "complex": {"big"}},
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 50, 49, 10),
			logged(router.Moderate, "big", 0.8, 100, 90, 2000),
			logged(router.Moderate, "small", 0.2, 5, 0, 10)),
		promote: true,
	}, {
		name:      "cost per success rises",
		candidate: router.Table{"simple": {"mid"}, "moderate": {"big"}, "complex": {"big"}},
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 100, 95, 1000),
			logged(router.Simple, "mid", 0.2, 100, 96, 2000)),
		reason: "cost per success rises",
	}, {
		name:      "labeled dataset vetoes",
		candidate: cheaper,
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 50, 50, 10)),
		labeled: fakeLabeled{"big": {0.9, 1000}, "small": {0.6, 10}},
		reason:  "labeled dataset: quality drops",
	}, {
		name:      "labeled dataset agrees",
		candidate: cheaper,
		logged: joinLogged(
			logged(router.Simple, "big", 0.8, 200, 196, 1000),
			logged(router.Simple, "small", 0.2, 50, 50, 10)),
		labeled: fakeLabeled{"big": {0.9, 1000}, "small": {0.895, 10}},
		promote: true,
		reason:  "labeled dataset: quality 0.900 -> 0.895",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Gate(active, tt.candidate, tt.logged, tt.labeled, opts)
			if v.Promote != tt.promote || !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("Gate = promote %v %q, want promote %v and a reason containing %q", v.Promote, v.Reason, tt.promote, tt.reason)
			}
		})
	}
}

// TestGateEstimator checks the inverse-propensity arithmetic: requests
// logged with a small propensity stand for more of the bucket, up to the
// weight cap, and the bucket estimates are what the doc comment says.
func TestGateEstimator(t *testing.T) {
	active := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}
	candidate := router.Table{"simple": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	// small: 30 requests at p=0.5 that succeeded (weight 2), 30 at
	// p=0.01 that failed (weight capped at 20 instead of 100).
	l := joinLogged(
		logged(router.Simple, "big", 1, 40, 40, 100),
		logged(router.Simple, "small", 0.5, 30, 30, 10),
		logged(router.Simple, "small", 0.01, 30, 0, 30))
	v := Gate(active, candidate, l, nil, GateOptions{MinSamples: 30, Tolerance: 0.01, MaxWeight: 20})
	if len(v.Buckets) != 1 {
		t.Fatalf("buckets = %+v, want simple only", v.Buckets)
	}
	b := v.Buckets[0]
	wantQ := (30 * 2.0) / (30*2.0 + 30*20.0)                // 0.0909
	wantCost := (30*2*10.0 + 30*20*30.0) / (30*2 + 30*20.0) // per request
	if math.Abs(b.Candidate.Quality-wantQ) > 1e-12 || b.Candidate.Samples != 60 {
		t.Errorf("candidate estimate = %+v, want quality %v over 60 samples", b.Candidate, wantQ)
	}
	if got := b.Candidate.CostPerSuccess; math.Abs(got-wantCost/wantQ) > 1e-9 {
		t.Errorf("candidate cost per success = %v, want %v", got, wantCost/wantQ)
	}
	if b.Active.Quality != 1 || b.Active.CostPerSuccess != 100 || !b.Counts || !b.Blocks {
		t.Errorf("bucket = %+v, want active quality 1 at 100 a success, counting and blocking", b)
	}
	if b.Requests != 100 {
		t.Errorf("bucket requests = %d, want 100", b.Requests)
	}
}

// TestGateRefinedBuckets: a category the candidate refines is gated on
// its own, and the rest of its complexity stays pooled.
func TestGateRefinedBuckets(t *testing.T) {
	active := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}
	candidate := router.Table{"simple": {"big"}, "simple/math": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	math := func(ls []Logged) []Logged {
		for i := range ls {
			ls[i].Analysis.Category = "math"
		}
		return ls
	}
	l := joinLogged(
		math(logged(router.Simple, "big", 0.9, 40, 40, 100)),
		math(logged(router.Simple, "small", 0.1, 40, 40, 1)),
		logged(router.Simple, "small", 0.1, 40, 0, 1), // bad at non-math: irrelevant
		logged(router.Simple, "big", 0.9, 40, 40, 100))
	v := Gate(active, candidate, l, nil, GateOptions{MinSamples: 30, Tolerance: 0.01})
	if !v.Promote {
		t.Fatalf("Gate refused: %s", v.Reason)
	}
	var names []string
	for _, b := range v.Buckets {
		names = append(names, b.Bucket)
	}
	if strings.Join(names, ",") != "simple,simple/math" {
		t.Errorf("buckets = %v, want simple and simple/math", names)
	}
}

// TestGateMargin: a drop within the tolerance blocks when its standard
// error could carry it beyond.
func TestGateMargin(t *testing.T) {
	active := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}
	candidate := router.Table{"simple": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	l := joinLogged(
		logged(router.Simple, "big", 0.8, 200, 196, 1000),
		logged(router.Simple, "small", 0.2, 50, 47, 10))
	for _, tt := range []struct {
		margin  float64
		promote bool
	}{{0, true}, {1, false}} {
		v := Gate(active, candidate, l, nil, GateOptions{MinSamples: 30, Tolerance: 0.05, Margin: tt.margin})
		if v.Promote != tt.promote {
			t.Errorf("margin %v: promote = %v (%s), want %v", tt.margin, v.Promote, v.Reason, tt.promote)
		}
		// small's standard error: sqrt(0.94*0.06/50) with equal weights.
		if se, want := v.Buckets[0].Candidate.StdErr, math.Sqrt(0.94*0.06/50); math.Abs(se-want) > 1e-9 {
			t.Errorf("candidate std err = %v, want %v", se, want)
		}
	}
}

// TestGateReasonReadsTrue: a refusal says whether the estimate itself
// drops beyond the tolerance or only its margin is too wide, and each
// bucket carries the margin it was judged with.
func TestGateReasonReadsTrue(t *testing.T) {
	active := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}
	candidate := router.Table{"simple": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	opts := GateOptions{MinSamples: 30, Tolerance: 0.01, MaxWeight: 20, Margin: 1}
	tests := []struct {
		name       string
		small      []Logged
		drops      bool
		want, not  string
		wantMargin bool
	}{{
		name:  "estimate rises, margin too wide",
		small: logged(router.Simple, "small", 0.5, 30, 28, 10), // 0.933 against 0.900
		want:  "the margin is too wide to rule out a drop of more than 0.010 in simple 0.900 -> 0.933 (±0.",
		not:   "quality drops",
	}, {
		name:  "estimate drops",
		small: logged(router.Simple, "small", 0.5, 30, 21, 10), // 0.700
		drops: true,
		want:  "quality drops more than 0.010 in simple 0.900 -> 0.700 (±0.",
		not:   "margin is too wide",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := joinLogged(logged(router.Simple, "big", 0.5, 30, 27, 100), tt.small)
			v := Gate(active, candidate, l, nil, opts)
			if v.Promote || !strings.Contains(v.Reason, tt.want) || strings.Contains(v.Reason, tt.not) {
				t.Errorf("reason = %q, want one containing %q and not %q", v.Reason, tt.want, tt.not)
			}
			b := v.Buckets[0]
			// Two Bernoulli standard errors over 30 samples each.
			wantMargin := math.Hypot(math.Sqrt(0.9*0.1/30), math.Sqrt(b.Candidate.Quality*(1-b.Candidate.Quality)/30))
			if !b.Blocks || b.Drops != tt.drops || math.Abs(b.Margin-wantMargin) > 1e-9 {
				t.Errorf("bucket = blocks %v drops %v margin %v; want blocks, drops %v, margin %v", b.Blocks, b.Drops, b.Margin, tt.drops, wantMargin)
			}
		})
	}
}
