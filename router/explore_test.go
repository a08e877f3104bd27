package router

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// promptPredictor predicts per prompt from a map.
type promptPredictor map[string][]float64

func (p promptPredictor) Predict(_ context.Context, prompt string) (PromptPrediction, error) {
	return PromptPrediction{Success: p[prompt], Analysis: Analysis{Complexity: Simple, Tier: TierLocal}}, nil
}

// exploreRun serves n requests cycling through prompts and returns the
// records.
func exploreRun(t *testing.T, opts Options, prompts []string, n int) []Record {
	t.Helper()
	rec := &memRecorder{}
	opts.Models, opts.Recorder, opts.Baseline = testModels, rec, "strong"
	opts.Completers = map[string]Completer{"p1": &scripted{}, "p2": &scripted{}}
	opts.Rand = rand.New(rand.NewPCG(5, 6)).Float64
	svc, err := NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := svc.Serve(context.Background(), Request{Messages: userMsg(prompts[i%len(prompts)])}); err != nil {
			t.Fatal(err)
		}
	}
	return rec.recs
}

// ipsCheck: for every prompt and every model that can go first, the mean
// of 1{first = model}/propensity is about 1: the recorded propensities
// are the true probabilities, which is what the learner's weighting needs.
func ipsCheck(t *testing.T, recs []Record, hash map[string]string, models []string) {
	t.Helper()
	for prompt, h := range hash {
		var n int
		sums, counts := map[string]float64{}, map[string]int{}
		for _, r := range recs {
			if r.PromptHash != h {
				continue
			}
			n++
			sums[r.Attempts[0].Model] += 1 / r.Propensity
			counts[r.Attempts[0].Model]++
		}
		for _, m := range models {
			// A model drawn c times has a relative error of about
			// 1/sqrt(c): allow four of those.
			tol := max(0.1, 4/math.Sqrt(float64(max(counts[m], 1))))
			if got := sums[m] / float64(n); math.Abs(got-1) > tol {
				t.Errorf("prompt %q model %s: mean 1{first}/propensity = %.3f over %d, want about 1", prompt, m, got, n)
			}
		}
	}
}

func TestExploreTableEvidence(t *testing.T) {
	v := Version{ID: 2, Table: testTable, Provenance: Provenance{Stats: map[string]map[string]ModelStat{
		Simple: {"cheap": {Samples: 400}, "mid": {Samples: 99}, "strong": {Samples: 0}},
	}}}
	recs := exploreRun(t, Options{Version: v, Classifier: fixedClassifier(Simple), Explore: 0.2}, []string{"q"}, 20000)
	first := map[string]int{}
	for _, r := range recs {
		first[r.Attempts[0].Model]++
		want := map[string]float64{"cheap": 0.8, "mid": 0.2 * 0.1 / 1.1, "strong": 0.2 * 1 / 1.1}[r.Attempts[0].Model]
		if math.Abs(r.Propensity-want) > 1e-12 || r.Explored != (r.Attempts[0].Model != "cheap") {
			t.Fatalf("first %s: propensity %v explored %v, want %v", r.Attempts[0].Model, r.Propensity, r.Explored, want)
		}
	}
	// The least known model gets ten times the exploration of mid.
	if first["strong"] < 8*first["mid"] {
		t.Errorf("first models %v: want strong (no samples) explored ~10x mid (99 samples)", first)
	}
	ipsCheck(t, recs, map[string]string{"q": HashPrompt("q")}, []string{"cheap", "mid", "strong"})

	// Without evidence: uniform over the alternatives, as before.
	recs = exploreRun(t, Options{Version: Version{ID: 1, Table: testTable}, Classifier: fixedClassifier(Simple), Explore: 0.2}, []string{"q"}, 200)
	for _, r := range recs {
		if r.Explored && math.Abs(r.Propensity-0.1) > 1e-12 {
			t.Fatalf("uniform exploration: propensity %v, want 0.1", r.Propensity)
		}
	}
}

func TestExplorePolicyUncertainty(t *testing.T) {
	// gap 0.05. "sure": cheap far below, mid far below the best: strong
	// is first and no alternative is near the threshold 0.85. "close":
	// mid first at 0.86, cheap at 0.84 just under the threshold.
	pred := promptPredictor{
		"sure":  {0.2, 0.4, 0.9},
		"close": {0.84, 0.86, 0.9},
	}
	v := Version{ID: 3, Table: testTable, Policy: testPolicy}
	const budget = 0.1
	recs := exploreRun(t, Options{Version: v, Classifier: &answerSeer{}, Predictor: pred, Explore: budget}, []string{"sure", "close"}, 40000)
	explored := map[string]int{}
	total := map[string]int{}
	all := 0
	for _, r := range recs {
		kind := map[string]string{HashPrompt("sure"): "sure", HashPrompt("close"): "close"}[r.PromptHash]
		total[kind]++
		if r.Explored {
			explored[kind]++
			all++
		}
	}
	rate := func(k string) float64 { return float64(explored[k]) / float64(total[k]) }
	t.Logf("explored: sure %.3f, close %.3f, all %.3f (budget %.2f)", rate("sure"), rate("close"), float64(all)/float64(len(recs)), budget)
	if got := float64(all) / float64(len(recs)); math.Abs(got-budget) > 0.02 {
		t.Errorf("explored share %.3f, want the budget %.2f", got, budget)
	}
	if rate("close") < 3*rate("sure") {
		t.Errorf("close prompts explored %.3f, sure ones %.3f: want the budget spent where uncertain", rate("close"), rate("sure"))
	}
	if rate("sure") < 0.5*exploreFloor*budget {
		t.Errorf("sure prompts explored %.4f, want at least about the floor %.3f", rate("sure"), exploreFloor*budget)
	}
	ipsCheck(t, recs, map[string]string{"sure": HashPrompt("sure"), "close": HashPrompt("close")}, []string{"cheap", "mid", "strong"})
}

