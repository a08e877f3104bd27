package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/learner"
)

// OperatingPointResult is the local policy's operating point chosen for a
// quality goal on the training split (EvaluateOptions.KeepQuality), and
// how it did on the test split, where it is the learned policy.
type OperatingPointResult struct {
	// Param is the rule's setting the learned policy routes with: the
	// model trained on the whole training split routes the training
	// prompts (MatchPrompts of them: its calibration slice with
	// --match-cost-on calibration, else all) at the cost share FoldParam,
	// chosen on the out-of-fold predictions, was predicted to cost
	// (learner.MatchCost), or, with EvaluateOptions.KeepParam, FoldParam
	// itself.
	Rule      string  `json:"rule"`
	Param     float64 `json:"param"`
	FoldParam float64 `json:"fold_param"`
	// MatchPrompts is how many training prompts Param was matched on, 0
	// with KeepParam or when the goal was not met.
	MatchPrompts int     `json:"match_prompts"`
	KeepQuality  float64 `json:"keep_quality"`
	Baseline     string  `json:"baseline"`
	Z            float64 `json:"z"`
	// GoalMet is false when no point kept the goal with its margin on the
	// training folds: the learned policy then sends everything to the
	// baseline, and Rule and Param are the safest point's, reported only.
	GoalMet bool `json:"goal_met"`
	// PredictedQualityShare and PredictedCostShare are the point's quality
	// and cost as shares of the baseline's on the training split, from
	// out-of-fold predictions; Margin is the confidence margin kept on
	// the quality share; Samples the training prompts used.
	PredictedQualityShare float64 `json:"predicted_quality_share"`
	PredictedCostShare    float64 `json:"predicted_cost_share"`
	Margin                float64 `json:"margin"`
	Samples               int     `json:"samples"`
	// TestQualityShare and TestCostShare are the learned policy's quality
	// and cost on the test split as shares of the baseline's there;
	// TestMeetsGoal says whether the quality share reached KeepQuality.
	TestQualityShare float64 `json:"test_quality_share"`
	TestCostShare    float64 `json:"test_cost_share"`
	TestMeetsGoal    bool    `json:"test_meets_goal"`
	// BestTestCostShare is, in hindsight, the least cost share of the
	// local policy's test curve at KeepQuality of the baseline's quality:
	// what a point chosen on the test split itself would claim. For
	// comparison only; null when no curve point reaches the goal.
	BestTestCostShare *float64 `json:"best_test_cost_share"`
}

// pointData is what learner.ChoosePoint chooses on: rows' predictions
// from pred (the out-of-fold ones, or the final model's) and their true
// quality and cost, in the picker's model order.
func (mx *Matrix) pointData(pred []float64, rows []int32) learner.PointData {
	K, M := len(mx.PredModels), len(mx.Models)
	d := learner.PointData{K: K, Pred: mx.predRows(pred, rows)}
	for _, i := range rows {
		for _, c := range mx.PredCols {
			q, cost := math.NaN(), math.NaN()
			if c >= 0 {
				q, cost = mx.Quality[int(i)*M+c], mx.Cost[int(i)*M+c]
			}
			d.Quality = append(d.Quality, q)
			d.Cost = append(d.Cost, cost)
		}
	}
	return d
}

