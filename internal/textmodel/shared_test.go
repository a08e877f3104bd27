package textmodel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// difficultyExamples returns n prompts whose difficulty d is the number
// of "hard" words among ten chosen from twenty topic words; each of six
// models answers with probability sigmoid(a_m*(2-d) + b_m). Model
// "rare" has an outcome on one prompt in rare only, as a model the
// service seldom routes to.
func difficultyExamples(n int, seed uint64, rare int) []Example {
	r := rand.New(rand.NewPCG(seed, 11))
	slopes := []float64{0.8, 1, 1.2, 1.5, 2, 1.1}
	biases := []float64{-0.5, 0, 0.5, 1, 1.5, 0.2}
	exs := make([]Example, n)
	for i := range exs {
		p := synthPrompt(r, 40+r.IntN(80))
		d := 0.0
		for range 4 {
			w := r.IntN(20)
			p += fmt.Sprintf(" topic%d", w)
			if w < 6 {
				d++
			}
		}
		scores := map[string]float64{}
		for m := range slopes {
			name := fmt.Sprint("m", m)
			if m == len(slopes)-1 {
				name = "rare"
				if i%rare != 0 {
					continue
				}
			}
			scores[name] = b2f(r.Float64() < sigmoid(slopes[m]*(1.2-d)+biases[m]))
		}
		exs[i] = Example{Prompt: p, Scores: scores}
	}
	return exs
}

// TestSharedDifficultyHelpsRareModel: a head with few outcomes ranks
// prompts better when the difficulty the other models' outcomes teach is
// shared with it, and sharing does not cost the well-observed heads.
func TestSharedDifficultyHelpsRareModel(t *testing.T) {
	train := difficultyExamples(2500, 1, 25)
	test := difficultyExamples(1500, 2, 1)
	alone := mustTrain(t, train, Options{Seed: 1})
	shared := mustTrain(t, train, Options{Seed: 1, SharedDifficulty: true})
	if !shared.Params().SharedDifficulty || alone.Params().SharedDifficulty {
		t.Errorf("Params().SharedDifficulty = %v shared, %v alone; want true, false",
			shared.Params().SharedDifficulty, alone.Params().SharedDifficulty)
	}
	// The shared component is folded into the heads: the model encodes,
	// decodes and predicts as any other.
	b, err := shared.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalBinary(b)
	if err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if !back.Params().SharedDifficulty {
		t.Error("decoded model lost Params().SharedDifficulty")
	}
	if got, want := back.Predict(test[0].Prompt, nil), shared.Predict(test[0].Prompt, nil); !slices.Equal(got, want) {
		t.Errorf("decoded model predicts %v, want %v", got, want)
	}
	auc := func(m *Model, name string) float64 {
		p, y := predictHead(m, test, m.Head(KindModel, name))
		return AUC(p, y)
	}
	for _, tc := range []struct {
		head string
		gain float64 // least AUC gain wanted; negative: most loss allowed
	}{
		{"rare", 0.05},
		{"m2", -0.01},
	} {
		a, s := auc(alone, tc.head), auc(shared, tc.head)
		t.Logf("%s head AUC: %.3f alone, %.3f shared", tc.head, a, s)
		if s-a < tc.gain {
			t.Errorf("%s head AUC %.3f shared, %.3f alone: want a gain of at least %.2f", tc.head, s, a, tc.gain)
		}
	}
}
