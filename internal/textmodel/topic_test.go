package textmodel

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// topicExamples returns n prompts from four topics, each marked by its
// own words among random filler; the "weak" model's success rate depends
// on the topic only (0.9, 0.7, 0.4, 0.1), the "strong" model succeeds 90%
// of the time everywhere. Nothing else in the text predicts success.
func topicExamples(n int, seed uint64) []Example {
	r := rand.New(rand.NewPCG(seed, 3))
	topics := []struct {
		name  string
		words []string
		weak  float64
	}{
		{"geo", []string{"river", "country", "capital"}, 0.9},
		{"bio", []string{"patient", "dose", "cell"}, 0.7},
		{"law", []string{"court", "statute", "contract"}, 0.4},
		{"alg", []string{"matrix", "integral", "theorem"}, 0.1},
	}
	exs := make([]Example, n)
	for i := range exs {
		tp := topics[r.IntN(len(topics))]
		var b strings.Builder
		for range 6 + r.IntN(10) {
			if r.IntN(3) == 0 {
				b.WriteString(tp.words[r.IntN(len(tp.words))])
			} else {
				b.WriteString(benchWords[r.IntN(len(benchWords))])
			}
			b.WriteByte(' ')
		}
		exs[i] = Example{
			Prompt:   b.String(),
			Scores:   map[string]float64{"weak": b2f(r.Float64() < tp.weak), "strong": b2f(r.Float64() < 0.9)},
			Topic:    tp.name,
			Category: []string{"general", "zoo"}[i%2],
		}
	}
	return exs
}

func TestTrainTopics(t *testing.T) {
	exs := topicExamples(4000, 1)
	m := mustTrain(t, exs, Options{Seed: 1, TopicMin: 100, CategoryMin: 100})
	heads := m.Heads()
	var topics []string
	for h, head := range heads {
		if head.Kind == KindTopic {
			topics = append(topics, head.Name)
			continue
		}
		if len(topics) > 0 {
			t.Fatalf("head %d %q (%s) after a topic head; topic heads must come last", h, head.Name, head.Kind)
		}
	}
	if got, want := strings.Join(topics, ","), "alg,bio,geo,law"; got != want {
		t.Fatalf("topic heads %s, want %s", got, want)
	}
	weak := heads[m.Head(KindModel, "weak")]
	if len(weak.TopicRates) != len(topics) || weak.TopicWeight <= 0 {
		t.Fatalf("weak head: topic rates %v, weight %g; want %d rates and a positive weight", weak.TopicRates, weak.TopicWeight, len(topics))
	}
	// The rates follow the generating success rates, smoothed.
	for k, want := range []float64{0.1, 0.7, 0.9, 0.4} {
		if math.Abs(weak.TopicRates[k]-want) > 0.06 {
			t.Errorf("weak rate on %s = %.3f, want about %.1f", topics[k], weak.TopicRates[k], want)
		}
	}
	if h := heads[m.Head(KindCategory, "zoo")]; len(h.TopicRates) != 0 {
		t.Errorf("category head has topic rates %v, want none", h.TopicRates)
	}

	// On unseen prompts the weak head ranks well and its predictions are
	// near the topic rates; the topic heads recognise their topic.
	test := topicExamples(2000, 2)
	p, y := predictHead(m, test, m.Head(KindModel, "weak"))
	if got := AUC(p, y); got < 0.8 {
		t.Errorf("weak head AUC with topics = %.3f, want >= 0.8", got)
	}
	if got := ECE(Reliability(p, y, 10)); got > 0.05 {
		t.Errorf("weak head ECE with topics = %.3f, want <= 0.05", got)
	}
	right := 0
	for _, ex := range test {
		pr := m.Predict(ex.Prompt, nil)
		best, bestP := "", -1.0
		for h, head := range heads {
			if head.Kind == KindTopic && pr[h] > bestP {
				best, bestP = head.Name, pr[h]
			}
		}
		if best == ex.Topic {
			right++
		}
	}
	if acc := float64(right) / float64(len(test)); acc < 0.9 {
		t.Errorf("topic accuracy = %.3f, want >= 0.9", acc)
	}
	// Category still answers with category heads only.
	if cat, _ := m.Category(m.Predict(test[0].Prompt, nil)); cat != "general" && cat != "zoo" {
		t.Errorf("Category = %q, want a category head's name", cat)
	}
}

