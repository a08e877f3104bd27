package learner

import (
	"fmt"
	"testing"
)

// TestFoldOfUniform: folds of similar keys (sequential request ids,
// prompts that differ in a number) are filled evenly: a chi-squared
// statistic under the 0.1% critical value.
func TestFoldOfUniform(t *testing.T) {
	critical := map[int]float64{2: 10.83, 5: 18.47} // chi-squared, k-1 df, p = 0.001
	keys := map[string]func(int) string{
		"request ids": func(i int) string { return fmt.Sprintf("req-%d", i) },
		"prompts":     func(i int) string { return fmt.Sprintf("What is %d plus 17? Answer with a number.", i) },
	}
	const n = 20000
	for name, key := range keys {
		for k, crit := range critical {
			t.Run(fmt.Sprintf("%s/%d folds", name, k), func(t *testing.T) {
				count := make([]float64, k)
				for i := range n {
					f := foldOf(key(i), k)
					if f < 0 || f >= k {
						t.Fatalf("foldOf(%q, %d) = %d", key(i), k, f)
					}
					count[f]++
				}
				var chi2 float64
				for _, c := range count {
					e := float64(n) / float64(k)
					chi2 += (c - e) * (c - e) / e
				}
				if chi2 > crit {
					t.Errorf("folds %v: chi-squared %.1f, want under %.2f", count, chi2, crit)
				}
			})
		}
	}
}

// TestFoldOfStable: a key's fold does not change from run to run (the
// policy's and the gate's folds must match the ones their data was split
// by), pinned on a few keys.
func TestFoldOfStable(t *testing.T) {
	for _, tt := range []struct {
		key  string
		k    int
		want int
	}{{"req-1", 5, 1}, {"req-3", 5, 3}, {"req-6", 5, 0}, {"What is 2+2?", 2, 0}} {
		if got := foldOf(tt.key, tt.k); got != tt.want {
			t.Errorf("foldOf(%q, %d) = %d, want %d", tt.key, tt.k, got, tt.want)
		}
	}
}
