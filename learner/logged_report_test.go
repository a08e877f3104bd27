package learner

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// TestLoggedTrainingReport is the test bench of learning from logged
// bandit feedback (issue 9, item 5). On a shared dataset, where every
// model's outcome on every prompt is known, it simulates the service's
// logging: the heuristic classifier's complexity picks a model from a
// static table (cheap for simple prompts, mid-priced for moderate, the
// strongest for complex), exploration sends a share epsilon to a model
// drawn uniformly from all of them, and only the model that answered is
// logged, with its propensity. The local model is then trained three
// ways and scored on the test split, where every outcome is known:
//
//	full:       every model's outcome on every training prompt
//	logged:     the logged outcome only, unweighted
//	logged-ips: the logged outcome weighted 1/propensity (clipped)
//
// A report, not a check: it runs only with SWITCHYARD_LOGGED_REPORT set
// to the shared datasets directory (../../shared/datasets from here):
//
//	SWITCHYARD_LOGGED_REPORT=../../shared/datasets go test ./learner -run LoggedTrainingReport -v -timeout 30m
func TestLoggedTrainingReport(t *testing.T) {
	dir := os.Getenv("SWITCHYARD_LOGGED_REPORT")
	if dir == "" {
		t.Skip("set SWITCHYARD_LOGGED_REPORT to the shared datasets directory")
	}
	prices := loadPrices(t, filepath.Join(dir, "prices.json"))
	for _, ds := range []struct{ file, source string }{
		{"llmrouter_dcrouter.jsonl.gz", ""},
		{"routellm.jsonl.gz", "mmlu/"},
	} {
		items, err := datasets.Load(filepath.Join(dir, ds.file))
		if err != nil {
			t.Fatal(err)
		}
		if ds.source != "" {
			items = slices.DeleteFunc(items, func(it datasets.Item) bool { return !strings.HasPrefix(it.Source, ds.source) })
		}
		loggedReport(t, ds.file+" "+ds.source, items, prices, []float64{0.1, 0.3}, []float64{10, 50})
	}
}

type price struct {
	In  float64 `json:"input_per_mtok"`
	Out float64 `json:"output_per_mtok"`
}

func loadPrices(t *testing.T, path string) map[string]price {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]price{}
	for k, v := range raw {
		var p price
		if json.Unmarshal(v, &p) == nil {
			out[k] = p
		}
	}
	return out
}

// benchAnswerTokens is the answer length assumed where a row has no
// token counts.
const benchAnswerTokens = 100

// benchCost returns what a dataset row's call to a model cost, in USD:
// its recorded cost, else its tokens (estimated where missing) at prices.
func benchCost(prices map[string]price) func(it *datasets.Item, m string) float64 {
	return func(it *datasets.Item, m string) float64 {
		o := it.Outcomes[m]
		if o.CostUSD != nil {
			return *o.CostUSD
		}
		in, out := datasets.EstimateTokens(it.Prompt), benchAnswerTokens
		if o.PromptTokens != nil {
			in = *o.PromptTokens
		}
		if o.CompletionTokens != nil {
			out = *o.CompletionTokens
		}
		p := prices[m]
		return (float64(in)*p.In + float64(out)*p.Out) / 1e6
	}
}

// benchSplit splits a dataset's rows with every model's outcome into
// train and test: by their own split when the file fixes one, else every
// fifth row is test.
func benchSplit(items []datasets.Item, models []string) (train, test []*datasets.Item) {
	fixed := slices.ContainsFunc(items, func(it datasets.Item) bool { return it.Split == "train" })
	for i := range items {
		it := &items[i]
		if len(it.Outcomes) != len(models) {
			continue
		}
		if fixed && it.Split == "test" || !fixed && i%5 == 0 {
			test = append(test, it)
		} else {
			train = append(train, it)
		}
	}
	return train, test
}

