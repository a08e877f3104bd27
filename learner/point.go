package learner

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/router"
)

// PointData is what an operating point is chosen on: n prompts by K
// models, each slice row-major n*K, columns in the picker's model order.
type PointData struct {
	K int
	// Pred is the predicted success of model k for prompt i, out of
	// fold: never from a model trained on that prompt, or the choice
	// trusts predictions the service will not see. NaN marks a model
	// that cannot take the prompt.
	Pred []float64
	// Quality and Cost are unbiased estimates of the quality and cost of
	// sending prompt i to model k: the true values where every outcome
	// is known (eval), doubly robust estimates from logged traffic (the
	// learner), which may be any real number. A NaN makes model k
	// unavailable for prompt i, as a NaN Pred does; a prompt whose
	// baseline quality or cost is NaN is left out.
	Quality, Cost []float64
}

// Goal is the quality an operating point must keep.
type Goal struct {
	// KeepQuality is the relative goal: keep at least this share of the
	// Baseline model's mean quality. Zero when Target is set.
	KeepQuality float64
	// Baseline is the index of the baseline model among the picker's
	// models: shares are of its quality and cost, and a relative goal is
	// relative to it.
	Baseline int
	// Target is the absolute goal, mean quality at least Target; zero
	// when KeepQuality is set.
	Target float64
	// Z is the one-sided confidence multiplier on the standard error of
	// the paired per-prompt difference; zero means DefaultZ.
	Z float64
}

// DefaultZ is the confidence multiplier a Goal gets when it names none:
// 1.645, a one-sided 95% bound on the mean of the paired difference.
const DefaultZ = 1.645

// MinPointSamples is the fewest prompts an operating point is chosen on:
// below it a standard error is itself too noisy to bound anything.
const MinPointSamples = 30

// ErrGoalUnmet is wrapped by ChoosePoint's error when no operating point
// keeps the goal with its margin. The point returned with it is the
// safest one the rule has (each prompt to its likeliest model), with its
// figures filled in; the caller should keep everything on the baseline
// (or the parent version's choice) rather than route by it.
var ErrGoalUnmet = errors.New("no operating point meets the quality goal with its confidence margin")

// sweepPoints bounds how many parameter values a sweep tries beyond the
// 0.01 grid: quantiles of the values where some prompt's routing changes.
const (
	sweepGrid   = 100
	sweepPoints = 400
)

