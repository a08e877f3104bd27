package eval

import (
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// PolicyLocal routes each prompt by the local model's predictions for
// that prompt (see LocalRuleTarget and LocalRuleGap), with no table: the
// per-prompt routing a bucket table cannot express.
const PolicyLocal = "local"

// Local routing rules: router.Picker's, which the service runs.
const (
	// LocalRuleTarget sends a prompt to the cheapest model whose
	// predicted success reaches the target, or, when none does, to the
	// likeliest. Its curve sweeps the target.
	LocalRuleTarget = router.RuleTarget
	// LocalRuleGap sends a prompt to the cheapest model whose predicted
	// success is within the gap of the likeliest model's. Its curve
	// sweeps the gap.
	LocalRuleGap = router.RuleGap
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

// localRouter routes test prompts by their predictions with the
// service's rule, router.Picker.
type localRouter struct {
	r      *replayer
	picker *router.Picker
	pred   []float64 // [row of r.rows * K + k]: predictions, NaN where the dataset lacks the model
	cand   []int32
}

// newLocalRouter builds the picker of the matrix's predicted models at
// rule, priced by their mean cost per call on the training split, as the
// service prices them by a typical call.
func newLocalRouter(r *replayer, rule string) (*localRouter, error) {
	p, err := localPicker(r.mx, rule)
	if err != nil {
		return nil, err
	}
	return &localRouter{r: r, picker: p, pred: r.mx.predRows(r.mx.Pred, r.rows), cand: make([]int32, 1)}, nil
}

// localPicker is the picker of mx.PredModels at rule (parameter 0), each
// model's cost its mean cost per call on the training split. A model the
// dataset lacks, or that costs a hair less than the one before it (the
// order was judged on slightly different prompts), takes the cost before
// it: its predictions are NaN, or it shares that price tier.
func localPicker(mx *Matrix, rule string) (*router.Picker, error) {
	_, cost := mx.means(mx.Train)
	costs := make([]float64, len(mx.PredModels))
	for k, c := range mx.PredCols {
		if c >= 0 {
			costs[k] = cost[c]
		}
		if k > 0 && (c < 0 || costs[k] < costs[k-1]) {
			costs[k] = costs[k-1]
		}
	}
	p, err := router.NewPicker(mx.PredModels, costs, router.OperatingPoint{Rule: rule})
	if err != nil {
		return nil, fmt.Errorf("evaluate: local policy: %w", err)
	}
	return p, nil
}

// predRows returns the predictions in pred (laid out as Matrix.Pred) of
// rows, row after row, with NaN for the models the dataset lacks, as the
// picker takes them.
func (mx *Matrix) predRows(pred []float64, rows []int32) []float64 {
	K := len(mx.PredModels)
	out := make([]float64, 0, len(rows)*K)
	for _, i := range rows {
		for k, pk := range pred[int(i)*K : int(i+1)*K] {
			if mx.PredCols[k] < 0 {
				pk = math.NaN()
			}
			out = append(out, pk)
		}
	}
	return out
}

// replay scores the rule at param on the test prompts.
func (lr *localRouter) replay(name string, param float64) PolicyResult {
	r, mx := lr.r, lr.r.mx
	K := len(mx.PredModels)
	p := lr.picker.WithParam(param)
	r.reset()
	var t tally
	for n, i := range r.rows {
		k := p.Choose(lr.pred[n*K : (n+1)*K])
		if k < 0 {
			lr.cand = lr.cand[:0]
		} else {
			lr.cand = append(lr.cand[:0], int32(mx.PredCols[k]))
		}
		r.pick(&t, i, lr.cand)
	}
	return r.result(name, t)
}

// params lists the parameter values the curve tries: those a quality
// goal's sweep tries (learner.SweepParams), on the test predictions.
func (lr *localRouter) params() []float64 {
	return learner.SweepParams(lr.picker, lr.pred, len(lr.r.mx.PredModels))
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