func TestTrainOnlyTopicHeads(t *testing.T) {
	exs := topicExamples(300, 3)
	for i := range exs {
		exs[i].Scores = nil
		exs[i].Category = ""
	}
	if _, err := Train(t.Context(), exs, Options{TopicMin: 10}); err != ErrNoData {
		t.Errorf("Train with topic heads only = %v, want ErrNoData", err)
	}
}

func TestTrainIsotonic(t *testing.T) {
	// 12,000 examples hold out 1,200 >= MinIsotonic labels per head.
	exs := tokenExamples(12000, 4, 0.8, 0.3)
	m := mustTrain(t, exs, Options{Seed: 1, Isotonic: true})
	for _, h := range m.Heads() {
		if len(h.Iso) == 0 {
			t.Fatalf("head %s: no isotonic map", h.Name)
		}
	}
	test := tokenExamples(2000, 5, 0.8, 0.3)
	p, y := predictHead(m, test, m.Head(KindModel, "weak"))
	if got := ECE(Reliability(p, y, 10)); got > 0.05 {
		t.Errorf("ECE with isotonic maps = %.3f, want <= 0.05", got)
	}
	small := mustTrain(t, tokenExamples(2000, 4, 0.8, 0.3), Options{Seed: 1, Isotonic: true})
	for _, h := range small.Heads() {
		if len(h.Iso) != 0 {
			t.Errorf("head %s: isotonic map from %d held-out examples, want none below %d", h.Name, 200, MinIsotonic)
		}
	}
}

func TestFitIsotonic(t *testing.T) {
	// (0.2, 1) and (0.3, 0) violate the order and pool to 0.5.
	knots := fitIsotonic([]float64{0.4, 0.1, 0.3, 0.2}, []float64{1, 0, 0, 1})
	want := []Knot{{0.1, minIsoY}, {0.25, 0.5}, {0.4, 1 - minIsoY}}
	if len(knots) != len(want) {
		t.Fatalf("fitIsotonic = %v, want %v", knots, want)
	}
	for k := range want {
		if math.Abs(knots[k].X-want[k].X) > 1e-12 || math.Abs(knots[k].Y-want[k].Y) > 1e-12 {
			t.Fatalf("fitIsotonic = %v, want %v", knots, want)
		}
	}
	tests := []struct{ p, want float64 }{
		{0, minIsoY},                   // flat below the first knot
		{0.175, (minIsoY + 0.5) / 2},   // halfway between knots
		{0.25, 0.5},                    // on a knot
		{0.9, 1 - minIsoY},             // flat above the last knot
		{0.325, 0.5 + (0.5-minIsoY)/2}, // halfway up the last segment
	}
	for _, tt := range tests {
		if got := isotonic(knots, tt.p); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("isotonic(%g) = %g, want %g", tt.p, got, tt.want)
		}
	}
	if got := isotonic(nil, 0.37); got != 0.37 {
		t.Errorf("isotonic without knots = %g, want the input", got)
	}
}

func TestFitLogistic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var x [][]float64
	var y []float64
	for range 20000 {
		a, b := r.NormFloat64(), r.NormFloat64()
		x = append(x, []float64{a, b})
		y = append(y, b2f(r.Float64() < sigmoid(2*a-b+0.5)))
	}
	c := fitLogistic(x, y)
	for k, want := range []float64{2, -1, 0.5} {
		if math.Abs(c[k]-want) > 0.15 {
			t.Errorf("coefficient %d = %.3f, want about %g (all: %v)", k, c[k], want, c)
		}
	}
}
