package textmodel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTrainWeightsUndoLoggingBias: the words carry no signal about a
// prompt's hidden difficulty, so a head can learn only its model's rate.
// The logging policy sent "weak" the easy prompts (propensity 0.9) and
// rarely the hard ones (0.1): its logged outcomes succeed 84% of the
// time though it succeeds on 60% of all prompts. Weighted by
// 1/propensity the head learns the population's 60%; unweighted, the
// logged 84%.
func TestTrainWeightsUndoLoggingBias(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 9))
	const n = 6000
	var logged, weighted []Example
	for range n {
		hard := r.IntN(2) == 0
		pWeak, pickWeak := 0.9, 0.9
		if hard {
			pWeak, pickWeak = 0.3, 0.1
		}
		ex := Example{Prompt: synthPrompt(r, 40+r.IntN(100))}
		if r.Float64() < pickWeak {
			ex.Scores = map[string]float64{"weak": b2f(r.Float64() < pWeak)}
			ex.Weights = map[string]float64{"weak": 1 / pickWeak}
		} else {
			ex.Scores = map[string]float64{"strong": 1}
			ex.Weights = map[string]float64{"strong": 1 / (1 - pickWeak)}
		}
		w := ex
		ex.Weights = nil
		logged, weighted = append(logged, ex), append(weighted, w)
	}
	opts := Options{Models: []string{"weak", "strong"}, Seed: 1}
	fresh := make([]string, 500)
	for i := range fresh {
		fresh[i] = synthPrompt(r, 40+r.IntN(100))
	}
	meanWeak := func(exs []Example) float64 {
		m := mustTrain(t, exs, opts)
		var s float64
		for _, p := range fresh {
			s += m.Predict(p, nil)[0]
		}
		return s / float64(len(fresh))
	}
	if got := meanWeak(weighted); math.Abs(got-0.6) > 0.05 {
		t.Errorf("weighted: weak's mean prediction %.3f, want the population's 0.60", got)
	}
	if got := meanWeak(logged); math.Abs(got-0.84) > 0.05 {
		t.Errorf("unweighted: weak's mean prediction %.3f, want the logged 0.84 (the bias the weights undo)", got)
	}
}

// TestTrainEqualWeightsChangeNothing: weights all equal (whatever their
// scale) train the unweighted model.
func TestTrainEqualWeightsChangeNothing(t *testing.T) {
	exs := tokenExamples(1500, 5, 0.9, 0.2)
	opts := Options{Seed: 2}
	plain := mustTrain(t, exs, opts)
	for i := range exs {
		exs[i].Weights = map[string]float64{"weak": 7, "strong": 7}
	}
	w := mustTrain(t, exs, opts)
	for _, ex := range exs[:200] {
		a, b := plain.Predict(ex.Prompt, nil), w.Predict(ex.Prompt, nil)
		for h := range a {
			if math.Abs(a[h]-b[h]) > 1e-6 {
				t.Fatalf("head %d: %v with equal weights, %v without", h, b[h], a[h])
			}
		}
	}
	exs[0].Weights = map[string]float64{"weak": -1}
	if _, err := Train(t.Context(), exs, opts); err == nil {
		t.Error("a negative weight trained")
	}
}

func TestImportanceWeight(t *testing.T) {
	for _, tt := range []struct{ p, want float64 }{{0.5, 2}, {0.01, 20}, {0, 1}, {math.NaN(), 1}, {1, 1}} {
		if got := ImportanceWeight(tt.p, 20); got != tt.want {
			t.Errorf("ImportanceWeight(%v, 20) = %v, want %v", tt.p, got, tt.want)
		}
	}
}
