package learner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// PolicyReport is what a run did about the per-prompt policy.
type PolicyReport struct {
	// Status is "proposed" when a policy was chosen and gated, else
	// "none" with Reason saying why.
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Policy is the proposed policy: the local model's models, cheapest
	// first, and the operating point chosen on all logged prompts.
	Policy *router.PromptPolicy `json:"policy,omitempty"`
	// Verdict compares it with the active version on logged prompts,
	// each scored at the point chosen on the other fold.
	Verdict *PolicyVerdict `json:"verdict,omitempty"`
}

// drMaxWeight caps the doubly robust estimates' importance weights only
// against a propensity recorded as (nearly) zero.
const drMaxWeight = 1000

// Policy statuses.
const (
	PolicyProposed = "proposed"
	PolicyNone     = "none"
)

// learnPolicy chooses a per-prompt policy for the local model just
// trained on examples and gates it against active on the logged prompts:
//
//   - every logged prompt gets predictions from a model trained on the
//     other fold (outOfFold), and doubly robust estimates of each
//     model's quality and cost on it (doublyRobust);
//   - the operating point is chosen with ChoosePoint toward the
//     configured goal; for the gate, each fold's prompts are routed at
//     the point chosen on the other fold, so no prompt is scored at a
//     point chosen on it;
//   - the deployed point is chosen on every prompt, then carried over to
//     deployed, the model trained on them that the service will route
//     with, by the cost share the choice priced (MatchCost), measured on
//     the prompts deployed's weights never fitted (data.unfitted).
func (j *Job) learnPolicy(ctx context.Context, obs []router.Observation, data localData, deployed *textmodel.Model, active router.Version) (PolicyReport, error) {
	texts, examples := data.texts, data.examples
	o := j.opts
	none := func(format string, args ...any) (PolicyReport, error) {
		return PolicyReport{Status: PolicyNone, Reason: fmt.Sprintf(format, args...)}, nil
	}
	rows := loggedPrompts(obs, texts, o.Models)
	models, prices := policyModels(examples, o.Models, o.Fit.Baseline)
	if len(models) < 2 {
		return none("%d model(s) with %d labelled prompts: nothing to choose among", len(models), policyMinSamples)
	}
	goal := Goal{KeepQuality: o.Fit.KeepQuality, Target: o.Fit.Target}
	if goal.KeepQuality > 0 {
		goal.Target = 0
		goal.Baseline = slices.Index(models, o.Fit.Baseline)
		if goal.Baseline < 0 {
			return none("the baseline %q has no logged outcome with kept text", o.Fit.Baseline)
		}
	} else {
		goal.Baseline = len(models) - 1
	}
	pred, err := outOfFold(ctx, rows, examples, models, o.Local.Train)
	if err != nil {
		if ctx.Err() != nil {
			return PolicyReport{}, err
		}
		return none("out-of-fold predictions: %v", err)
	}
	// Unclipped weights: a clip biases the estimate toward the
	// predictions being judged (with nine models and 30% exploration a
	// model's explored share is 1/30, beyond the gate's cap of 20).
	d := doublyRobust(rows, pred, models, meanCosts(rows, models, prices), drMaxWeight)
	picker, err := router.NewPicker(models, prices, router.OperatingPoint{Rule: router.RuleGap})
	if err != nil {
		return none("%v", err)
	}

	// The gate's choices: each fold at the point of the other.
	K := len(models)
	cand := make([]int, len(rows))
	for f := range crossFold {
		other := subset(d, rows, func(p string) bool { return foldOf(p, crossFold) != f })
		pt, err := ChoosePoint(picker, other, goal)
		if err != nil && !errors.Is(err, ErrGoalUnmet) {
			return none("fold %d: %v", f+1, err)
		}
		pf := picker.WithParam(pt.Param)
		for i, r := range rows {
			if foldOf(r.Prompt, crossFold) == f {
				cand[i] = pf.Choose(d.Pred[i*K : (i+1)*K])
			}
		}
	}
	act := activeChoices(rows, d, models, prices, goal.Baseline, active)
	// The point was chosen with DefaultZ on the other fold; the held-out
	// check counts the table gate's margin against it.
	v := gatePolicy(cand, act, d, goal, o.Gate.Tolerance, o.Gate.Margin)

	point, err := ChoosePoint(picker, d, goal)
	if err != nil {
		if errors.Is(err, ErrGoalUnmet) {
			return PolicyReport{Status: PolicyNone, Reason: err.Error(), Verdict: &v}, nil
		}
		return none("%v", err)
	}
	if deployed != nil {
		// The point was chosen on out-of-fold predictions; the deployed
		// model, trained on every prompt, is surer and shifted, so the
		// same gap would route more prompts to cheap models than the
		// choice priced (the loop measured 37% of the static cost on
		// held-out prompts where the choice predicted about half, at a
		// quality below the goal). Match the priced cost share instead,
		// as eval does, on the prompts deployed's weights never fitted:
		// on the ones they fitted its predictions are surer than on new
		// prompts, so a gap matched there routes new prompts cheaper than
		// priced (eval measured it: MMLU's test cost 2.7-7.5 points over
		// the share chosen, BENCHMARKS.md, "--match-cost-on"). Too few of
		// them, and every prompt is used, as before.
		keep := func(p string) bool { return data.unfitted[p] }
		if n := countRows(rows, keep); n < minMatchRows {
			keep = func(string) bool { return true }
		}
		pred := make([]float64, len(rows)*K)
		predictInto(pred, deployed, rows, models, keep)
		full := subset(PointData{K: K, Pred: pred, Quality: d.Quality, Cost: d.Cost}, rows, keep)
		if param, err := MatchCost(picker, full, goal.Baseline, point.CostShare); err == nil {
			point.Param = param
		}
	}
	return PolicyReport{
		Status:  PolicyProposed,
		Reason:  v.Reason,
		Policy:  &router.PromptPolicy{Models: models, Point: point},
		Verdict: &v,
	}, nil
}

