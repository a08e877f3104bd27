package router

import (
	"cmp"
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

// pairedGate accumulates the doubly robust paired difference candidate -
// active per prompt and answers the gate's question: does the candidate
// lose less than tol, one-sided 95%?
type pairedGate struct{ n, sum, sum2 float64 }

func (g *pairedGate) add(d float64) { g.n++; g.sum += d; g.sum2 += d * d }

func (g *pairedGate) mean() float64 { return g.sum / g.n }

// margin is 1.645 standard errors of the mean.
func (g *pairedGate) margin() float64 {
	m := g.mean()
	return 1.645 * math.Sqrt(max(0, (g.sum2-g.n*m*m)/(g.n-1))/g.n)
}

func (g *pairedGate) passes(tol float64) bool { return g.mean()-g.margin() >= -tol }

// TestDirectedExplorationBeforePromotion is the loop's situation before
// its first promotion: the seed table sends every prompt to the strongest
// of nine models, with the others behind it, and has no evidence in its
// provenance and no policy to aim by. Shaped like llmrouter: three cheap
// models come close to the strong one on many prompts, three cheap ones
// and two at the strong one's price are clearly worse. The learner's
// first question is whether a per-prompt gap rule over the local model's
// predictions keeps quality within tol of the table; it is answered by
// the doubly robust paired difference over the recorded propensities.
// Directed exploration aims by the outcomes recorded so far, handed to
// the service every 500 prompts as WatchOutcomes does (frontierWeights);
// uniform exploration spreads the same budget over all eight alternatives.
func TestDirectedExplorationBeforePromotion(t *testing.T) {
	const (
		prompts   = 300
		budget    = 0.3
		step      = 500
		maxServed = 12000
		marginAt  = 3000
		tol       = 0.01
	)
	type spec struct {
		name  string
		price float64
		drop  float64 // mean shortfall from the strong model's success
	}
	specs := []spec{
		{"strong", 0.9, 0}, {"gemma", 0.1, 0.08}, {"llama", 0.2, 0.06}, {"qwen", 0.2, 0.1},
		{"codegemma", 0.2, 0.3}, {"chatqa8", 0.2, 0.45}, {"mistral", 0.2, 0.25},
		{"peer", 0.9, 0.05}, {"chatqa70", 0.9, 0.4},
	}
	catalog := Catalog{}
	names := make([]string, len(specs))
	costs := make([]float64, len(specs))
	for k, s := range specs {
		catalog[s.name] = Model{Name: s.name, Provider: "p1", InputPerMTok: s.price, OutputPerMTok: s.price}
		names[k] = s.name
		costs[k] = float64(catalog[s.name].Cost(1000, 1000))
	}
	table := Table{Simple: names, Moderate: names, Complex: names}
	// The picker lists its models cheapest first.
	order := make([]int, len(specs))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(costs[a], costs[b]) })
	pickNames, pickCosts := make([]string, len(order)), make([]float64, len(order))
	for j, k := range order {
		pickNames[j], pickCosts[j] = names[k], costs[k]
	}
	picker, err := NewPicker(pickNames, pickCosts, OperatingPoint{Rule: RuleGap, Param: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	choose := func(p []float64) int {
		pp := make([]float64, len(order))
		for j, k := range order {
			pp[j] = p[k]
		}
		return order[picker.Choose(pp)]
	}

	run := func(seed uint64, uniform bool) (promoted int, margin, explored, trueDiff float64) {
		rng := rand.New(rand.NewPCG(seed, 99))
		pred, truth := map[string][]float64{}, map[string][]float64{}
		texts := make([]string, prompts)
		for i := range prompts {
			s := 0.4 + 0.5*rng.Float64()
			p, q := make([]float64, len(specs)), make([]float64, len(specs))
			for k, sp := range specs {
				// The close models' shortfall varies by prompt (the
				// per-prompt rule's chance); the clearly worse stay far
				// below on every prompt.
				short := sp.drop * 2 * rng.Float64()
				if sp.drop > 0.2 {
					short = sp.drop + 0.1*rng.Float64()
				}
				p[k] = max(0, s-short)
				q[k] = min(1, max(0, p[k]+0.03*rng.NormFloat64()))
			}
			texts[i] = fmt.Sprintf("prompt %d", i)
			h := HashPrompt(texts[i])
			pred[h], truth[h] = p, q
		}
		rec := &memRecorder{}
		svc, err := NewService(Options{Version: Version{ID: 1, Table: table}, Classifier: fixedClassifier(Simple),
			Explore: budget, ExploreUniform: uniform, Models: catalog, Recorder: rec, Baseline: "strong",
			Completers: map[string]Completer{"p1": &scripted{}}, Rand: rand.New(rand.NewPCG(seed, 7)).Float64})
		if err != nil {
			t.Fatal(err)
		}
		outcome := rand.New(rand.NewPCG(seed, 13))
		groups := map[string]*SignalCount{}
		var gate pairedGate
		var nExplored int
		for served := 0; served < maxServed; {
			for range step {
				if _, err := svc.Serve(context.Background(), Request{Messages: userMsg(texts[served%prompts])}); err != nil {
					t.Fatal(err)
				}
				served++
			}
			for _, r := range rec.recs[served-step : served] {
				p, q := pred[r.PromptHash], truth[r.PromptHash]
				m := slices.Index(names, r.Attempts[0].Model)
				if r.Explored {
					nExplored++
				}
				y := 0.0
				if outcome.Float64() < q[m] {
					y = 1
				}
				g := groups[names[m]]
				if g == nil {
					g = &SignalCount{Bucket: Simple, Model: names[m], Source: SourceFeedback}
					groups[names[m]] = g
				}
				g.N++
				g.Score += y
				dr := func(k int) float64 {
					if k == m {
						return p[k] + (y-p[k])/r.Propensity
					}
					return p[k]
				}
				gate.add(dr(choose(p)) - dr(0))
			}
			var read []SignalCount
			for _, g := range groups {
				read = append(read, *g)
			}
			svc.SetOutcomes(read)
			if promoted == 0 && served >= 2*step && gate.passes(tol) {
				promoted = served
			}
			if served == marginAt {
				margin = gate.margin()
			}
		}
		for h, p := range pred {
			trueDiff += (truth[h][choose(p)] - truth[h][0]) / prompts
		}
		if promoted == 0 {
			promoted = maxServed + step
		}
		return promoted, margin, float64(nExplored) / float64(maxServed), trueDiff
	}

	var dirMargin, uniMargin float64
	var dirSooner, uniSooner int
	const seeds = 5
	for seed := uint64(1); seed <= seeds; seed++ {
		d, dm, de, diff := run(seed, false)
		u, um, ue, _ := run(seed, true)
		t.Logf("seed %d: candidate's true quality difference %+.4f; margin after %d prompts %.4f directed, %.4f uniform; gate passes after %d prompts directed, %d uniform (%d: not within %d); explored %.3f, %.3f",
			seed, diff, marginAt, dm, um, d, u, maxServed+step, maxServed, de, ue)
		if diff < -tol {
			t.Fatalf("seed %d: the candidate truly loses %.4f, more than tol: the scenario asks nothing", seed, diff)
		}
		dirMargin += dm / seeds
		uniMargin += um / seeds
		if d < u {
			dirSooner++
		} else if u < d {
			uniSooner++
		}
		for _, share := range []float64{de, ue} {
			if math.Abs(share-budget) > 0.03 {
				t.Errorf("seed %d: explored share %.3f, want about the budget %.2f", seed, share, budget)
			}
		}
	}
	t.Logf("mean margin after %d prompts: directed %.4f, uniform %.4f; the gate passes sooner directed in %d seeds, uniform in %d",
		marginAt, dirMargin, uniMargin, dirSooner, uniSooner)
	if !(dirMargin < 0.8*uniMargin) {
		t.Errorf("mean margin directed %.4f, uniform %.4f: want directed at least a fifth narrower at the same budget", dirMargin, uniMargin)
	}
	if dirSooner <= uniSooner {
		t.Errorf("the gate passes sooner directed in %d seeds, uniform in %d: want directed sooner more often", dirSooner, uniSooner)
	}
}
