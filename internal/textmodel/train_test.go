package textmodel

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tokenExamples returns n prompts of random words; the "weak" model
// succeeds with probability pHard when the prompt holds the word
// "zebra" and pEasy otherwise; the "strong" model always succeeds on
// prompts without "zebra" and half the time on the others. A quarter of
// the prompts are about animals (category "zoo").
func tokenExamples(n int, seed uint64, pEasy, pHard float64) []Example {
	r := rand.New(rand.NewPCG(seed, 7))
	exs := make([]Example, n)
	for i := range exs {
		p := synthPrompt(r, 60+r.IntN(200))
		hard := r.IntN(2) == 0
		if hard {
			p += " zebra"
		}
		pw := pEasy
		if hard {
			pw = pHard
		}
		weak := b2f(r.Float64() < pw)
		strong := 1.0
		if hard {
			strong = b2f(r.Float64() < 0.5)
		}
		cat := "general"
		if r.IntN(4) == 0 {
			cat = "zoo"
			p = "animals: " + p
		}
		exs[i] = Example{Prompt: p, Scores: map[string]float64{"weak": weak, "strong": strong}, Category: cat}
	}
	return exs
}

func mustTrain(t testing.TB, exs []Example, opts Options) *Model {
	t.Helper()
	m, err := Train(context.Background(), exs, opts)
	if err != nil {
		t.Fatalf("Train: %v", err)
	}
	return m
}

// predictHead returns head h's predictions and the examples' labels.
func predictHead(m *Model, exs []Example, h int) (p, y []float64) {
	name := m.Heads()[h].Name
	for _, ex := range exs {
		p = append(p, m.Predict(ex.Prompt, ex.Analysis)[h])
		y = append(y, ex.Scores[name])
	}
	return p, y
}

func TestTrainLearnsToken(t *testing.T) {
	m := mustTrain(t, tokenExamples(3000, 1, 0.95, 0.05), Options{Seed: 1})
	test := tokenExamples(1000, 2, 0.95, 0.05)
	h := m.Head(KindModel, "weak")
	p, y := predictHead(m, test, h)
	if got := AUC(p, y); got < 0.9 {
		t.Errorf("weak head AUC = %.3f, want > 0.9", got)
	}
	if got := m.Heads()[h].Samples; got != 3000 {
		t.Errorf("weak head Samples = %d, want 3000", got)
	}
}

func TestTrainCalibrated(t *testing.T) {
	// Outcomes are noisy: 0.8 and 0.3 success rates, so a calibrated
	// model predicts about those and not 0 or 1.
	m := mustTrain(t, tokenExamples(4000, 3, 0.8, 0.3), Options{Seed: 3})
	test := tokenExamples(3000, 4, 0.8, 0.3)
	h := m.Head(KindModel, "weak")
	p, y := predictHead(m, test, h)
	calibrated := ECE(Reliability(p, y, 10))
	// The same weights without Platt scaling.
	m.heads[h].PlattA, m.heads[h].PlattB = 1, 0
	raw, _ := predictHead(m, test, h)
	uncalibrated := ECE(Reliability(raw, y, 10))
	if calibrated > 0.08 || calibrated >= uncalibrated {
		t.Errorf("ECE = %.3f calibrated, %.3f raw; want <= 0.08 and below raw", calibrated, uncalibrated)
	}
	var hard, easy, nh, ne float64
	for i, ex := range test {
		if bytes.Contains([]byte(ex.Prompt), []byte("zebra")) {
			hard += p[i]
			nh++
		} else {
			easy += p[i]
			ne++
		}
	}
	if math.Abs(hard/nh-0.3) > 0.1 || math.Abs(easy/ne-0.8) > 0.1 {
		t.Errorf("mean prediction hard %.3f easy %.3f, want about 0.3 and 0.8", hard/nh, easy/ne)
	}
}

