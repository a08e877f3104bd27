package learner

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// outcomes returns ok successes and bad failures of model in a bucket,
// each call costing cost micro-USD.
func outcomes(c router.Complexity, cat, model string, ok, bad int, cost float64) []Sample {
	var out []Sample
	for i := range ok + bad {
		score := 0.0
		if i < ok {
			score = 1
		}
		out = append(out, Sample{Complexity: c, Category: cat, Model: model, Score: score, CostMicros: cost, Weight: 1})
	}
	return out
}

func concat(parts ...[]Sample) []Sample {
	var out []Sample
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestFitChoosesCheapestAdequateByCostPerSuccess(t *testing.T) {
	tests := []struct {
		name string
		obs  []Sample
		want []string
	}{{
		// All three are adequate at 0.9; cheap has the lowest cost per
		// success (100/0.95 against 300/0.99 and 1000/0.99).
		name: "cheap model adequate",
		obs: concat(
			outcomes(router.Simple, "", "cheap", 950, 50, 100),
			outcomes(router.Simple, "", "mid", 990, 10, 300),
			outcomes(router.Simple, "", "big", 990, 10, 1000),
		),
		want: []string{"cheap", "mid", "big"},
	}, {
		// cheap is the lowest price per call and adequate, but it fails
		// more often: 100/0.92 = 108.7 per success against 102/0.99 = 103.
		name: "cost per success beats price per call",
		obs: concat(
			outcomes(router.Simple, "", "cheap", 9200, 800, 100),
			outcomes(router.Simple, "", "mid", 9900, 100, 102),
			outcomes(router.Simple, "", "big", 9950, 50, 1000),
		),
		want: []string{"mid", "cheap", "big"},
	}, {
		// cheap is not adequate (0.7): adequate models first by cost per
		// success, then the inadequate one.
		name: "escalation order",
		obs: concat(
			outcomes(router.Simple, "", "cheap", 700, 300, 10),
			outcomes(router.Simple, "", "mid", 960, 40, 300),
			outcomes(router.Simple, "", "big", 990, 10, 1000),
		),
		want: []string{"mid", "big", "cheap"},
	}, {
		// Nothing is adequate: strongest first, then by strength.
		name: "none adequate",
		obs: concat(
			outcomes(router.Simple, "", "cheap", 500, 500, 10),
			outcomes(router.Simple, "", "mid", 800, 200, 300),
			outcomes(router.Simple, "", "big", 850, 150, 1000),
		),
		want: []string{"big", "mid", "cheap"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl, _, err := Fit(tt.obs, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if got := tbl[router.Simple]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("simple bucket = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFitThinEvidenceKeepsStrongModel(t *testing.T) {
	strong := outcomes(router.Moderate, "", "big", 500, 5, 1000)
	for _, tt := range []struct {
		ok   int
		want string
	}{
		{ok: 5, want: "big"},     // 5/5 is not enough to trust at 0.9
		{ok: 20, want: "big"},    // Beta(21,1) 5% quantile = 0.867 < 0.9
		{ok: 200, want: "cheap"}, // 0.985: now credibly adequate
	} {
		obs := concat(strong, outcomes(router.Moderate, "", "cheap", tt.ok, 0, 10))
		tbl, _, err := Fit(obs, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if got := tbl[router.Moderate][0]; got != tt.want {
			t.Errorf("cheap with %d/%d successes: first choice %q, want %q", tt.ok, tt.ok, got, tt.want)
		}
	}
}

func TestFitShrinksThinCategoryTowardParent(t *testing.T) {
	// Complex prompts: cheap succeeds 97% overall. In "math" only the big
	// model has many samples; cheap has three, all failures.
	base := concat(
		outcomes(router.Complex, "", "cheap", 970, 30, 10),
		outcomes(router.Complex, "", "big", 990, 10, 1000),
		outcomes(router.Complex, "math", "big", 198, 2, 1000),
	)
	thin := concat(base, outcomes(router.Complex, "math", "cheap", 0, 3, 10))
	e, err := Summarize(thin, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := e.Table(0.5)
	if _, ok := tbl["complex/math"]; ok {
		t.Errorf("thin math bucket emitted: %v; want it to follow its parent", tbl)
	}
	// The estimate lies between the raw rate (0) and the parent's, near
	// the parent: the parent's mean worth 50 samples against 3 failures.
	var mathCheap stat
	for _, s := range e.refined[0].stats {
		if e.models[s.model] == "cheap" {
			mathCheap = s
		}
	}
	parent := e.byComplexity[2][0]
	if want := 50 * parent.mean / 53; math.Abs(mathCheap.mean-want) > 1e-9 {
		t.Errorf("math/cheap posterior mean = %.4f, want %.4f (shrunk toward parent %.4f)", mathCheap.mean, want, parent.mean)
	}

	// With plenty of evidence that cheap fails at math, the refined
	// bucket appears and sends math to the big model.
	thick := concat(base, outcomes(router.Complex, "math", "cheap", 20, 80, 10))
	tbl, prov, err := Fit(thick, Options{Target: 0.85})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tbl["complex/math"], []string{"big", "cheap"}; !reflect.DeepEqual(got, want) {
		t.Errorf("complex/math = %v, want %v (table %v)", got, want, tbl)
	}
	if got, want := tbl[router.Complex][0], "cheap"; got != want {
		t.Errorf("complex first choice = %q, want %q", got, want)
	}
	if s := prov.Stats["complex/math"]["cheap"]; s.Samples != 100 || s.SuccessRate > 0.5 {
		t.Errorf("provenance complex/math cheap = %+v, want 100 samples and a low rate", s)
	}
}

func TestFitEveryComplexityPresent(t *testing.T) {
	// Only simple prompts seen; moderate and complex fall back to the
	// strongest models overall.
	obs := concat(
		outcomes(router.Simple, "", "cheap", 60, 40, 10),
		outcomes(router.Simple, "", "big", 95, 5, 1000),
	)
	tbl, _, err := Fit(obs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := router.Table{
		router.Simple:   {"big", "cheap"},
		router.Moderate: {"big", "cheap"},
		router.Complex:  {"big", "cheap"},
	}
	if !reflect.DeepEqual(tbl, want) {
		t.Errorf("table = %v, want %v", tbl, want)
	}
	cat := router.Catalog{"cheap": {Name: "cheap"}, "big": {Name: "big"}}
	if err := tbl.Validate(cat); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestFitProvenance(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	obs := concat(
		outcomes(router.Simple, "", "cheap", 90, 10, 10),
		outcomes(router.Simple, "", "big", 99, 1, 1000),
	)
	for i := range obs {
		obs[i].At = t0.Add(time.Duration(i) * time.Minute)
	}
	opts := DefaultOptions()
	opts.Target = 0.8
	_, prov, err := Fit(obs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !prov.WindowFrom.Equal(t0) || !prov.WindowTo.Equal(t0.Add(199*time.Minute)) || prov.Samples != 200 {
		t.Errorf("window %v..%v samples %d; want %v..%v 200", prov.WindowFrom, prov.WindowTo, prov.Samples, t0, t0.Add(199*time.Minute))
	}
	if prov.Params["target"] != 0.8 || prov.Params["prior_alpha"] != 1 || prov.Params["credibility"] != 0.95 {
		t.Errorf("params = %v, want target 0.8, prior_alpha 1, credibility 0.95", prov.Params)
	}
	s := prov.Stats[router.Simple]["cheap"]
	// Beta(1+90, 1+10): mean 91/102.
	if s.Samples != 100 || math.Abs(s.SuccessRate-91.0/102) > 1e-12 || s.MeanCost != 10 || !(s.LowerBound > 0.8 && s.LowerBound < 91.0/102) {
		t.Errorf("stats simple/cheap = %+v; want 100 samples, rate %.4f, cost 10, bound in (0.8, rate)", s, 91.0/102)
	}
}

func TestFitWeights(t *testing.T) {
	// Uniform weights change nothing: the effective sample size is the
	// sample count whatever the scale.
	obs := concat(
		outcomes(router.Simple, "", "cheap", 90, 10, 10),
		outcomes(router.Simple, "", "big", 99, 1, 1000),
	)
	_, p1, err := Fit(obs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range obs {
		obs[i].Weight = 25
	}
	_, p2, err := Fit(obs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1.Stats, p2.Stats) {
		t.Errorf("stats with weight 25 = %v, want as with weight 1: %v", p2.Stats, p1.Stats)
	}
}

func TestFitErrors(t *testing.T) {
	good := Sample{Complexity: router.Simple, Model: "m", Score: 1, Weight: 1}
	tests := []struct {
		name string
		obs  []Sample
		opts Options
	}{
		{"empty", nil, DefaultOptions()},
		{"score", []Sample{{Complexity: router.Simple, Model: "m", Score: 1.5, Weight: 1}}, DefaultOptions()},
		{"weight", []Sample{{Complexity: router.Simple, Model: "m", Score: 1}}, DefaultOptions()},
		{"complexity", []Sample{{Complexity: "Simple", Model: "m", Score: 1, Weight: 1}}, DefaultOptions()},
		{"model", []Sample{{Complexity: router.Simple, Score: 1, Weight: 1}}, DefaultOptions()},
		{"target", []Sample{good}, Options{Target: 1.2}},
		{"credibility", []Sample{good}, Options{Credibility: 1}},
	}
	for _, tt := range tests {
		if _, _, err := Fit(tt.obs, tt.opts); err == nil {
			t.Errorf("%s: Fit returned no error", tt.name)
		}
	}
	if _, _, err := Fit(nil, DefaultOptions()); !errors.Is(err, ErrNoObservations) {
		t.Errorf("Fit(nil) = %v, want ErrNoObservations", err)
	}
}

func TestThresholds(t *testing.T) {
	obs := concat(
		outcomes(router.Simple, "", "cheap", 90, 10, 10),
		outcomes(router.Simple, "", "big", 99, 1, 1000),
	)
	e, err := Summarize(obs, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	th := e.Thresholds()
	if len(th) != 2 || !(th[0] < th[1]) {
		t.Fatalf("Thresholds = %v, want two ascending bounds", th)
	}
	// Just above cheap's bound it is inadequate; at it, adequate.
	if tbl, _ := e.Table(th[0]); tbl[router.Simple][0] != "cheap" {
		t.Errorf("at target %v: %v, want cheap first", th[0], tbl[router.Simple])
	}
	if tbl, _ := e.Table(math.Nextafter(th[0], 1)); tbl[router.Simple][0] != "big" {
		t.Errorf("just above %v: %v, want big first", th[0], tbl[router.Simple])
	}
}

// syntheticObservations makes n observations over 3 complexities, 12
// categories and 11 models, with each model's success rate rising with
// its price.
func syntheticObservations(n int) []Sample {
	rng := rand.New(rand.NewPCG(1, 2))
	models := make([]string, 11)
	for i := range models {
		models[i] = fmt.Sprintf("model-%02d", i)
	}
	cats := []string{"", "math", "code", "law", "medicine", "chat", "writing", "knowledge", "reasoning", "translation", "summarization", "general"}
	obs := make([]Sample, n)
	for i := range obs {
		m := i % len(models)
		c := rng.IntN(3)
		p := 0.2 + 0.07*float64(m) - 0.1*float64(c)
		score := 0.0
		if rng.Float64() < p {
			score = 1
		}
		obs[i] = Sample{
			Complexity: router.Complexities[c],
			Category:   cats[rng.IntN(len(cats))],
			Model:      models[m],
			Score:      score,
			CostMicros: float64(10 * (m + 1) * (m + 1)),
			Weight:     1,
		}
	}
	return obs
}

func TestFitSynthetic(t *testing.T) {
	obs := syntheticObservations(50_000)
	tbl, _, err := Fit(obs, Options{Target: 0.585})
	if err != nil {
		t.Fatal(err)
	}
	// Success 0.2+0.07m-0.1c with ~1500 samples a cell (bounds about
	// 0.02 from the rate): simple needs m>=6 (0.62), complex m>=9 (0.63).
	for c, want := range map[router.Complexity]string{router.Simple: "model-06", router.Complex: "model-09"} {
		if got := tbl[string(c)][0]; got != want {
			t.Errorf("%s first choice = %s, want %s (table %v)", c, got, want, tbl)
		}
	}
	// Categories carry no signal here, so none is refined.
	if len(tbl) != 3 {
		t.Errorf("table has %d buckets, want the 3 complexities: %v", len(tbl), tbl)
	}
}

// BenchmarkFit fits one million observations (issue 4: under 2 s).
//
//	go test ./learner -run '^$' -bench Fit -benchtime 5x
func BenchmarkFit(b *testing.B) {
	obs := syntheticObservations(1_000_000)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Fit(obs, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