// choosePoint chooses the local policy's parameter for opts.KeepQuality
// on the training split.
func (mx *Matrix) choosePoint(lr *localRouter, opts EvaluateOptions) (*OperatingPointResult, error) {
	if lr == nil {
		return nil, errors.New("evaluate: a quality goal needs the local classifier")
	}
	if mx.OutOfFold == nil {
		return nil, errors.New("evaluate: a quality goal needs out-of-fold predictions for the training split (PrepareOptions.TrainPredictor)")
	}
	base := opts.Baseline
	if base == "" {
		base = mx.Models[mx.strengthOrder(mx.Train)[0]]
	}
	b := slices.Index(mx.PredModels, base)
	if b < 0 || mx.PredCols[b] < 0 {
		return nil, fmt.Errorf("evaluate: baseline %q is not a model of both the dataset and the local model (%v)", base, mx.PredModels)
	}
	goal := learner.Goal{KeepQuality: opts.KeepQuality, Baseline: b, Z: opts.Z}
	op, err := learner.ChoosePoint(lr.picker, mx.pointData(mx.OutOfFold, mx.Train), goal)
	met := err == nil
	if err != nil && !errors.Is(err, learner.ErrGoalUnmet) {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	param, matched := op.Param, 0
	if met && !opts.KeepParam {
		rows := mx.Train
		if mx.MatchRows != nil {
			rows = mx.MatchRows
		}
		if param, err = learner.MatchCost(lr.picker, mx.pointData(mx.Pred, rows), b, op.CostShare); err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		matched = len(rows)
	}
	z := opts.Z
	if z == 0 {
		z = learner.DefaultZ
	}
	return &OperatingPointResult{
		Rule: op.Rule, Param: param, FoldParam: op.Param, MatchPrompts: matched, KeepQuality: op.KeepQuality, Baseline: op.Baseline, Z: z,
		GoalMet:               met,
		PredictedQualityShare: op.QualityShare,
		PredictedCostShare:    op.CostShare,
		Margin:                op.Margin,
		Samples:               op.Samples,
	}, nil
}

// finishPoint fills the test figures of the chosen point, whose learned
// policy result is learned, against the baseline's (column base) always
// policy.
func (op *OperatingPointResult) finish(learned, baseline PolicyResult, curve []CurvePoint) {
	if baseline.Quality != 0 {
		op.TestQualityShare = learned.Quality / baseline.Quality
	}
	if baseline.CostUSD != 0 {
		op.TestCostShare = learned.CostUSD / baseline.CostUSD
	}
	op.TestMeetsGoal = learned.Quality >= op.KeepQuality*baseline.Quality
	var pts []Point
	for _, c := range curve {
		pts = append(pts, Point{c.CostUSD, c.Quality})
	}
	pts = append(pts, Point{baseline.CostUSD, baseline.Quality})
	if c, ok := CostAtQuality(pts, op.KeepQuality*baseline.Quality); ok && baseline.CostUSD > 0 {
		v := c / baseline.CostUSD
		op.BestTestCostShare = &v
	}
}

// writePointText prints the chosen operating point and its test figures.
func writePointText(b *strings.Builder, op *OperatingPointResult) {
	if op == nil {
		return
	}
	fmt.Fprintf(b, "\noperating point for keeping %.1f%% of %s's quality (chosen on the training split, z %.3g):\n", 100*op.KeepQuality, op.Baseline, op.Z)
	if !op.GoalMet {
		fmt.Fprintf(b, "  no point keeps the goal with its margin on %d training prompts: learned sends everything to %s\n", op.Samples, op.Baseline)
	} else {
		fmt.Fprintf(b, "  %s %.4f out of fold: predicted quality %.1f%% (margin %.1f%%), cost %.1f%% of %s, on %d training prompts\n",
			op.Rule, op.FoldParam, 100*op.PredictedQualityShare, 100*op.Margin, 100*op.PredictedCostShare, op.Baseline, op.Samples)
		if op.MatchPrompts > 0 {
			fmt.Fprintf(b, "  %s %.4f for the model trained on the whole split, at that cost on %d training prompts\n", op.Rule, op.Param, op.MatchPrompts)
		} else {
			fmt.Fprintf(b, "  %s %.4f for the model trained on the whole split, the out-of-fold parameter as it is\n", op.Rule, op.Param)
		}
	}
	met := "meets"
	if !op.TestMeetsGoal {
		met = "misses"
	}
	fmt.Fprintf(b, "  test: quality %.1f%%, cost %.1f%% of %s (%s the goal)\n", 100*op.TestQualityShare, 100*op.TestCostShare, op.Baseline, met)
	fmt.Fprintf(b, "  (hindsight: the test curve's cheapest point at the goal costs %s)\n", num(op.BestTestCostShare, 1, true))
}
