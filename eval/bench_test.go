package eval

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// coded reads a synthetic prompt "C K ...": complexity index C, category K.
type coded struct{}

var benchCategories = []string{"", "math", "code", "law", "medicine", "chat", "writing", "knowledge", "reasoning", "translation", "summarization", "general"}

func (coded) Analyze(p string) router.Analysis {
	f := strings.Fields(p)
	c, _ := strconv.Atoi(f[0])
	k, _ := strconv.Atoi(f[1])
	return router.Analysis{Complexity: router.Complexities[c], Category: benchCategories[k], EstimatedTokens: 100}
}

// syntheticItems makes n prompts answered by m models, model j succeeding
// with a chance rising with its price and falling with complexity, and
// varying by category.
func syntheticItems(n, m int) []datasets.Item {
	rng := rand.New(rand.NewPCG(7, 11))
	items := make([]datasets.Item, n)
	for i := range items {
		c, k := rng.IntN(3), rng.IntN(len(benchCategories))
		out := make(map[string]datasets.Outcome, m)
		for j := range m {
			p := 0.3 + 0.06*float64(j) - 0.1*float64(c) + 0.02*float64(k%4)
			score := 0.0
			if rng.Float64() < p {
				score = 1
			}
			cost := 1e-5 * float64((j+1)*(j+1))
			out[fmt.Sprintf("model-%02d", j)] = datasets.Outcome{Score: score, CostUSD: &cost}
		}
		items[i] = datasets.Item{ID: strconv.Itoa(i), Prompt: fmt.Sprintf("%d %d", c, k), Outcomes: out}
	}
	return items
}

// BenchmarkEvaluate replays 100k prompts x 11 models through every
// policy: the fit on the training half, the learned table, static,
// random, oracle, always:MODEL for all 11, and the target sweep of the
// curve (issue 4: under a second on 2 cores).
//
//	go test ./eval -run '^$' -bench Evaluate -benchtime 5x
func BenchmarkEvaluate(b *testing.B) {
	mx, err := Prepare(syntheticItems(100_000, 11), PrepareOptions{Classifier: PromptClassifier{coded{}}, TrainFrac: 0.5, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC() // the items are garbage now: collect them untimed
	b.ResetTimer()
	var curve int
	for b.Loop() {
		res, err := mx.Evaluate(EvaluateOptions{Target: 0.7, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		curve = len(res.Curve)
	}
	b.ReportMetric(float64(curve), "curve-points")
}