// TestExploreRecordedOutcomes: with outcomes recorded (SetOutcomes) the
// bucket table explores the cheaper models that may be acceptable, not
// one that a cheaper model clearly beats, and the propensities stay
// exact.
func TestExploreRecordedOutcomes(t *testing.T) {
	table := Table{Simple: {"strong", "cheap", "mid"}, Moderate: {"strong"}, Complex: {"strong"}}
	tests := []struct {
		name   string
		counts []SignalCount
		// wantMid is mid's share of the exploration.
		wantMid func(float64) bool
	}{
		{"no outcomes: uniform", nil, func(s float64) bool { return math.Abs(s-0.5) < 1e-12 }},
		{"mid clearly worse than the cheaper cheap", []SignalCount{
			{Bucket: Simple, Model: "strong", Source: SourceFeedback, N: 1000, Score: 800},
			{Bucket: Simple, Model: "cheap", Source: SourceFeedback, N: 200, Score: 150},
			{Bucket: Simple, Model: "mid", Source: SourceFeedback, N: 200, Score: 60},
		}, func(s float64) bool { return s < 0.06 }},
		{"mid better than cheap: both", []SignalCount{
			{Bucket: Simple, Model: "strong", Source: SourceFeedback, N: 1000, Score: 800},
			{Bucket: Simple, Model: "cheap", Source: SourceFeedback, N: 200, Score: 150},
			{Bucket: Simple, Model: "mid", Source: SourceFeedback, N: 200, Score: 160},
		}, func(s float64) bool { return math.Abs(s-0.5) < 0.01 }},
		{"a category's outcomes count for its complexity", []SignalCount{
			{Bucket: BucketOf(Simple, "math"), Model: "cheap", Source: SourceFeedback, N: 200, Score: 150},
			{Bucket: BucketOf(Simple, "math"), Model: "mid", Source: SourceFeedback, N: 200, Score: 10},
		}, func(s float64) bool { return s < 0.06 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &memRecorder{}
			svc, err := NewService(Options{Version: Version{ID: 1, Table: table}, Classifier: fixedClassifier(Simple), Explore: 0.2,
				Models: testModels, Recorder: rec, Baseline: "strong", Completers: map[string]Completer{"p1": &scripted{}, "p2": &scripted{}},
				Rand: rand.New(rand.NewPCG(5, 6)).Float64})
			if err != nil {
				t.Fatal(err)
			}
			svc.SetOutcomes(tt.counts)
			for range 4000 {
				if _, err := svc.Serve(context.Background(), Request{Messages: userMsg("q")}); err != nil {
					t.Fatal(err)
				}
			}
			var mid float64
			for _, r := range rec.recs {
				if r.Attempts[0].Model == "mid" {
					mid = r.Propensity / 0.2
				}
			}
			if !tt.wantMid(mid) {
				t.Errorf("mid's share of the exploration %.4f: not what the evidence asks", mid)
			}
			ipsCheck(t, rec.recs, map[string]string{"q": HashPrompt("q")}, []string{"cheap", "mid", "strong"})
		})
	}
}

// countingSource answers SignalCounts from a script and ends the watch
// after the last answer.
type countingSource struct {
	answers []error
	calls   int
	cancel  context.CancelFunc
}

func (c *countingSource) SignalCounts(ctx context.Context, from, to time.Time) ([]SignalCount, error) {
	err := c.answers[c.calls]
	c.calls++
	if c.calls == len(c.answers) {
		c.cancel()
	}
	return []SignalCount{{Bucket: Simple, Model: "cheap", N: c.calls}}, err
}

func TestWatchOutcomes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &countingSource{answers: []error{nil, errors.New("db down"), nil}, cancel: cancel}
	var got []float64
	WatchOutcomes(ctx, WatchOutcomesOptions{Source: src, Interval: time.Millisecond, Logger: slog.New(slog.DiscardHandler), Set: func(g []SignalCount) {
		got = append(got, float64(g[0].N))
	}})
	// The first read comes at once; the failed one keeps the previous
	// reading; the last is cut by the cancelled context.
	if want := []float64{1}; !slices.Equal(got, want) {
		t.Errorf("readings set %v, want %v", got, want)
	}
}

// TestWatchOutcomesPacedByTraffic: the outcomes are read again after
// Every routed requests, not before (the interval is an hour of a clock
// that stands still).
func TestWatchOutcomesPacedByTraffic(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &countingSource{answers: make([]error, 4), cancel: cancel}
	var routed int64
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var readAt []int64
	WatchOutcomes(ctx, WatchOutcomesOptions{Source: src, Interval: time.Hour, Every: 10, Tick: time.Microsecond,
		Now:    func() time.Time { return at },
		Routed: func() int64 { routed += 3; return routed },
		Set:    func([]SignalCount) { readAt = append(readAt, routed) },
		Logger: slog.New(slog.DiscardHandler)})
	// Read at once (3), then at the first count 10 or more past the last
	// read: 3+12, 15+12, and the fourth read is cut by the cancel.
	if want := []int64{3, 15, 27}; !slices.Equal(readAt, want) {
		t.Errorf("read at routed counts %v, want %v", readAt, want)
	}
}
