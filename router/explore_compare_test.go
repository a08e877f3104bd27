package router

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDirectedExplorationVsUniform compares directed exploration
// (explorePick's weights: near the rule's threshold first) with uniform
// exploration (Options.ExploreUniform) at the same budget, by the gate's margin
// after a fixed number of prompts and by how many prompts the gate's
// question needs before it can be answered.
//
// The world: 200 distinct prompts, three models (cheap, mid, strong) with
// predicted success per prompt from a seeded generator; each model's
// true success on a prompt is its prediction plus a seeded error. The
// active version's policy is gap 0.01; the learner's candidate is the
// cheaper gap 0.03, which changes the choice on the prompts that have an
// alternative within 0.01-0.03 of the best. The service answers the
// prompts in turn, exploring at the budget; the answering model's
// outcome is drawn from its true success. After every 500 prompts (from 1,000 on) the
// doubly robust paired difference candidate - active (the estimate the
// learner's gate reads: prediction plus the logged residual over the
// recorded propensity) is computed, and the candidate "promotes" when
// mean - 1.645 standard errors >= -0.01, the gate's tolerance. The
// candidate truly loses less than that, so both ways promote eventually;
// the question is how soon. Five seeds each.
func TestDirectedExplorationVsUniform(t *testing.T) {
	const (
		prompts   = 200
		budget    = 0.1
		step      = 500
		maxServed = 12000
		marginAt  = 4000
		tol       = 0.01
		z         = 1.645
	)
	models := []string{"cheap", "mid", "strong"}
	activePt := OperatingPoint{Rule: RuleGap, Param: 0.01}
	candPt := OperatingPoint{Rule: RuleGap, Param: 0.03}
	costs := []float64{float64(testModels["cheap"].Cost(1000, 1000)), float64(testModels["mid"].Cost(1000, 1000)), float64(testModels["strong"].Cost(1000, 1000))}
	active, err := NewPicker(models, costs, activePt)
	if err != nil {
		t.Fatal(err)
	}
	cand := active.WithParam(candPt.Param)

	run := func(seed uint64, uniform bool) (promoted int, margin, explored float64, changed int, trueDiff float64) {
		served := 0
		rng := rand.New(rand.NewPCG(seed, 99))
		pred := promptPredictor{}
		truth := map[string][]float64{}
		texts := make([]string, prompts)
		for i := range prompts {
			s := 0.6 + 0.3*rng.Float64() // strong
			p := []float64{s - 0.2*rng.Float64(), s - 0.08*rng.Float64(), s}
			q := make([]float64, 3)
			for k := range p {
				q[k] = min(1, max(0, p[k]+0.03*rng.NormFloat64()))
			}
			texts[i] = fmt.Sprintf("prompt %d", i)
			pred[texts[i]], truth[HashPrompt(texts[i])] = p, q
		}
		byHash := map[string][]float64{}
		for _, text := range texts {
			byHash[HashPrompt(text)] = pred[text]
		}
		v := Version{ID: 2, Table: testTable, Policy: &PromptPolicy{Models: models, Point: activePt}}
		rec := &memRecorder{}
		opts := Options{Version: v, Classifier: &answerSeer{}, Predictor: pred, Explore: budget, ExploreUniform: uniform,
			Models: testModels, Recorder: rec, Baseline: "strong",
			Completers: map[string]Completer{"p1": &scripted{}, "p2": &scripted{}},
			Rand:       rand.New(rand.NewPCG(seed, 7)).Float64}
		svc, err := NewService(opts)
		if err != nil {
			t.Fatal(err)
		}
		outcome := rand.New(rand.NewPCG(seed, 13))
		var sd, sdd float64
		var nExplored int
		for served < maxServed {
			for range step {
				if _, err := svc.Serve(context.Background(), Request{Messages: userMsg(texts[served%prompts])}); err != nil {
					t.Fatal(err)
				}
				served++
			}
			for _, r := range rec.recs[served-step : served] {
				p := byHash[r.PromptHash]
				q := truth[r.PromptHash]
				m := slices.Index(models, r.Attempts[0].Model)
				if r.Explored {
					nExplored++
				}
				y := 0.0
				if outcome.Float64() < q[m] {
					y = 1
				}
				c, a := cand.Choose(p), active.Choose(p)
				dr := func(k int) float64 {
					est := p[k]
					if k == m {
						est += (y - p[k]) / r.Propensity
					}
					return est
				}
				d := dr(c) - dr(a)
				sd += d
				sdd += d * d
			}
			n := float64(served)
			mean := sd / n
			se := math.Sqrt(max(0, (sdd-n*mean*mean)/(n-1)) / n)
			if promoted == 0 && served >= 2*step && mean-z*se >= -tol {
				promoted = served
			}
			if served == marginAt {
				margin = z * se
			}
		}
		for _, text := range texts {
			p, q := pred[text], truth[HashPrompt(text)]
			if c, a := cand.Choose(p), active.Choose(p); c != a {
				changed++
				trueDiff += (q[c] - q[a]) / prompts
			}
		}
		if promoted == 0 {
			promoted = maxServed + step // not within the run
		}
		return promoted, margin, float64(nExplored) / float64(served), changed, trueDiff
	}

	var dirSum, uniSum int
	var dirMargin, uniMargin float64
	const seeds = 5
	for seed := uint64(1); seed <= seeds; seed++ {
		d, dm, de, changed, diff := run(seed, false)
		u, um, ue, _, _ := run(seed, true)
		t.Logf("seed %d: %d of %d prompts change choice (true quality difference %+.4f); margin after %d prompts %.4f directed, %.4f uniform; promotes after %d prompts directed, %d uniform; explored %.3f, %.3f",
			seed, changed, prompts, diff, marginAt, dm, um, d, u, de, ue)
		dirSum += d
		uniSum += u
		dirMargin += dm / seeds
		uniMargin += um / seeds
		for _, share := range []float64{de, ue} {
			if math.Abs(share-budget) > 0.03 {
				t.Errorf("seed %d: explored share %.3f, want about the budget %.2f", seed, share, budget)
			}
		}
	}
	t.Logf("mean margin after %d prompts: directed %.4f, uniform %.4f; mean prompts to promotion: directed %d, uniform %d (%d: not within %d)",
		marginAt, dirMargin, uniMargin, dirSum/seeds, uniSum/seeds, maxServed+step, maxServed)
	if !(dirMargin < uniMargin) {
		t.Errorf("mean margin directed %.4f, uniform %.4f: want directed narrower at the same budget", dirMargin, uniMargin)
	}
}
