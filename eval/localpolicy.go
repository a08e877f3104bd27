package eval

import (
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/router"
)

// PolicyLocal routes each prompt by the local model's predictions for
// that prompt (see LocalRuleTarget and LocalRuleGap), with no table: the
// per-prompt routing a bucket table cannot express.
const PolicyLocal = "local"

// Local routing rules.
const (
	// LocalRuleTarget sends a prompt to the cheapest model whose
	// predicted success reaches the target, or, when none does, to the
	// likeliest. Its curve sweeps the target.
	LocalRuleTarget = "target"
	// LocalRuleGap sends a prompt to the cheapest model whose predicted
	// success is within the gap of the likeliest model's. With two
	// models this ranks prompts by p(strong) - p(weak), RouteLLM's
	// router score. Its curve sweeps the gap.
	LocalRuleGap = "gap"
)

// LocalResult is the local policy's figures on the test split: its curve
// as the rule's parameter moves and the curve's summary metrics, computed
// as for the learned table's curve.
type LocalResult struct {
	// Rule is LocalRuleTarget or LocalRuleGap; Param is the local
	// policy's setting of it (the target, or the gap).
	Rule  string  `json:"rule"`
	Param float64 `json:"param"`
	// Models are the candidates, cheapest to strongest.
	Models []string `json:"models"`
	// TrainPrompts and TrainDataset say what the model was trained on.
	TrainPrompts int    `json:"train_prompts"`
	TrainDataset string `json:"train_dataset,omitempty"`
	// Curve is by ascending cost; CurvePoint.Target holds the rule's
	// parameter.
	Curve     []CurvePoint `json:"curve"`
	APGR      *float64     `json:"apgr"`
	CPT50     *float64     `json:"cpt50"`
	CPT80     *float64     `json:"cpt80"`
	AIQ       *float64     `json:"aiq"`
	OracleAIQ *float64     `json:"oracle_aiq"`
	// CostShareAt95 is the least cost, as a share of always-strongest's,
	// at which the curve's upper hull reaches 95% of the strongest
	// model's quality; LearnedCostShareAt95 is the same for the learned
	// table's curve.
	CostShareAt95        *float64 `json:"cost_share_at_95"`
	LearnedCostShareAt95 *float64 `json:"learned_cost_share_at_95"`
	// Buckets counts test prompts per complexity of the bucket rule.
	Buckets map[router.Complexity]int `json:"buckets"`
}

// sweepPoints bounds how many parameter values the curve tries beyond
// the 0.01 grid: quantiles of the values where the routing changes.
const sweepPoints = 400

// localRouter routes test prompts by their predictions.
type localRouter struct {
	r    *replayer
	rule string
	tier []int // price tier of each PredModels entry
	cand []int32
}

func newLocalRouter(r *replayer, rule string) *localRouter {
	mx := r.mx
	_, cost := mx.means(mx.Train)
	lr := &localRouter{r: r, rule: rule, tier: make([]int, len(mx.PredModels)), cand: make([]int32, 1)}
	for k := range lr.tier {
		lr.tier[k] = k
		if k > 0 && mx.PredCols[k] >= 0 && mx.PredCols[k-1] >= 0 &&
			sameCost(cost[mx.PredCols[k]], cost[mx.PredCols[k-1]]) {
			lr.tier[k] = lr.tier[k-1]
		}
	}
	return lr
}

// choose returns the PredModels index the rule sends p to, -1 when no
// candidate is in the dataset. Among the models whose prediction reaches
// the threshold it takes the cheapest tier, within a tier the likelier;
// when none reaches it, the likeliest (ties: the cheaper).
func (lr *localRouter) choose(p []float64, param float64) int {
	cols := lr.r.mx.PredCols
	thr := param
	if lr.rule == LocalRuleGap {
		best := math.Inf(-1)
		for k, pk := range p {
			if cols[k] >= 0 {
				best = max(best, pk)
			}
		}
		thr = best - param
	}
	pick, likeliest := -1, -1
	for k, pk := range p {
		if cols[k] < 0 {
			continue
		}
		if likeliest < 0 || pk > p[likeliest] {
			likeliest = k
		}
		if pk >= thr && (pick < 0 || lr.tier[k] == lr.tier[pick] && pk > p[pick]) {
			pick = k
		}
	}
	if pick < 0 {
		return likeliest
	}
	return pick
}

