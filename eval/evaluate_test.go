package eval

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// byWord buckets prompts by their first word: "easy" is simple, "hard"
// complex, anything else moderate.
type byWord struct{}

func (byWord) Analyze(p string) router.Analysis {
	a := router.Analysis{Complexity: router.Moderate, EstimatedTokens: 10}
	switch {
	case strings.HasPrefix(p, "easy"):
		a.Complexity = router.Simple
	case strings.HasPrefix(p, "hard"):
		a.Complexity = router.Complex
	}
	return a
}

func ptr[T any](v T) *T { return &v }

// item is a prompt with the scores of "small" (costing $0.001) and "big"
// ($0.01).
func item(id, split, prompt string, small, big float64) datasets.Item {
	return datasets.Item{ID: id, Prompt: prompt, Split: split, Outcomes: map[string]datasets.Outcome{
		"small": {Score: small, CostUSD: ptr(0.001)},
		"big":   {Score: big, CostUSD: ptr(0.01)},
	}}
}

// fixture: on training, small always solves easy prompts and never hard
// ones, big solves everything. The test split is hand-scored below.
func fixture() []datasets.Item {
	var items []datasets.Item
	for i := range 60 {
		items = append(items,
			item(fmt.Sprintf("tr-e%d", i), "train", "easy question", 1, 1),
			item(fmt.Sprintf("tr-h%d", i), "train", "hard question", 0, 1))
	}
	return append(items,
		item("t1", "test", "easy one", 1, 1),
		item("t2", "test", "easy two", 1, 1),
		item("t3", "test", "hard one", 0, 1),
		item("t4", "test", "hard two", 0, 0),
	)
}