func TestTrainDeterministic(t *testing.T) {
	exs := tokenExamples(800, 5, 0.9, 0.2)
	encode := func(opts Options) []byte {
		b, err := mustTrain(t, exs, opts).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := encode(Options{Seed: 7, Workers: 1})
	b := encode(Options{Seed: 7, Workers: 2})
	c := encode(Options{Seed: 8, Workers: 2})
	if !bytes.Equal(a, b) {
		t.Error("same seed, 1 vs 2 workers: models differ")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds: models identical")
	}
}

func TestTrainCategories(t *testing.T) {
	exs := tokenExamples(2000, 6, 0.9, 0.2)
	m := mustTrain(t, exs, Options{Seed: 1, CategoryMin: 100})
	if got := m.Head(KindCategory, "zoo"); got < 0 {
		t.Fatalf("no zoo category head in %+v", m.Heads())
	}
	cat, p := m.Category(m.Predict("animals: the cat and a river", nil))
	if cat != "zoo" || p < 0.5 {
		t.Errorf("Category = %q, %.2f; want zoo, >= 0.5", cat, p)
	}
	if cat, _ := m.Category(m.Predict("solve the integral", nil)); cat != "general" {
		t.Errorf("Category = %q, want general", cat)
	}
	noCat := mustTrain(t, exs, Options{Seed: 1})
	if cat, p := noCat.Category(noCat.Predict("animals", nil)); cat != "" || p != 0 {
		t.Errorf("without category heads: Category = %q, %g; want none", cat, p)
	}
}

func TestTrainUnknownScores(t *testing.T) {
	exs := tokenExamples(400, 8, 0.9, 0.2)
	for i := range exs {
		if i%2 == 0 {
			delete(exs[i].Scores, "strong")
		}
	}
	m := mustTrain(t, exs, Options{Seed: 1})
	if got := m.Heads()[m.Head(KindModel, "strong")].Samples; got != 200 {
		t.Errorf("strong head Samples = %d, want 200", got)
	}
	if got := m.Samples(); got != 400 {
		t.Errorf("Samples = %d, want 400", got)
	}
}

func TestTrainErrors(t *testing.T) {
	good := tokenExamples(10, 9, 0.9, 0.2)
	bad := []Example{{Prompt: "x", Scores: map[string]float64{"m": 1.5}}}
	nan := []Example{{Prompt: "x", Scores: map[string]float64{"m": math.NaN()}}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		exs  []Example
		opts Options
		is   error
	}{
		{"no examples", context.Background(), nil, Options{}, ErrNoData},
		{"no heads", context.Background(), []Example{{Prompt: "x"}}, Options{}, ErrNoData},
		{"score above 1", context.Background(), bad, Options{}, nil},
		{"NaN score", context.Background(), nan, Options{}, nil},
		{"negative l2", context.Background(), good, Options{L2: -1}, nil},
		{"holdout 1", context.Background(), good, Options{Holdout: 1}, nil},
		{"bad features", context.Background(), good, Options{Features: FeatureConfig{Bits: 2}}, nil},
		{"cancelled", cancelled, good, Options{}, context.Canceled},
	}
	for _, tt := range tests {
		_, err := Train(tt.ctx, tt.exs, tt.opts)
		if err == nil {
			t.Errorf("%s: Train() succeeded, want an error", tt.name)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: Train() = %v, want %v", tt.name, err, tt.is)
		}
	}
}

func TestTrainSmallDataUncalibrated(t *testing.T) {
	// Too few examples to hold any out: Platt scaling stays the identity.
	m := mustTrain(t, tokenExamples(100, 10, 0.9, 0.2), Options{Seed: 1})
	for _, h := range m.Heads() {
		if h.PlattA != 1 || h.PlattB != 0 {
			t.Errorf("head %s: Platt (%g, %g), want (1, 0)", h.Name, h.PlattA, h.PlattB)
		}
	}
}

func TestCalibrationSlice(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		holdout float64
		want    int
	}{
		{"default tenth", 1000, 0, 100},
		{"a fifth", 1000, 0.2, 200},
		{"under MinCalibration", 400, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Seed: 3, Holdout: tt.holdout}
			got, err := CalibrationSlice(tt.n, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d indices, want %d", len(got), tt.want)
			}
			if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Errorf("indices %v: want ascending and distinct", got)
			}
			// What Train holds out: the same split, fit its complement.
			if err := opts.defaults(); err != nil {
				t.Fatal(err)
			}
			hold, fit := calibrationSplit(tt.n, opts)
			if len(hold)+len(fit) != tt.n {
				t.Errorf("hold %d + fit %d, want %d", len(hold), len(fit), tt.n)
			}
			for _, i := range fit {
				if _, ok := slices.BinarySearch(got, i); ok {
					t.Fatalf("example %d is both fitted and in the calibration slice", i)
				}
			}
			other, _ := CalibrationSlice(tt.n, Options{Seed: 4, Holdout: tt.holdout})
			if tt.want > 0 && slices.Equal(got, other) {
				t.Errorf("seeds 3 and 4 give the same slice")
			}
		})
	}
	if _, err := CalibrationSlice(10, Options{Holdout: 1}); err == nil {
		t.Error("holdout 1: want an error")
	}
}
