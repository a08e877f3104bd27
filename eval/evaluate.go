package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// Policy names. "always:MODEL" sends everything to MODEL.
const (
	PolicyStatic  = "static"
	PolicyLearned = "learned"
	PolicyRandom  = "random"
	PolicyOracle  = "oracle"
	alwaysPrefix  = "always:"
)

// EvaluateOptions say which policies to score and how to fit.
type EvaluateOptions struct {
	// Policies to report, in order; empty means static, learned, random,
	// oracle and always:MODEL for every model.
	Policies []string
	// Target is the learned table's quality target.
	Target float64
	// Fit tunes the learner (its Target is ignored).
	Fit learner.Options
	// Static is the configured table; nil derives one (DeriveStatic).
	Static router.Table
	// Seed drives the random policy.
	Seed uint64
	// LocalRule and LocalParam set the local policy (a matrix prepared
	// with a Predictor only): LocalRuleTarget with the target, or
	// LocalRuleGap with the gap. Empty LocalRule means LocalRuleTarget.
	LocalRule  string
	LocalParam float64
	// KeepQuality, when above 0, chooses the local policy's parameter for
	// the goal "keep this share of Baseline's quality at the least cost"
	// on the training split's out-of-fold predictions (learner.ChoosePoint,
	// see PrepareOptions.TrainPredictor) instead of taking LocalParam, and
	// makes the learned policy the local policy at that point: what a
	// learned version routes with. Baseline "" is the strongest model on
	// the training split; Z is the confidence multiplier, 0 for
	// learner.DefaultZ.
	KeepQuality float64
	Baseline    string
	Z           float64
	// KeepParam routes the model trained on the whole training split at
	// the parameter chosen on the out-of-fold predictions as it is,
	// instead of at the one that routes the training prompts at the
	// chosen point's cost (learner.MatchCost, the default).
	KeepParam bool
}

// curveGrid is how many evenly spaced targets the curve sweep adds to the
// fitted thresholds, so that it is complete even where bounds cluster.
const curveGrid = 100

// Evaluate fits the learned table on the training prompts and scores every
// policy, the curve and the summary metrics on the test prompts.
func (mx *Matrix) Evaluate(opts EvaluateOptions) (*Result, error) {
	if len(mx.Train) == 0 {
		return nil, errors.New("evaluate: the training split is empty (raise --train-frac)")
	}
	if len(mx.Test) == 0 {
		return nil, errors.New("evaluate: the test split is empty (lower --train-frac)")
	}
	policies := opts.Policies
	if len(policies) == 0 {
		policies = []string{PolicyStatic, PolicyLearned, PolicyRandom, PolicyOracle}
		if mx.Pred != nil {
			policies = append(policies, PolicyLocal)
		}
		for _, m := range mx.Models {
			policies = append(policies, alwaysPrefix+m)
		}
	}
	if opts.LocalRule == "" {
		opts.LocalRule = LocalRuleTarget
	}
	if mx.Pred != nil || slices.Contains(policies, PolicyLocal) {
		if err := mx.checkLocal(opts); err != nil {
			return nil, err
		}
	}
	for _, p := range policies {
		if err := mx.checkPolicy(p); err != nil {
			return nil, err
		}
	}

	fitOpts := opts.Fit
	fitOpts.Target = opts.Target
	ev, err := learner.Summarize(mx.observations(), fitOpts)
	if err != nil {
		return nil, fmt.Errorf("evaluate: fit: %w", err)
	}

	testRank := mx.strengthOrder(mx.Test)
	r := newReplayer(mx, mx.Test, testRank)
	strong := testRank[0]
	weak := mx.cheapest(mx.Test)
	if len(mx.Models) == 2 {
		weak = testRank[1]
	}
	res := &Result{
		NTrain:    len(mx.Train),
		NTest:     len(mx.Test),
		Models:    slices.Clone(mx.Models),
		Strongest: mx.Models[strong],
		Weak:      mx.Models[weak],
		Split:     mx.Split,
		Target:    opts.Target,
		Skipped:   mx.Skipped,
		APGRAxis:  "cost",
	}
	if len(mx.Models) == 2 {
		res.APGRAxis = "strong_calls"
	}

	always := make([]PolicyResult, len(mx.Models))
	for m := range mx.Models {
		always[m] = r.table(alwaysPrefix+mx.Models[m], r.resolve(router.Table{router.Complex: {mx.Models[m]}}))
	}
	S, W := always[strong], always[weak]

	learnedTable, _ := ev.Table(opts.Target)
	res.LearnedTable = learnedTable
	learned := r.table(PolicyLearned, r.resolve(learnedTable))

	static := opts.Static
	res.StaticSource = "config"
	if static == nil {
		static = mx.DeriveStatic()
		res.StaticSource = "derived"
	}
	res.StaticTable = static

	var lr *localRouter
	if mx.Pred != nil {
		if lr, err = newLocalRouter(r, opts.LocalRule); err != nil {
			return nil, err
		}
	}
	if opts.KeepQuality > 0 {
		if res.OperatingPoint, err = mx.choosePoint(lr, opts); err != nil {
			return nil, err
		}
		op := res.OperatingPoint
		base := always[mx.modelIndex(op.Baseline)]
		if op.GoalMet {
			opts.LocalParam = op.Param
			learned = lr.replay(PolicyLearned, op.Param)
		} else {
			learned = base
			learned.Name = PolicyLearned
		}
		op.finish(learned, base, lr.curve(strong))
	}
	for _, p := range policies {
		var pr PolicyResult
		switch {
		case p == PolicyLocal:
			pr = lr.replay(p, opts.LocalParam)
		case p == PolicyStatic:
			pr = r.table(p, r.resolve(static))
		case p == PolicyLearned:
			pr = learned
		case p == PolicyRandom:
			pr = r.random(p, strong, weak, mixShare(learned.CostUSD, W.CostUSD, S.CostUSD), opts.Seed)
		case p == PolicyOracle:
			pr = r.oracle(p)
		default:
			pr = always[mx.modelIndex(strings.TrimPrefix(p, alwaysPrefix))]
		}
		pr.StrongShare = float64(pr.CallsByModel[res.Strongest]) / float64(pr.N)
		pr.SavingsVsStrongest = 1 - pr.CostUSD/S.CostUSD
		pr.QualityVsStrongest = pr.Quality / S.Quality
		res.Policies = append(res.Policies, pr)
	}

	res.Curve = r.curve(ev, strong)
	summarise(res, always, S, W)
	if lr != nil {
		res.Local = localResult(lr, opts, res, always, S, W, r.oracle(PolicyOracle), strong)
	}
	return res, nil
}

