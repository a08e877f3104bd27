package learner

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/router"
)

// TestGateHeldOutReport measures the table gate as the live loop meets
// it, in sample and held out, on a shared dataset where every model's
// outcome is known. Each seed logs a shuffled slice of the train split
// as the loop's service would (the heuristic classifier's bucket, the
// strongest model first everywhere, 30% exploration uniform over every
// model, only the answering model's outcome kept), fits a table toward
// keeping 99% of the strongest model's quality with the gate's evidence
// rule, and gates it both ways; a promoted table (its thin or unstable
// buckets held back, as the job does) is then scored on the test split
// with every outcome known. It reports how often each gate promotes and
// what the promotions truly did to quality and cost.
//
// A report, not a check: it runs only with SWITCHYARD_GATE_REPORT set to
// the shared datasets directory (../../shared/datasets from here):
//
//	SWITCHYARD_GATE_REPORT=../../shared/datasets go test ./learner -run GateHeldOutReport -v
func TestGateHeldOutReport(t *testing.T) {
	dir := os.Getenv("SWITCHYARD_GATE_REPORT")
	if dir == "" {
		t.Skip("set SWITCHYARD_GATE_REPORT to the shared datasets directory")
	}
	items, err := datasets.Load(filepath.Join(dir, "llmrouter_dcrouter.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	cost := benchCost(loadPrices(t, filepath.Join(dir, "prices.json")))
	models := datasets.Models(items)
	train, test := benchSplit(items, models)
	heur := classify.Heuristic{}
	analysis := func(it *datasets.Item) router.Analysis {
		a := heur.Analyze(it.Prompt)
		return router.Analysis{Complexity: a.Complexity, Category: a.Category}
	}
	trainAn := make([]router.Analysis, len(train))
	for i, it := range train {
		trainAn[i] = analysis(it)
	}
	testAn := make([]router.Analysis, len(test))
	for i, it := range test {
		testAn[i] = analysis(it)
	}
	var strongest string
	mean := map[string]float64{}
	for _, it := range train {
		for _, m := range models {
			mean[m] += it.Outcomes[m].Score
		}
	}
	for _, m := range models {
		if strongest == "" || mean[m] > mean[strongest] {
			strongest = m
		}
	}
	active := router.Table{}
	for _, c := range router.Complexities {
		active[string(c)] = []string{strongest}
	}
	// score is a table's true mean quality and cost (USD) a prompt on the
	// test split.
	score := func(tb router.Table) (q, c float64) {
		for i, it := range test {
			m := first(tb.Candidates(testAn[i]))
			q += it.Outcomes[m].Score
			c += cost(it, m)
		}
		return q / float64(len(test)), c / float64(len(test))
	}
	qa, ca := score(active)
	t.Logf("llmrouter: %d train, %d test prompts, %d models; active: %s everywhere, test quality %.4f, $%.4f a prompt", len(train), len(test), len(models), strongest, qa, ca)

	gopts := DefaultGateOptions()
	fopts := Options{KeepQuality: 0.99, Baseline: strongest, Evidence: gopts.MinSamples}
	const eps, seeds = 0.3, 20
	for _, n := range []int{2000, 3000, 5000} {
		type tally struct {
			promoted int
			dq, dc   float64 // summed over promotions: true quality and cost share change
			worse    int     // promotions that truly lose more than the tolerance
			causes   map[string]int
		}
		in, ho := tally{causes: map[string]int{}}, tally{causes: map[string]int{}}
		for s := range seeds {
			rng := rand.New(rand.NewPCG(uint64(s+1), uint64(n)))
			order := rng.Perm(len(train))[:min(n, len(train))]
			obs := make([]router.Observation, 0, len(order))
			for j, i := range order {
				it := train[i]
				m, p := strongest, 1-eps+eps/float64(len(models))
				if rng.Float64() < eps {
					m = models[rng.IntN(len(models))]
					if m != strongest {
						p = eps / float64(len(models))
					}
				}
				obs = append(obs, router.Observation{
					RequestID: strconv.Itoa(s) + "-" + strconv.Itoa(j), Complexity: trainAn[i].Complexity, Category: trainAn[i].Category,
					Model: m, Source: router.SourceFeedback, Weight: 1, Score: it.Outcomes[m].Score,
					Cost: router.Micros(1e6 * cost(it, m)), Propensity: p,
				})
			}
			table, _, err := Fit(FromOutcomes(obs, nil, gopts.MaxWeight), fopts)
			if err != nil {
				t.Fatal(err)
			}
			logged := LoggedFromOutcomes(obs, nil)
			folds := crossFitTables(obs, nil, gopts.MaxWeight, fopts, gateFolds)
			for _, g := range []struct {
				tl    *tally
				folds []router.Table
			}{{&in, nil}, {&ho, folds}} {
				v := GateHeldOut(active, table, g.folds, logged, nil, gopts)
				g.tl.causes[v.Cause]++
				if !v.Promote {
					continue
				}
				promoted, _ := HoldBack(active, table, v)
				if v = GateHeldOut(active, promoted, g.folds, logged, nil, gopts); !v.Promote {
					continue
				}
				q, c := score(promoted)
				g.tl.promoted++
				g.tl.dq += q - qa
				g.tl.dc += c/ca - 1
				if q < qa-gopts.Tolerance {
					g.tl.worse++
				}
			}
		}
		line := func(name string, tl tally) string {
			if tl.promoted == 0 {
				return fmt.Sprintf("%s: no promotion %v", name, tl.causes)
			}
			k := float64(tl.promoted)
			return fmt.Sprintf("%s: %2d promoted, true quality %+.4f, cost %+.1f%% on average; %d lose more than %.2f %v",
				name, tl.promoted, tl.dq/k, 100*tl.dc/k, tl.worse, gopts.Tolerance, tl.causes)
		}
		t.Logf("%d logged requests, %d seeds: %s | %s", n, seeds, line("in sample", in), line("held out", ho))
	}
}