func loggedReport(t *testing.T, name string, items []datasets.Item, prices map[string]price, epsilons, clips []float64) {
	models := datasets.Models(items)
	cost := benchCost(prices)
	train, test := benchSplit(items, models)
	// Cheapest first by mean training cost, ties by mean score.
	meanCost, meanScore := map[string]float64{}, map[string]float64{}
	for _, it := range train {
		for _, m := range models {
			meanCost[m] += cost(it, m) / float64(len(train))
			meanScore[m] += it.Outcomes[m].Score / float64(len(train))
		}
	}
	slices.SortFunc(models, func(a, b string) int {
		if c := cmp.Compare(meanCost[a], meanCost[b]); c != 0 && !sameCostBench(meanCost[a], meanCost[b]) {
			return c
		}
		return cmp.Compare(meanScore[a], meanScore[b])
	})
	K := len(models)
	table := map[router.Complexity]int{router.Simple: 0, router.Moderate: K / 2, router.Complex: K - 1}

	costs := make([]float64, K)
	base := 0
	for k, m := range models {
		costs[k] = meanCost[m]
		if meanScore[m] > meanScore[models[base]] {
			base = k
		}
	}
	t.Logf("%s: %d train, %d test prompts, %d models cheapest first %v; baseline %s", name, len(train), len(test), K, models, models[base])
	score := func(view string, exs []textmodel.Example) {
		mdl, err := textmodel.Train(context.Background(), exs, textmodel.Options{Models: models, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		pred := make([]float64, 0, len(test)*K)
		for _, it := range test {
			pred = append(pred, mdl.Predict(it.Prompt, nil)[:K]...)
		}
		chosen := map[int]bool{}
		for _, k := range table {
			chosen[k] = true
		}
		var bias, logloss, biasTable float64
		for k, m := range models {
			var mp, my, ll float64
			for i, it := range test {
				p, y := min(max(pred[i*K+k], 1e-6), 1-1e-6), it.Outcomes[m].Score
				mp += p
				my += y
				ll -= y*math.Log(p) + (1-y)*math.Log(1-p)
			}
			n := float64(len(test))
			bias += math.Abs(mp-my) / n / float64(K)
			if chosen[k] {
				biasTable += math.Abs(mp-my) / n / float64(len(chosen))
			}
			logloss += ll / n / float64(K)
		}
		at95, at100 := curveShares(t, models, costs, pred, test, cost, base)
		t.Logf("  %-24s mean |calibration bias| %.3f (table's models %.3f)  log loss %.3f  test cost share at >=95%% of baseline quality %s, at >=100%% %s",
			view, bias, biasTable, logloss, pct(at95), pct(at100))
	}
	full := make([]textmodel.Example, len(train))
	for i, it := range train {
		scores := map[string]float64{}
		for _, m := range models {
			scores[m] = it.Outcomes[m].Score
		}
		full[i] = textmodel.Example{Prompt: it.Prompt, Scores: scores}
	}
	score("full information", full)

	// The service's logging: the table's choice, or exploration to any
	// model, one model answered per prompt.
	heur := classify.Heuristic{}
	choice := make([]int, len(train))
	for i, it := range train {
		choice[i] = table[heur.Analyze(it.Prompt).Complexity]
	}
	for _, eps := range epsilons {
		rng := rand.New(rand.NewPCG(7, uint64(eps*1000)))
		logged := make([]textmodel.Example, len(train))
		prop := make([]float64, len(train))
		for i, it := range train {
			k := choice[i]
			if rng.Float64() < eps {
				k = rng.IntN(K)
			}
			prop[i] = eps / float64(K)
			if k == choice[i] {
				prop[i] += 1 - eps
			}
			m := models[k]
			logged[i] = textmodel.Example{Prompt: it.Prompt, Scores: map[string]float64{m: it.Outcomes[m].Score}}
		}
		score(fmt.Sprintf("logged e=%.2f", eps), logged)
		for _, clip := range clips {
			ips := make([]textmodel.Example, len(train))
			for i, ex := range logged {
				ips[i] = ex
				for m := range ex.Scores {
					ips[i].Weights = map[string]float64{m: textmodel.ImportanceWeight(prop[i], clip)}
				}
			}
			score(fmt.Sprintf("logged e=%.2f ips<=%.0f", eps, clip), ips)
		}
	}
}

// curveShares sweeps the gap rule over the test predictions and returns
// the least cost share of the baseline at which quality keeps 95% and
// 100% of the baseline's (NaN where no point does): the best points of
// the test curve, comparable between training views, not a chosen
// operating point.
func curveShares(t *testing.T, models []string, costs, pred []float64, test []*datasets.Item, cost func(*datasets.Item, string) float64, base int) (at95, at100 float64) {
	K := len(models)
	var qb, cb float64
	for _, it := range test {
		qb += it.Outcomes[models[base]].Score
		cb += cost(it, models[base])
	}
	at95, at100 = math.NaN(), math.NaN()
	for g := 0; g <= 100; g++ {
		p, err := router.NewPicker(models, costs, router.OperatingPoint{Rule: router.RuleGap, Param: float64(g) / 100})
		if err != nil {
			t.Fatal(err)
		}
		var q, c float64
		for i, it := range test {
			k := p.Choose(pred[i*K : (i+1)*K])
			q += it.Outcomes[models[k]].Score
			c += cost(it, models[k])
		}
		share := c / cb
		if q >= 0.95*qb && !(share >= at95) {
			at95 = share
		}
		if q >= qb && !(share >= at100) {
			at100 = share
		}
	}
	return at95, at100
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "  - "
	}
	return fmt.Sprintf("%3.0f%%", 100*x)
}

func sameCostBench(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))
}
