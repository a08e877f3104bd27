package eval

import (
	"math"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestSpearman(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		// d = 0, 1, 1, 0: 1 - 6*2/(4*15) = 0.8.
		{"one swap", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{"reversed", []float64{1, 2, 3}, []float64{9, 5, 1}, -1},
		// Ranks of x (1.5, 1.5, 3) against (1, 2, 3): 1.5/sqrt(1.5*2).
		{"tie", []float64{1, 1, 2}, []float64{1, 2, 3}, 1.5 / math.Sqrt(3)},
		{"constant", []float64{2, 2, 2}, []float64{1, 2, 3}, 0},
		{"too short", []float64{1}, []float64{1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Spearman(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Spearman = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAgreement(t *testing.T) {
	s, m, c := router.Complexity(router.Simple), router.Complexity(router.Moderate), router.Complexity(router.Complex)
	got := agreement("x", []router.Complexity{s, s, c, m, "odd"}, []router.Complexity{s, m, c, m, s})
	want := Agreement{Other: "x", N: 4, Rate: 0.75}
	want.Confusion[0][0], want.Confusion[0][1], want.Confusion[2][2], want.Confusion[1][1] = 1, 1, 1, 1
	if got != want {
		t.Errorf("agreement = %+v, want %+v", got, want)
	}
}

func TestCostAtQuality(t *testing.T) {
	pts := []Point{{0, 0.5}, {10, 0.9}, {4, 0.8}, {6, 0.7}}
	tests := []struct {
		q    float64
		want float64
		ok   bool
	}{
		{0.5, 0, true},
		{0.65, 2, true},  // halfway along (0, 0.5)-(4, 0.8)
		{0.85, 7, true},  // halfway along (4, 0.8)-(10, 0.9); (6, 0.7) is under the hull
		{0.95, 0, false}, // never
	}
	for _, tt := range tests {
		got, ok := CostAtQuality(pts, tt.q)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("CostAtQuality(%v) = %v, %v; want %v, %v", tt.q, got, ok, tt.want, tt.ok)
		}
	}
}