// minMatchRows is the fewest unfitted logged prompts the deployed
// point's cost is matched on; fewer, and it is matched on all of them.
const minMatchRows = 100

// countRows counts the rows whose prompt keep selects.
func countRows(rows []LoggedPrompt, keep func(string) bool) int {
	n := 0
	for _, r := range rows {
		if keep(r.Prompt) {
			n++
		}
	}
	return n
}

// subset returns d's rows whose prompt keep selects.
func subset(d PointData, rows []LoggedPrompt, keep func(string) bool) PointData {
	K := d.K
	out := PointData{K: K}
	for i, r := range rows {
		if keep(r.Prompt) {
			out.Pred = append(out.Pred, d.Pred[i*K:(i+1)*K]...)
			out.Quality = append(out.Quality, d.Quality[i*K:(i+1)*K]...)
			out.Cost = append(out.Cost, d.Cost[i*K:(i+1)*K]...)
		}
	}
	return out
}

// meanCosts returns each model's mean logged cost a request; a model
// with no logged request gets its typical-call price scaled by the
// ratio of logged cost to typical price over the models that have one.
func meanCosts(rows []LoggedPrompt, models []string, prices []float64) []float64 {
	K := len(models)
	sum, n := make([]float64, K), make([]float64, K)
	var logged, priced float64
	for _, r := range rows {
		if k := slices.Index(models, r.Model); k >= 0 {
			sum[k] += r.Cost
			n[k]++
			logged += r.Cost
			priced += prices[k]
		}
	}
	ratio := 1.0
	if priced > 0 {
		ratio = logged / priced
	}
	out := make([]float64, K)
	for k := range K {
		out[k] = prices[k] * ratio
		if n[k] > 0 {
			out[k] = sum[k] / n[k]
		}
	}
	return out
}