// SweepParams lists the parameter values worth trying for p's rule on
// predictions pred (row-major, K a row): a 0.01 grid over [0, 1] plus
// quantiles of the thresholds at which some prompt's routing changes (for
// the gap rule the likeliest model's prediction minus each model's, for
// the target rule each prediction), ascending.
func SweepParams(p *router.Picker, pred []float64, K int) []float64 {
	gap := p.Point().Rule == router.RuleGap
	var vals []float64
	for i := 0; i+K <= len(pred); i += K {
		row := pred[i : i+K]
		best := math.Inf(-1)
		for _, pk := range row {
			if !math.IsNaN(pk) {
				best = max(best, pk)
			}
		}
		for _, pk := range row {
			if math.IsNaN(pk) {
				continue
			}
			v := pk
			if gap {
				v = best - pk
			}
			if v >= 0 && v <= 1 {
				vals = append(vals, v)
			}
		}
	}
	slices.Sort(vals)
	out := make([]float64, 0, sweepGrid+sweepPoints+1)
	for k := 0; k <= sweepGrid; k++ {
		out = append(out, float64(k)/sweepGrid)
	}
	if len(vals) > 0 {
		for k := range sweepPoints {
			out = append(out, vals[k*len(vals)/sweepPoints])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pointEval is one parameter's figures on the data.
type pointEval struct {
	param         float64
	quality, cost float64 // means over the prompts
	lower         float64 // mean paired difference to the goal minus Z standard errors
	marginQuality float64 // Z standard errors, in quality units
	meetsGoal     bool
}

// ChoosePoint returns the cheapest operating point of p's rule whose
// quality on d keeps g with its confidence margin: for a relative goal
// mean(q_choice - keep*q_base) - Z*se >= 0, for an absolute one
// mean(q_choice - target) - Z*se >= 0, se the standard error of that
// paired per-prompt difference. It sweeps the parameter over
// SweepParams; among equally cheap points it takes the one with the
// wider margin. The point's QualityShare and CostShare are its mean
// quality and cost as shares of the baseline's on d, Margin is Z standard
// errors as a share of the baseline's mean quality (so QualityShare -
// Margin >= KeepQuality for a relative goal), and Samples the prompts
// used.
//
// When no point meets the goal it returns, with an error wrapping
// ErrGoalUnmet, the point that sends each prompt to its likeliest model
// (gap 0, or target 1), never a point chosen on thin evidence: the caller
// keeps the baseline.
func ChoosePoint(p *router.Picker, d PointData, g Goal) (router.OperatingPoint, error) {
	op := p.Point()
	K := d.K
	switch {
	case K <= 0 || K != len(p.Models()):
		return op, fmt.Errorf("choose point: %d columns for %d models", K, len(p.Models()))
	case len(d.Pred)%K != 0 || len(d.Quality) != len(d.Pred) || len(d.Cost) != len(d.Pred):
		return op, fmt.Errorf("choose point: pred, quality and cost of %d, %d and %d values: want the same multiple of %d", len(d.Pred), len(d.Quality), len(d.Cost), K)
	case g.Baseline < 0 || g.Baseline >= K:
		return op, fmt.Errorf("choose point: baseline %d: want a model index in [0, %d)", g.Baseline, K)
	case (g.KeepQuality > 0) == (g.Target > 0):
		return op, fmt.Errorf("choose point: want one goal, keep_quality %v or target %v", g.KeepQuality, g.Target)
	case g.KeepQuality < 0 || g.KeepQuality > 1.5 || math.IsNaN(g.KeepQuality):
		return op, fmt.Errorf("choose point: keep_quality %v: want (0, 1.5]", g.KeepQuality)
	case g.Target < 0 || g.Target > 1 || math.IsNaN(g.Target):
		return op, fmt.Errorf("choose point: target %v: want (0, 1]", g.Target)
	case g.Z < 0 || math.IsNaN(g.Z):
		return op, fmt.Errorf("choose point: z %v: want >= 0", g.Z)
	}
	z := g.Z
	if z == 0 {
		z = DefaultZ
	}
	op.KeepQuality, op.Target, op.Baseline = g.KeepQuality, g.Target, p.Models()[g.Baseline]

	// The rows used, with unavailable models masked out of their
	// predictions.
	var pred, qual, cost []float64
	for i := 0; i+K <= len(d.Pred); i += K {
		b := i + g.Baseline
		if math.IsNaN(d.Quality[b]) || math.IsNaN(d.Cost[b]) {
			continue
		}
		usable := false
		for k := range K {
			pk := d.Pred[i+k]
			if math.IsNaN(d.Quality[i+k]) || math.IsNaN(d.Cost[i+k]) {
				pk = math.NaN()
			}
			usable = usable || !math.IsNaN(pk)
			pred = append(pred, pk)
		}
		if !usable {
			pred = pred[:len(pred)-K]
			continue
		}
		qual = append(qual, d.Quality[i:i+K]...)
		cost = append(cost, d.Cost[i:i+K]...)
	}
	n := len(pred) / K
	if n < MinPointSamples {
		return op, fmt.Errorf("choose point: %d usable prompts: want at least %d", n, MinPointSamples)
	}
	var baseQ, baseC float64
	for i := range n {
		baseQ += qual[i*K+g.Baseline]
		baseC += cost[i*K+g.Baseline]
	}
	baseQ /= float64(n)
	baseC /= float64(n)

	evalAt := func(param float64) pointEval {
		pk := p.WithParam(param)
		var sq, sc, sd, sdd float64
		for i := range n {
			c := pk.Choose(pred[i*K : (i+1)*K])
			q := qual[i*K+c]
			sq += q
			sc += cost[i*K+c]
			var diff float64
			if g.KeepQuality > 0 {
				diff = q - g.KeepQuality*qual[i*K+g.Baseline]
			} else {
				diff = q - g.Target
			}
			sd += diff
			sdd += diff * diff
		}
		fn := float64(n)
		mean := sd / fn
		variance := max(0, (sdd-fn*mean*mean)/(fn-1))
		m := z * math.Sqrt(variance/fn)
		return pointEval{param: param, quality: sq / fn, cost: sc / fn, lower: mean - m, marginQuality: m, meetsGoal: mean-m >= 0}
	}

	var best *pointEval
	for _, v := range SweepParams(p, pred, K) {
		e := evalAt(v)
		if !e.meetsGoal {
			continue
		}
		if best == nil || e.cost < best.cost || e.cost == best.cost && e.lower > best.lower {
			best = &e
		}
	}
	var err error
	if best == nil {
		safe := 0.0 // gap 0: each prompt to its likeliest model
		if op.Rule == router.RuleTarget {
			safe = 1
		}
		e := evalAt(safe)
		best = &e
		err = fmt.Errorf("choose point: %w (%s of %d prompts)", ErrGoalUnmet, goalString(g, op.Baseline), n)
	}
	op.Param = best.param
	op.Samples = n
	if baseQ != 0 {
		op.QualityShare = best.quality / baseQ
		op.Margin = best.marginQuality / math.Abs(baseQ)
	}
	if baseC != 0 {
		op.CostShare = best.cost / baseC
	}
	return op, err
}

func goalString(g Goal, baseline string) string {
	if g.KeepQuality > 0 {
		return fmt.Sprintf("keep %.3g of %s's quality", g.KeepQuality, baseline)
	}
	return fmt.Sprintf("quality %.3g", g.Target)
}

// MatchCost returns the parameter of p's rule at which the predictions
// of d route its prompts at the least cost share of the baseline's that
// is not below costShare (the most expensive one when none reaches it).
//
// It carries a point chosen on out-of-fold predictions over to the model
// then trained on all the data: that model's predictions are shifted and
// spread differently (a retrained head's calibration moves the gap the
// rule reads by a few hundredths, and on RouteLLM's MMLU a few hundredths
// move a tenth of the prompts), so the same parameter would not route the
// same share. Matching the cost share on the training prompts, with d's
// Pred the new model's predictions for them, keeps what the choice
// priced. Quality is not read.
func MatchCost(p *router.Picker, d PointData, baseline int, costShare float64) (float64, error) {
	K := d.K
	if K <= 0 || K != len(p.Models()) || len(d.Pred)%K != 0 || len(d.Cost) != len(d.Pred) {
		return 0, fmt.Errorf("match cost: %d predictions and %d costs for %d models", len(d.Pred), len(d.Cost), len(p.Models()))
	}
	if baseline < 0 || baseline >= K {
		return 0, fmt.Errorf("match cost: baseline %d: want a model index in [0, %d)", baseline, K)
	}
	var pred, cost []float64
	var baseC float64
	for i := 0; i+K <= len(d.Pred); i += K {
		if math.IsNaN(d.Cost[i+baseline]) {
			continue
		}
		row := slices.Clone(d.Pred[i : i+K])
		usable := false
		for k := range row {
			if math.IsNaN(d.Cost[i+k]) {
				row[k] = math.NaN()
			}
			usable = usable || !math.IsNaN(row[k])
		}
		if !usable {
			continue
		}
		pred = append(pred, row...)
		cost = append(cost, d.Cost[i:i+K]...)
		baseC += d.Cost[i+baseline]
	}
	if len(pred) == 0 || baseC == 0 {
		return 0, fmt.Errorf("match cost: no prompt with predictions and a baseline cost")
	}
	// Among the parameters that route alike, the safest: the least gap,
	// the highest target. The training prompts' predictions come from
	// the model trained on them and are surer than on new prompts, so
	// the far end of a flat stretch routes new prompts cheaper than it
	// routed these.
	target := p.Point().Rule == router.RuleTarget
	best, bestShare, top, topShare := math.NaN(), math.Inf(1), math.NaN(), math.Inf(-1)
	for _, v := range SweepParams(p, pred, K) {
		pk := p.WithParam(v)
		var c float64
		for i := 0; i < len(pred); i += K {
			c += cost[i+pk.Choose(pred[i:i+K])]
		}
		share := c / baseC
		if share >= costShare && (share < bestShare || share == bestShare && target) {
			best, bestShare = v, share
		}
		if share > topShare || share == topShare && target {
			top, topShare = v, share
		}
	}
	if math.IsNaN(best) {
		return top, nil
	}
	return best, nil
}
