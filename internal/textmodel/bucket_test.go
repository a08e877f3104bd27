package textmodel

import (
	"math"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestBucket(t *testing.T) {
	const target = 0.8
	tests := []struct {
		name string
		p    []float64
		want Decision
	}{
		{"none", nil, Decision{Complexity: router.Moderate, Pick: -1}},
		{"one model sure", []float64{0.9}, Decision{router.Simple, 0, true, 0.9}},
		{"one model unsure", []float64{0.5}, Decision{router.Moderate, 0, false, 0.5}},

		{"two: cheap suffices", []float64{0.85, 0.95}, Decision{router.Simple, 0, true, 0.85}},
		{"two: at the target", []float64{0.8, 0.95}, Decision{router.Simple, 0, true, 0.8}},
		{"two: only strong", []float64{0.6, 0.9}, Decision{router.Complex, 1, true, 0.9}},
		{"two: neither", []float64{0.6, 0.7}, Decision{router.Moderate, 1, false, 0.7}},
		{"two: cheap likelier, neither sure", []float64{0.7, 0.6}, Decision{router.Moderate, 0, false, 0.7}},

		{"three: cheap suffices", []float64{0.9, 0.5, 0.99}, Decision{router.Simple, 0, true, 0.9}},
		{"three: middle suffices", []float64{0.5, 0.85, 0.95}, Decision{router.Moderate, 1, true, 0.85}},
		{"three: only strongest", []float64{0.5, 0.7, 0.95}, Decision{router.Complex, 2, true, 0.95}},
		{"three: none, tie picks cheaper", []float64{0.3, 0.6, 0.6}, Decision{router.Moderate, 1, false, 0.6}},
	}
	for _, tt := range tests {
		if got := Bucket(tt.p, target); got != tt.want {
			t.Errorf("%s: Bucket(%v, %g) = %+v, want %+v", tt.name, tt.p, target, got, tt.want)
		}
	}
}

func TestBucketConfidenceBelowTargetIffUnsure(t *testing.T) {
	for _, p := range [][]float64{{0.1, 0.2}, {0.79, 0.8}, {0.2, 0.5, 0.81}, {0.9, 0.1, 0.1, 0.1}} {
		d := Bucket(p, 0.8)
		if d.Sure != (d.Confidence >= 0.8) {
			t.Errorf("Bucket(%v): sure %v with confidence %g", p, d.Sure, d.Confidence)
		}
	}
}

func TestFitPlatt(t *testing.T) {
	// Labels drawn from sigmoid(2z - 1) on a grid: the fit recovers it.
	var z, y []float64
	for i := range 2001 {
		zi := -3 + 6*float64(i)/2000
		p := sigmoid(2*zi - 1)
		// Fractional labels equal to the true probability: the
		// cross-entropy optimum is the generating curve (up to Platt's
		// small label shrinkage).
		z, y = append(z, zi), append(y, p)
	}
	a, b := fitPlatt(z, y)
	if math.Abs(a-2) > 0.05 || math.Abs(b+1) > 0.05 {
		t.Errorf("fitPlatt = (%g, %g), want about (2, -1)", a, b)
	}
	// Separable labels do not give infinite slopes.
	a, _ = fitPlatt([]float64{-1, -1, 1, 1}, []float64{0, 0, 1, 1})
	if math.IsInf(a, 0) || math.IsNaN(a) || a > 100 {
		t.Errorf("fitPlatt on separable data: a = %g, want finite", a)
	}
}

func TestAUCAndECE(t *testing.T) {
	tests := []struct {
		scores, labels []float64
		want           float64
	}{
		{[]float64{0.1, 0.2, 0.8, 0.9}, []float64{0, 0, 1, 1}, 1},
		{[]float64{0.9, 0.8, 0.2, 0.1}, []float64{0, 0, 1, 1}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []float64{0, 1, 0, 1}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []float64{0, 0, 1, 1}, 0.75},
		{[]float64{0.1, 0.2}, []float64{1, 1}, 0.5},
	}
	for _, tt := range tests {
		if got := AUC(tt.scores, tt.labels); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("AUC(%v, %v) = %g, want %g", tt.scores, tt.labels, got, tt.want)
		}
	}
	bins := Reliability([]float64{0.05, 0.15, 0.95, 1}, []float64{0, 1, 1, 1}, 10)
	if bins[0].Count != 1 || bins[1].Count != 1 || bins[9].Count != 2 || bins[9].Observed != 1 {
		t.Errorf("Reliability bins = %+v", bins)
	}
	// Gaps: 0.05, 0.85, 0.025 (bin 9 mean 0.975 vs 1) weighted 1, 1, 2.
	if got, want := ECE(bins), (0.05+0.85+2*0.025)/4; math.Abs(got-want) > 1e-12 {
		t.Errorf("ECE = %g, want %g", got, want)
	}
}
