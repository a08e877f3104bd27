package router

import (
	"math"
	"testing"
)

func TestSuccessInterval(t *testing.T) {
	tests := []struct {
		name   string
		rate   float64
		n      int
		lo, hi float64
	}{
		// Worked by hand from the Wilson formula (z = 1.96).
		{"one success", 1, 1, 0.2065, 1},
		{"half of ten", 0.5, 10, 0.2366, 0.7634},
		{"81 of 100", 0.81, 100, 0.7222, 0.8749},
		{"none of 20", 0, 20, 0, 0.1611},
		{"no samples", 0.9, 0, 0, 1},
	}
	for _, tt := range tests {
		lo, hi := SuccessInterval(tt.rate, tt.n)
		if math.Abs(lo-tt.lo) > 5e-4 || math.Abs(hi-tt.hi) > 5e-4 {
			t.Errorf("%s: SuccessInterval(%v, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tt.name, tt.rate, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	// More samples at the same rate narrow the interval.
	lo1, hi1 := SuccessInterval(0.8, 10)
	lo2, hi2 := SuccessInterval(0.8, 1000)
	if hi2-lo2 >= hi1-lo1 {
		t.Errorf("width at n=1000 (%.4f) not below width at n=10 (%.4f)", hi2-lo2, hi1-lo1)
	}
}