// replay scores the rule at param on the test prompts.
func (lr *localRouter) replay(name string, param float64) PolicyResult {
	r, mx := lr.r, lr.r.mx
	K := len(mx.PredModels)
	r.reset()
	var t tally
	for _, i := range r.rows {
		k := lr.choose(mx.Pred[int(i)*K:int(i+1)*K], param)
		if k < 0 {
			lr.cand = lr.cand[:0]
		} else {
			lr.cand = append(lr.cand[:0], int32(mx.PredCols[k]))
		}
		r.pick(&t, i, lr.cand)
	}
	return r.result(name, t)
}

// params lists the parameter values the curve tries: a 0.01 grid plus
// quantiles of the thresholds at which some prompt's routing changes.
func (lr *localRouter) params() []float64 {
	mx := lr.r.mx
	K := len(mx.PredModels)
	var vals []float64
	for _, i := range lr.r.rows {
		p := mx.Pred[int(i)*K : int(i+1)*K]
		best := slices.Max(p)
		for _, pk := range p {
			if lr.rule == LocalRuleGap {
				vals = append(vals, best-pk)
			} else {
				vals = append(vals, pk)
			}
		}
	}
	slices.Sort(vals)
	out := make([]float64, 0, curveGrid+sweepPoints+2)
	for k := 0; k <= curveGrid; k++ {
		out = append(out, float64(k)/curveGrid)
	}
	for k := range sweepPoints {
		if len(vals) > 0 {
			out = append(out, vals[k*len(vals)/sweepPoints])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// curve replays every parameter value and keeps the distinct points, by
// ascending cost.
func (lr *localRouter) curve(strong int) []CurvePoint {
	var out []CurvePoint
	seen := map[[2]float64]bool{}
	for _, v := range lr.params() {
		pr := lr.replay("", v)
		key := [2]float64{pr.Quality, pr.CostUSD}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, CurvePoint{
			Target:      v,
			Quality:     pr.Quality,
			CostUSD:     pr.CostUSD,
			CostPer1k:   pr.CostPer1k,
			StrongShare: float64(lr.r.calls[strong]) / float64(len(lr.r.rows)),
		})
	}
	slices.SortStableFunc(out, func(a, b CurvePoint) int {
		switch {
		case a.CostUSD < b.CostUSD:
			return -1
		case a.CostUSD > b.CostUSD:
			return 1
		}
		return 0
	})
	return out
}

// checkLocal validates the local policy's options.
func (mx *Matrix) checkLocal(opts EvaluateOptions) error {
	if mx.Pred == nil {
		return fmt.Errorf("evaluate: policy %q needs the local classifier", PolicyLocal)
	}
	switch opts.LocalRule {
	case LocalRuleTarget, LocalRuleGap:
		return nil
	}
	return fmt.Errorf("evaluate: local rule %q: want %s or %s", opts.LocalRule, LocalRuleTarget, LocalRuleGap)
}

// localResult fills the local policy's curve and metrics.
func localResult(lr *localRouter, opts EvaluateOptions, res *Result, always []PolicyResult, S, W, oracle PolicyResult, strong int) *LocalResult {
	mx := lr.r.mx
	out := &LocalResult{
		Rule:    opts.LocalRule,
		Param:   opts.LocalParam,
		Models:  slices.Clone(mx.PredModels),
		Curve:   lr.curve(strong),
		Buckets: map[router.Complexity]int{},
	}
	m := curveMetrics(out.Curve, res.APGRAxis, always, S, W)
	out.APGR, out.CPT50, out.CPT80, out.AIQ = m.apgr, m.cpt50, m.cpt80, m.aiq
	cmin, cmax := costRange(always)
	// The oracle's curve: its point and the single models', which mixing
	// with it at random reaches.
	oraclePts := []Point{{oracle.CostUSD, oracle.Quality}}
	for _, a := range always {
		oraclePts = append(oraclePts, Point{a.CostUSD, a.Quality})
	}
	if v, ok := AIQ(oraclePts, cmin, cmax); ok {
		out.OracleAIQ = &v
	}
	at95 := func(curve []CurvePoint) *float64 {
		var pts []Point
		for _, c := range curve {
			pts = append(pts, Point{c.CostUSD, c.Quality})
		}
		// The single models are operating points too.
		for _, a := range always {
			pts = append(pts, Point{a.CostUSD, a.Quality})
		}
		c, ok := CostAtQuality(pts, 0.95*S.Quality)
		if !ok || S.CostUSD <= 0 {
			return nil
		}
		v := c / S.CostUSD
		return &v
	}
	out.CostShareAt95 = at95(out.Curve)
	out.LearnedCostShareAt95 = at95(res.Curve)
	for _, i := range lr.r.rows {
		out.Buckets[mx.Buckets[mx.Bucket[i]].Complexity]++
	}
	return out
}
