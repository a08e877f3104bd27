package textmodel

import (
	"cmp"
	"context"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// llmrouterAnswerTokens is the assumed answer length: the data has no
// token counts, and every llmrouter model's input and output prices are
// equal, so only the prompt/answer total matters.
const llmrouterAnswerTokens = 100

func reportLLMRouter(t *testing.T, dir string, prices map[string]price, seed uint64) {
	all := loadShared(t, filepath.Join(dir, "llmrouter_dcrouter.jsonl.gz"))
	stem := func(it sharedItem) string {
		if it.Question != "" {
			return it.Question
		}
		return it.Prompt
	}
	var trainItems, testItems []sharedItem
	for _, it := range all {
		if it.Split == "train" {
			trainItems = append(trainItems, it)
		} else {
			testItems = append(testItems, it)
		}
	}
	trainItems = dedupe(trainItems, stem)
	seen := map[string]bool{}
	for _, it := range trainItems {
		seen[router.NormalizePrompt(stem(it))] = true
	}
	var clean []sharedItem
	for _, it := range dedupe(testItems, stem) {
		if !seen[router.NormalizePrompt(stem(it))] {
			clean = append(clean, it)
		}
	}
	testItems = clean

	// Order the models cheapest to strongest: by price, then by mean
	// training score.
	var models []string
	mean := map[string]float64{}
	for m := range trainItems[0].Outcomes {
		models = append(models, m)
		var s float64
		for _, it := range trainItems {
			s += it.score(m)
		}
		mean[m] = s / float64(len(trainItems))
	}
	sort.Slice(models, func(i, j int) bool {
		pi, pj := prices[models[i]].In, prices[models[j]].In
		if pi != pj {
			return pi < pj
		}
		return mean[models[i]] < mean[models[j]]
	})
	t.Logf("llmrouter: train %d, test %d after removing %d test prompts seen in train; models cheapest first: %v",
		len(trainItems), len(testItems), len(all)-len(trainItems)-len(testItems), models)

	train := make([]Example, len(trainItems))
	for i, it := range trainItems {
		train[i] = it.example(models)
	}
	for _, v := range variants(models, seed) {
		start := time.Now()
		m, err := Train(context.Background(), train, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := modelSize(t, m)
		t.Logf("== %s: trained in %v; %d heads, %d bytes serialised", v.name, time.Since(start).Round(time.Millisecond), len(m.Heads()), size)
		reportLLMRouterModel(t, m, testItems, models, mean, prices)
	}
}

// reportLLMRouterModel prints the routing figures of m, whose first heads
// are models in order, on the held-out llmrouter prompts.
func reportLLMRouterModel(t *testing.T, m *Model, testItems []sharedItem, models []string, mean map[string]float64, prices map[string]price) {
	n, k := len(testItems), len(models)
	score, cost := make([][]float64, n), make([][]float64, n)
	pred := make([][]float64, n)
	for i, it := range testItems {
		score[i], cost[i] = make([]float64, k), make([]float64, k)
		for j, mdl := range models {
			score[i][j] = it.score(mdl)
			cost[i][j] = prices[mdl].costUSD(len(it.Prompt), llmrouterAnswerTokens)
		}
		pred[i] = m.Predict(it.Prompt, nil)[:k] // the model heads come first, in order
	}
	eval := func(pick func(i int) int) point {
		var p point
		for i := range n {
			j := pick(i)
			p.quality += score[i][j]
			p.cost += cost[i][j]
		}
		p.quality /= float64(n)
		p.cost /= float64(n)
		return p
	}

	var singles []point
	best, bestJ := point{}, 0
	for j, mdl := range models {
		p := eval(func(int) int { return j })
		singles = append(singles, p)
		if mean[mdl] > mean[models[bestJ]] {
			bestJ = j
		}
		t.Logf("  single %-34s quality %.3f cost $%.2f/1k prompts", mdl, p.quality, 1000*p.cost)
	}
	best = singles[bestJ]
	t.Logf("best single model (by training mean): %s quality %.3f cost $%.2f/1k", models[bestJ], best.quality, 1000*best.cost)
	oracle := eval(func(i int) int {
		b := 0
		for j := range k {
			if score[i][j] > score[i][b] {
				b = j
			}
		}
		return b
	})
	t.Logf("oracle (cheapest best model per prompt): quality %.3f cost $%.2f/1k", oracle.quality, 1000*oracle.cost)

	var rulePts []point
	for _, target := range []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9} {
		mix := map[router.Complexity]int{}
		p := eval(func(i int) int {
			d := Bucket(pred[i], target)
			mix[d.Complexity]++
			return d.Pick
		})
		rulePts = append(rulePts, p)
		t.Logf("cheapest predicted to succeed, target %.1f: quality %.3f cost $%.2f/1k (%.0f%% of best single's cost); buckets simple %d moderate %d complex %d",
			target, p.quality, 1000*p.cost, 100*p.cost/best.cost, mix[router.Simple], mix[router.Moderate], mix[router.Complex])
	}
	argmax := eval(func(i int) int {
		b := 0
		for j := range k {
			if pred[i][j] > pred[i][b] {
				b = j
			}
		}
		return b
	})
	t.Logf("most likely to succeed: quality %.3f cost $%.2f/1k", argmax.quality, 1000*argmax.cost)

	// AIQ over the single models' cost range: a utility sweep
	// (argmax p - lambda*cost) for the router and, with the true scores,
	// for the oracle.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range singles {
		lo, hi = min(lo, p.cost), max(hi, p.cost)
	}
	sweep := func(s [][]float64) []point {
		var pts []point
		for _, lambda := range []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 1e4, 2e4, 5e4, 1e5, 1e6} {
			pts = append(pts, eval(func(i int) int {
				b, bu := 0, math.Inf(-1)
				for j := range k {
					if u := s[i][j] - lambda*cost[i][j]; u > bu {
						b, bu = j, u
					}
				}
				return b
			}))
		}
		return pts
	}
	sweepPts := sweep(pred)
	beat := -1
	for i, p := range sweepPts {
		if p.quality > best.quality && (beat < 0 || p.cost < sweepPts[beat].cost) {
			beat = i
		}
	}
	if beat >= 0 {
		p := sweepPts[beat]
		t.Logf("cheapest sweep point (argmax p - lambda*cost) above the best single model's quality: quality %.3f (best single %.3f) at %.0f%% of its cost",
			p.quality, best.quality, 100*p.cost/best.cost)
	} else {
		hq := slices.MaxFunc(sweepPts, func(a, b point) int { return cmp.Compare(a.quality, b.quality) })
		t.Logf("no sweep point beats the best single model's quality %.3f; best sweep point %.3f at %.0f%% of its cost",
			best.quality, hq.quality, 100*hq.cost/best.cost)
	}
	routerPts := append(sweepPts, rulePts...)
	t.Logf("AIQ over $%.2f-$%.2f/1k: router %.3f, oracle %.3f, single models %.3f",
		1000*lo, 1000*hi, aiq(routerPts, lo, hi), aiq(sweep(score), lo, hi), aiq(singles, lo, hi))
}