// activeChoices returns the model the active version sends each logged
// prompt to first, as an index into models (-1: a model the policy
// lacks). An active per-prompt policy is replayed with the candidate's
// out-of-fold predictions, not its own model's: an approximation that
// compares the two operating points on the same reading of the prompts.
// Its parameter was matched to its own model's predictions (MatchCost),
// so it is replayed at the cost share it was chosen for, as the
// candidate is, rather than at that parameter.
func activeChoices(rows []LoggedPrompt, d PointData, models []string, prices []float64, baseline int, active router.Version) []int {
	K := len(models)
	out := make([]int, len(rows))
	var ap *router.Picker
	if pp := active.Policy; pp != nil && slices.Equal(pp.Models, models) {
		ap, _ = router.NewPicker(models, prices, pp.Point)
		if ap != nil && pp.Point.CostShare > 0 {
			if param, err := MatchCost(ap, d, baseline, pp.Point.CostShare); err == nil {
				ap = ap.WithParam(param)
			}
		}
	}
	for i, r := range rows {
		if ap != nil {
			out[i] = ap.Choose(d.Pred[i*K : (i+1)*K])
			continue
		}
		out[i] = slices.Index(models, first(active.Table.Candidates(r.Analysis)))
		if out[i] >= 0 && math.IsNaN(d.Quality[i*K+out[i]]) {
			out[i] = -1
		}
	}
	return out
}

// runPolicy finishes a run whose local model came with a proposed
// per-prompt policy: the candidate carries the policy and the new local
// model; its bucket table (the fallback when a prediction fails) is the
// fitted one where the table gate passes it, else the active one; and
// the policy's gate decides the promotion.
func (j *Job) runPolicy(ctx context.Context, rep Report, cand router.Version, logged []Logged, heldOut func() []router.Table, dryRun bool) (Report, error) {
	o := j.opts
	active := rep.Active
	pr := rep.Policy
	cand.Policy = pr.Policy
	var tableNote string
	if !cand.Table.Equal(active.Table) {
		var labeled LabeledSet
		if o.Labeled != nil {
			var err error
			if labeled, err = o.Labeled(ctx); err != nil {
				return rep, fmt.Errorf("learn: labeled dataset: %w", err)
			}
		}
		v := GateHeldOut(active.Table, cand.Table, heldOut(), logged, labeled, o.Gate)
		if v.Promote {
			cand.Table, _ = HoldBack(active.Table, cand.Table, v)
			tableNote = "; table: " + v.Reason
		} else {
			cand.Table = active.Table
			tableNote = "; table kept: " + v.Reason
		}
		rep.Verdict = &v
	}
	pv := pr.Verdict
	rep.Reason = pr.Reason + "; operating point " + pr.Policy.Point.String() + tableNote
	rep.Status = RunKept
	cand.Note = "kept as candidate: " + rep.Reason
	cand.Provenance.Gate = "Kept: " + rep.Reason
	if pv.Promote {
		rep.Status = RunPromoted
		cand.Note = "promoted by the gate: " + rep.Reason
		cand.Provenance.Gate = "Promoted: " + rep.Reason
	}
	// The replay's prediction goes with the version, as a table's does:
	// the held-out one, each fold routed at the point chosen on the
	// other, not the point's own figures (chosen on every prompt, so
	// optimistic by the choice).
	if cand.Provenance.Params == nil {
		cand.Provenance.Params = map[string]float64{}
	}
	cand.Provenance.Params[router.ParamReplayQuality] = pv.CandidateQuality
	cand.Provenance.Params[router.ParamReplayCost] = pv.CandidateCost
	cand.Provenance.Params[router.ParamReplaySamples] = float64(pv.Samples)
	diff := router.Diff(active, cand)
	rep.Candidate, rep.Diff = &cand, &diff
	if dryRun {
		return rep, nil
	}
	return j.write(ctx, rep, active, cand, pv.Promote, "per-prompt policy")
}
