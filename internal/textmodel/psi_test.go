package textmodel

import (
	"math"
	"testing"
)

func TestPSI(t *testing.T) {
	// Hand-computed: shares (0.5, 0.5) against (0.25, 0.75):
	// (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5) = 0.25 ln 3.
	quarter := 0.25 * math.Log(3)
	tests := []struct {
		name             string
		expected, actual []float64
		want             float64 // NaN: want NaN
		tol              float64
	}{
		{"identical", []float64{0.2, 0.5, 0.3}, []float64{0.2, 0.5, 0.3}, 0, 1e-12},
		{"counts and shares alike", []float64{20, 50, 30}, []float64{0.2, 0.5, 0.3}, 0, 1e-12},
		{"hand computed", []float64{1, 1}, []float64{1, 3}, quarter, 1e-12},
		{"symmetric", []float64{1, 3}, []float64{1, 1}, quarter, 1e-12},
		// An emptied bin is floored at 1e-4: large but finite.
		{"empty bin", []float64{0.5, 0.5}, []float64{0, 1}, (1e-4/(1+1e-4)-0.5)*math.Log(1e-4/(1+1e-4)/0.5) + (1/(1+1e-4)-0.5)*math.Log(1/(1+1e-4)/0.5), 1e-9},
		{"lengths differ", []float64{1, 2}, []float64{1, 2, 3}, math.NaN(), 0},
		{"no bins", nil, nil, math.NaN(), 0},
		{"zero sum", []float64{0, 0}, []float64{1, 2}, math.NaN(), 0},
		{"negative", []float64{1, -1}, []float64{1, 2}, math.NaN(), 0},
		{"NaN", []float64{1, math.NaN()}, []float64{1, 2}, math.NaN(), 0},
		{"infinite", []float64{1, 2}, []float64{1, math.Inf(1)}, math.NaN(), 0},
	}
	for _, tt := range tests {
		got := PSI(tt.expected, tt.actual)
		switch {
		case math.IsNaN(tt.want):
			if !math.IsNaN(got) {
				t.Errorf("%s: PSI = %g, want NaN", tt.name, got)
			}
		case math.Abs(got-tt.want) > tt.tol:
			t.Errorf("%s: PSI = %g, want %g", tt.name, got, tt.want)
		}
	}
}

func TestPSIGrowsWithShift(t *testing.T) {
	base := []float64{0.5, 0.3, 0.2}
	small := PSI(base, []float64{0.48, 0.31, 0.21})
	large := PSI(base, []float64{0.2, 0.3, 0.5})
	if !(small > 0 && small < 0.01) {
		t.Errorf("small shift: PSI = %g, want in (0, 0.01)", small)
	}
	if !(large > 0.25) {
		t.Errorf("large shift: PSI = %g, want > 0.25 (a major shift)", large)
	}
}
