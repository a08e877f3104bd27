package store

import (
	"math"
	"testing"
)

func TestMixPSI(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual map[string]int64
		lo, hi           float64 // want lo <= psi <= hi
		nan              bool
	}{
		{"same shares", map[string]int64{"simple": 10, "complex": 30}, map[string]int64{"simple": 20, "complex": 60}, 0, 1e-12, false},
		{"moderate shift", map[string]int64{"simple": 50, "complex": 50}, map[string]int64{"simple": 35, "complex": 65}, 0.04, 0.1, false},
		{"a new bin is a major shift", map[string]int64{"simple": 100}, map[string]int64{"simple": 50, "complex": 50}, 0.25, math.Inf(1), false},
		{"no traffic the day before", map[string]int64{}, map[string]int64{"simple": 1}, 0, 0, true},
		{"no traffic at all", nil, nil, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mixPSI(tt.expected, tt.actual)
			if tt.nan {
				if !math.IsNaN(got) {
					t.Errorf("mixPSI = %v, want NaN", got)
				}
				return
			}
			if !(got >= tt.lo && got <= tt.hi) {
				t.Errorf("mixPSI = %v, want in [%v, %v]", got, tt.lo, tt.hi)
			}
		})
	}
}