func TestEvaluateHandComputed(t *testing.T) {
	mx, err := Prepare(fixture(), PrepareOptions{Classifier: PromptClassifier{byWord{}}, TrainFrac: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if mx.Split != SplitDataset || len(mx.Train) != 120 || len(mx.Test) != 4 {
		t.Fatalf("split %s %d/%d, want dataset 120/4", mx.Split, len(mx.Train), len(mx.Test))
	}
	res, err := mx.Evaluate(EvaluateOptions{Target: 0.9, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Strongest != "big" || res.Weak != "small" || res.APGRAxis != "strong_calls" {
		t.Errorf("strongest %q weak %q axis %q; want big, small, strong_calls", res.Strongest, res.Weak, res.APGRAxis)
	}
	got := map[string]PolicyResult{}
	for _, p := range res.Policies {
		got[p.Name] = p
	}
	// always:big: quality 3/4 for $0.04. oracle: small on t1, t2, t4
	// (nobody is right on t4: cheapest), big on t3: $0.013, saving
	// 1 - 0.013/0.04 = 67.5%. learned: small for easy, big for hard:
	// $0.022, saving 45%, quality 0.75 = 100% of big's.
	for _, tt := range []struct {
		name                   string
		quality, cost, savings float64
		qvs, strong            float64
		calls                  map[string]int
	}{
		{"always:big", 0.75, 0.04, 0, 1, 1, map[string]int{"big": 4}},
		{"always:small", 0.5, 0.004, 0.9, 0.5 / 0.75, 0, map[string]int{"small": 4}},
		{"oracle", 0.75, 0.013, 0.675, 1, 0.25, map[string]int{"small": 3, "big": 1}},
		{"learned", 0.75, 0.022, 0.45, 1, 0.5, map[string]int{"small": 2, "big": 2}},
		{"static", 0.75, 0.022, 0.45, 1, 0.5, map[string]int{"small": 2, "big": 2}},
	} {
		p := got[tt.name]
		if p.N != 4 || !near(p.Quality, tt.quality) || !near(p.CostUSD, tt.cost) || !near(p.SavingsVsStrongest, tt.savings) ||
			!near(p.QualityVsStrongest, tt.qvs) || !near(p.StrongShare, tt.strong) || !near(p.CostPer1k, tt.cost/4*1000) ||
			!reflect.DeepEqual(p.CallsByModel, tt.calls) {
			t.Errorf("%s = %+v\nwant n 4, quality %v, cost %v, savings %v, vs strongest %v, strong %v, calls %v",
				tt.name, p, tt.quality, tt.cost, tt.savings, tt.qvs, tt.strong, tt.calls)
		}
	}
	wantTable := router.Table{router.Simple: {"small", "big"}, router.Moderate: {"big", "small"}, router.Complex: {"big", "small"}}
	if !reflect.DeepEqual(res.LearnedTable, wantTable) {
		t.Errorf("learned table = %v, want %v", res.LearnedTable, wantTable)
	}
	if res.StaticSource != "derived" {
		t.Errorf("static source = %q, want derived", res.StaticSource)
	}
	// Random is cost-matched to learned: half the prompts to big, in
	// expectation; with four prompts, only its bounds are certain.
	if r := got["random"]; r.N != 4 || r.CallsByModel["big"]+r.CallsByModel["small"] != 4 {
		t.Errorf("random = %+v, want 4 calls", r)
	}
	// The curve: all small (0, 0.5), learned (0.5, 0.75), all big
	// (1, 0.75): APGR = (0.3125 + 0.375 - 0.5) / 0.25 = 0.75.
	if res.APGR == nil || !near(*res.APGR, 0.75) {
		t.Errorf("APGR = %v, want 0.75 (curve %+v)", num(res.APGR, 4, false), res.Curve)
	}
	if res.CPT50 == nil || !near(*res.CPT50, 0.25) {
		t.Errorf("CPT50 = %v, want 0.25", num(res.CPT50, 4, false))
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEvaluateErrors(t *testing.T) {
	mx, err := Prepare(fixture(), PrepareOptions{Classifier: PromptClassifier{byWord{}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"always:nope", "smart", "always:"} {
		if _, err := mx.Evaluate(EvaluateOptions{Policies: []string{p}}); err == nil {
			t.Errorf("policy %q: no error", p)
		}
	}
	// A static table naming models the dataset lacks falls back to the
	// strongest for those buckets rather than failing.
	res, err := mx.Evaluate(EvaluateOptions{Policies: []string{"static"}, Static: router.Table{router.Complex: {"gpt-4o"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Policies[0].CallsByModel; c["big"] != 4 {
		t.Errorf("static with unknown models: calls %v, want all to big", c)
	}
}

func TestPrepareCostsAndSplit(t *testing.T) {
	items := []datasets.Item{
		{ID: "a", Prompt: strings.Repeat("x", 400), Outcomes: map[string]datasets.Outcome{
			"m": {Score: 1},                                                  // 100 estimated prompt tokens, 10 answer tokens
			"n": {Score: 0, PromptTokens: ptr(50), CompletionTokens: ptr(5)}, // recorded tokens
		}},
		{ID: "b", Prompt: "label only", Label: datasets.Label{Complexity: "simple"}},
	}
	prices := router.Catalog{"m": {InputPerMTok: 1, OutputPerMTok: 2}, "n": {InputPerMTok: 10, OutputPerMTok: 20}}
	mx, err := Prepare(items, PrepareOptions{Classifier: PromptClassifier{byWord{}}, Prices: prices, TrainFrac: 1})
	if err != nil {
		t.Fatal(err)
	}
	// m: (100*1 + 10*2)/1e6; n: (50*10 + 5*20)/1e6.
	if got, want := mx.Cost, []float64{120e-6, 600e-6}; !near(got[0], want[0]) || !near(got[1], want[1]) {
		t.Errorf("costs = %v, want %v", got, want)
	}
	if mx.Skipped != 1 || mx.N() != 1 || len(mx.Train) != 1 || mx.Split != SplitFraction {
		t.Errorf("skipped %d, n %d, train %d, split %s; want 1, 1, 1, fraction", mx.Skipped, mx.N(), len(mx.Train), mx.Split)
	}
	// A model without a recorded cost and without a price is an error.
	delete(prices, "n")
	if _, err := Prepare(items, PrepareOptions{Classifier: PromptClassifier{byWord{}}, Prices: prices}); err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Errorf("missing price: err = %v, want one naming model n", err)
	}
}

func TestFractionSplitIsSeededAndStable(t *testing.T) {
	var items []datasets.Item
	for i := range 1000 {
		items = append(items, item(fmt.Sprintf("id-%d", i), "", "easy", 1, 1))
	}
	prep := func(seed uint64, its []datasets.Item) map[string]bool {
		mx, err := Prepare(its, PrepareOptions{Classifier: PromptClassifier{byWord{}}, TrainFrac: 0.3, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		train := map[string]bool{}
		for _, i := range mx.Train {
			train[its[i].ID] = true
		}
		return train
	}
	a, b := prep(1, items), prep(1, items)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed gave different splits")
	}
	if n := len(a); n < 250 || n > 350 {
		t.Errorf("train share %d/1000, want about 300", n)
	}
	if reflect.DeepEqual(a, prep(2, items)) {
		t.Error("seeds 1 and 2 gave the same split")
	}
	// Dropping items keeps the others on their side.
	sub := prep(1, items[:500])
	for id := range sub {
		if !a[id] {
			t.Errorf("%s trains in the subset but not in the whole", id)
		}
	}
}

func TestClassifiers(t *testing.T) {
	d := func(v float64) *float64 { return &v }
	it := datasets.Item{Prompt: "hard x", Source: "mmlu/high_school_physics"}
	if a := (SourceClassifier{byWord{}}).Classify(&it); a.Complexity != router.Complex || a.Category != "high_school_physics" {
		t.Errorf("SourceClassifier = %s/%s, want complex/high_school_physics", a.Complexity, a.Category)
	}
	for _, tt := range []struct {
		label datasets.Label
		want  router.Complexity
		cat   string
	}{
		{datasets.Label{Complexity: "Simple"}, router.Simple, ""},
		{datasets.Label{Difficulty: d(2)}, router.Simple, ""},
		{datasets.Label{Difficulty: d(3)}, router.Moderate, ""},
		{datasets.Label{Difficulty: d(5), Category: "Number Theory"}, router.Complex, "number_theory"},
		{datasets.Label{}, router.Complex, ""}, // the analyser's view
	} {
		it := datasets.Item{Prompt: "hard", Label: tt.label}
		if a := (LabelClassifier{byWord{}}).Classify(&it); a.Complexity != tt.want || a.Category != tt.cat {
			t.Errorf("LabelClassifier(%+v) = %s/%q, want %s/%q", tt.label, a.Complexity, a.Category, tt.want, tt.cat)
		}
	}
}

func TestReadPrices(t *testing.T) {
	cat, err := ReadPrices(strings.NewReader(`{"_comment": "x", "a": {"input_per_mtok": 1.5, "output_per_mtok": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat) != 1 || cat["a"].InputPerMTok != 1.5 || cat["a"].OutputPerMTok != 2 {
		t.Errorf("ReadPrices = %+v, want a at 1.5/2", cat)
	}
	for _, bad := range []string{`{"a": {"input_per_mtok": 1}}`, `{"a": {"input_per_mtok": -1, "output_per_mtok": 1}}`, `[`} {
		if _, err := ReadPrices(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadPrices(%s): no error", bad)
		}
	}
}

func TestWriteTextAndHTML(t *testing.T) {
	mx, err := Prepare(fixture(), PrepareOptions{Classifier: PromptClassifier{byWord{}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mx.Evaluate(EvaluateOptions{Target: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	res.Dataset = "fixture <&>"
	var text, html strings.Builder
	if err := WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"learned", "oracle", "always:big", "APGR 0.750", "simple"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	if err := WriteHTML(&html, res); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	if strings.Count(h, "<svg") != 2 || strings.Contains(h, "<script") || strings.Contains(h, "http://") && !strings.Contains(h, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("HTML report: want two inline SVGs and no scripts")
	}
	if strings.Contains(h, "fixture <&>") || !strings.Contains(h, "fixture &lt;&amp;&gt;") {
		t.Error("HTML report does not escape the dataset name")
	}
}

func TestEvaluateMissingOutcomes(t *testing.T) {
	items := fixture()
	// t2 has no outcome for big: policies that want big there fall back
	// to the strongest model that has one, prompt by prompt.
	delete(items[len(items)-3].Outcomes, "big")
	mx, err := Prepare(items, PrepareOptions{Classifier: PromptClassifier{byWord{}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mx.Evaluate(EvaluateOptions{Policies: []string{"always:big", "learned"}, Target: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	big, learned := res.Policies[0], res.Policies[1]
	if big.Fallbacks != 1 || !reflect.DeepEqual(big.CallsByModel, map[string]int{"big": 3, "small": 1}) || !near(big.CostUSD, 0.031) {
		t.Errorf("always:big = %+v; want 1 fallback to small, cost 0.031", big)
	}
	// learned sends easy prompts to small first: no fallback needed.
	if learned.Fallbacks != 0 || !near(learned.CostUSD, 0.022) {
		t.Errorf("learned = %+v; want no fallback, cost 0.022", learned)
	}
}