// checkPolicy validates a policy name.
func (mx *Matrix) checkPolicy(p string) error {
	switch p {
	case PolicyStatic, PolicyLearned, PolicyRandom, PolicyOracle, PolicyLocal:
		return nil
	}
	if m, ok := strings.CutPrefix(p, alwaysPrefix); ok {
		if mx.modelIndex(m) < 0 {
			return fmt.Errorf("evaluate: policy %q: the dataset has no model %q (it has %s)", p, m, strings.Join(mx.Models, ", "))
		}
		return nil
	}
	return fmt.Errorf("evaluate: unknown policy %q (want static, learned, random, oracle, local or always:MODEL)", p)
}

// mixShare is the share of prompts the random policy sends to the strong
// model so that its expected cost equals target's.
func mixShare(target, weak, strong float64) float64 {
	if strong <= weak {
		return 0.5
	}
	return min(1, max(0, (target-weak)/(strong-weak)))
}

// observations turns the training prompts into learner observations,
// with costs in micro-USD.
func (mx *Matrix) observations() []learner.Sample {
	M := len(mx.Models)
	obs := make([]learner.Sample, 0, len(mx.Train)*M)
	for _, i := range mx.Train {
		b := mx.Buckets[mx.Bucket[i]]
		for m := range M {
			q := mx.Quality[int(i)*M+m]
			if math.IsNaN(q) {
				continue
			}
			obs = append(obs, learner.Sample{
				Complexity: b.Complexity,
				Category:   b.Category,
				Model:      mx.Models[m],
				Score:      q,
				CostMicros: mx.Cost[int(i)*M+m] * 1e6,
				Weight:     1,
			})
		}
	}
	return obs
}

// means returns each model's mean quality and mean cost over rows, where
// it has outcomes.
func (mx *Matrix) means(rows []int32) (quality, cost []float64) {
	M := len(mx.Models)
	quality, cost = make([]float64, M), make([]float64, M)
	n := make([]int, M)
	for _, i := range rows {
		for m := range M {
			if q := mx.Quality[int(i)*M+m]; !math.IsNaN(q) {
				quality[m] += q
				cost[m] += mx.Cost[int(i)*M+m]
				n[m]++
			}
		}
	}
	for m := range M {
		if n[m] > 0 {
			quality[m] /= float64(n[m])
			cost[m] /= float64(n[m])
		}
	}
	return quality, cost
}

// strengthOrder lists model columns by mean quality over rows, best
// first, cheaper first among equals.
func (mx *Matrix) strengthOrder(rows []int32) []int {
	q, c := mx.means(rows)
	order := make([]int, len(mx.Models))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case q[a] != q[b]:
			if q[a] > q[b] {
				return -1
			}
			return 1
		case c[a] < c[b]:
			return -1
		case c[a] > c[b]:
			return 1
		}
		return 0
	})
	return order
}

// cheapest is the model column with the lowest mean cost over rows.
func (mx *Matrix) cheapest(rows []int32) int {
	_, c := mx.means(rows)
	best := 0
	for m := range c {
		if c[m] < c[best] {
			best = m
		}
	}
	return best
}

// DeriveStatic is the static table for a dataset whose models are not the
// configured ones: the rule a person would write without data, "the
// cheapest model for simple prompts, the strongest otherwise", with
// cheapest and strongest judged on the training split.
func (mx *Matrix) DeriveStatic() router.Table {
	rank := mx.strengthOrder(mx.Train)
	strong, cheap := mx.Models[rank[0]], mx.Models[mx.cheapest(mx.Train)]
	simple := []string{cheap}
	if cheap != strong {
		simple = append(simple, strong)
	}
	return router.Table{
		router.Simple:   simple,
		router.Moderate: {strong},
		router.Complex:  {strong},
	}
}
