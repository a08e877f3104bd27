package learner

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// LoggedPrompt is one routed request whose prompt text was kept: what
// the per-prompt policy is chosen and gated on.
type LoggedPrompt struct {
	Prompt   string
	Analysis router.Analysis
	// Model answered first, chosen with probability Propensity; Score
	// and Cost (micro-USD) are how that attempt did.
	Model      string
	Propensity float64
	Score      float64
	Cost       float64
}

// loggedPrompts rebuilds the routed requests with kept text from the
// window's observations: one per request with a signal about its first
// attempt, scored as LoggedFromOutcomes does.
func loggedPrompts(obs []router.Observation, texts map[string]string, models router.Catalog) []LoggedPrompt {
	ids, logged := firstAttempts(obs, models, func(o router.Observation) bool {
		_, ok := texts[o.RequestID]
		return ok
	})
	out := make([]LoggedPrompt, len(logged))
	for i, l := range logged {
		out[i] = LoggedPrompt{
			Prompt: texts[ids[i]], Analysis: l.Analysis, Model: l.Model,
			Propensity: l.Propensity, Score: l.Score, Cost: l.Cost,
		}
	}
	return out
}

// crossFold is how many folds the out-of-fold predictions are made in;
// a prompt's fold goes by its text (foldOf), so that every request of
// one prompt is on the same side.
const crossFold = 2

// outOfFold returns each logged prompt's predicted success of every
// model (row-major, len(models) a row) from a model trained on the other
// folds' examples only: the point is never chosen, nor the policy gated,
// on predictions of a model that saw the prompt. NaN marks a model a
// fold's model has no head for.
func outOfFold(ctx context.Context, rows []LoggedPrompt, examples []textmodel.Example, models []string, opts textmodel.Options) ([]float64, error) {
	K := len(models)
	pred := make([]float64, len(rows)*K)
	opts.Models = models
	for f := range crossFold {
		var train []textmodel.Example
		for _, ex := range examples {
			if foldOf(ex.Prompt, crossFold) != f {
				train = append(train, ex)
			}
		}
		m, err := textmodel.Train(ctx, train, opts)
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, crossFold, err)
		}
		predictInto(pred, m, rows, models, func(p string) bool { return foldOf(p, crossFold) == f })
	}
	return pred, nil
}

// predictInto fills pred's rows of the prompts keep selects with m's
// predictions.
func predictInto(pred []float64, m *textmodel.Model, rows []LoggedPrompt, models []string, keep func(string) bool) {
	K := len(models)
	heads := make([]int, K)
	for k, name := range models {
		heads[k] = m.Head(textmodel.KindModel, name)
	}
	var buf []float64
	for i, r := range rows {
		if !keep(r.Prompt) {
			continue
		}
		buf = m.PredictInto(r.Prompt, nil, buf)
		for k, h := range heads {
			pred[i*K+k] = math.NaN()
			if h >= 0 && m.Heads()[h].Samples > 0 {
				pred[i*K+k] = buf[h]
			}
		}
	}
}

// doublyRobust returns ChoosePoint's data from logged prompts: for each
// prompt i and model k, the quality estimate pred[i,k] + 1[k answered] *
// w_i * (score_i - pred[i,k]) and the cost estimate meanCost[k] +
// 1[k answered] * w_i * (cost_i - meanCost[k]), w_i the capped inverse
// propensity. Each is unbiased for what model k would have done on
// prompt i when the propensities are right (whatever the predictions),
// and has the predictions' low variance where they are good.
func doublyRobust(rows []LoggedPrompt, pred []float64, models []string, meanCost []float64, maxWeight float64) PointData {
	K := len(models)
	d := PointData{K: K, Pred: pred, Quality: make([]float64, len(pred)), Cost: make([]float64, len(pred))}
	for i, r := range rows {
		w := importance(r.Propensity, maxWeight)
		for k, m := range models {
			p := pred[i*K+k]
			q, c := p, meanCost[k]
			if m == r.Model {
				if !math.IsNaN(p) {
					q += w * (r.Score - p)
				}
				c += w * (r.Cost - meanCost[k])
			}
			d.Quality[i*K+k], d.Cost[i*K+k] = q, c
		}
	}
	return d
}

// PolicyVerdict is the gate's view of a per-prompt policy against the
// active version on the logged prompts.
type PolicyVerdict struct {
	Promote bool   `json:"promote"`
	Reason  string `json:"reason"`
	// Samples is the logged prompts replayed.
	Samples int `json:"samples"`
	// The doubly robust mean quality and cost (micro-USD a request) of
	// the active version, the candidate (each fold at the point chosen
	// on the other) and the baseline model on the logged prompts.
	ActiveQuality    float64 `json:"active_quality"`
	CandidateQuality float64 `json:"candidate_quality"`
	BaselineQuality  float64 `json:"baseline_quality"`
	ActiveCost       float64 `json:"active_cost_micros"`
	CandidateCost    float64 `json:"candidate_cost_micros"`
	// Goal is the quality the candidate must keep (KeepQuality times
	// BaselineQuality, or the absolute target); Margin is Z standard
	// errors of the candidate's paired per-prompt difference from it.
	Goal   float64 `json:"goal"`
	Margin float64 `json:"margin"`
}

// gatePolicy judges the candidate's per-prompt choices (cand[i]) against
// the active version's first choices (active[i]), each an index into d's
// models or -1 for none, on the doubly robust estimates d. The candidate
// is promoted when, on these held-out choices, its quality keeps the goal
// g within tolerance even at the lower end of its margin (z standard
// errors of the paired difference: the table gate's Margin), and its
// cost is below the active version's. The reason gives both estimates and the
// margin, and says which condition failed.
func gatePolicy(cand, active []int, d PointData, g Goal, tolerance, z float64) PolicyVerdict {
	K := d.K
	var v PolicyVerdict
	var sd, sdd, qa, qc, qb, ca, cc float64
	n := 0
	for i := 0; i+K <= len(d.Pred); i += K {
		a, c, b := active[i/K], cand[i/K], i+g.Baseline
		if a < 0 || c < 0 || math.IsNaN(d.Quality[i+a]) || math.IsNaN(d.Quality[i+c]) || math.IsNaN(d.Quality[b]) {
			continue
		}
		n++
		diff := d.Quality[i+c] - g.Target
		if g.KeepQuality > 0 {
			diff = d.Quality[i+c] - g.KeepQuality*d.Quality[b]
		}
		sd += diff
		sdd += diff * diff
		qa += d.Quality[i+a]
		qc += d.Quality[i+c]
		qb += d.Quality[b]
		ca += d.Cost[i+a]
		cc += d.Cost[i+c]
	}
	v.Samples = n
	if n < MinPointSamples {
		v.Reason = fmt.Sprintf("per-prompt policy: %d logged prompts to replay, %d needed", n, MinPointSamples)
		return v
	}
	fn := float64(n)
	mean := sd / fn
	v.Margin = z * math.Sqrt(max(0, (sdd-fn*mean*mean)/(fn-1))/fn)
	v.ActiveQuality, v.CandidateQuality, v.BaselineQuality = qa/fn, qc/fn, qb/fn
	v.ActiveCost, v.CandidateCost = ca/fn, cc/fn
	v.Goal = g.Target
	if g.KeepQuality > 0 {
		v.Goal = g.KeepQuality * v.BaselineQuality
	}
	figures := fmt.Sprintf("quality %.3f -> %.3f (goal %.3f, ±%.3f), cost a request %s -> %s",
		v.ActiveQuality, v.CandidateQuality, v.Goal, v.Margin, micros(v.ActiveCost), micros(v.CandidateCost))
	if v.ActiveCost > 0 {
		figures += fmt.Sprintf(" (%+.0f%%)", 100*(v.CandidateCost/v.ActiveCost-1))
	}
	figures += fmt.Sprintf(", n=%d held-out", n)
	switch {
	case mean < -tolerance-1e-12:
		v.Reason = fmt.Sprintf("per-prompt policy: quality misses the goal by more than %.3f: %s", tolerance, figures)
	case mean-v.Margin < -tolerance-1e-12:
		v.Reason = fmt.Sprintf("per-prompt policy: the margin is too wide to rule out missing the goal by more than %.3f: %s", tolerance, figures)
	case !(v.CandidateCost < (1-policyMinSaving)*v.ActiveCost):
		v.Reason = fmt.Sprintf("per-prompt policy: cost does not fall by %.0f%%: ", 100*policyMinSaving) + figures
	default:
		v.Promote = true
		v.Reason = "per-prompt policy: " + figures
	}
	return v
}

// policyMinSaving is the least share of the active version's cost a
// per-prompt policy must save to replace it: a retrained model's point
// differs from the active one's by a few prompts each run, and promoting
// every such shade would churn versions (and the local model) for nothing.
const policyMinSaving = 0.02

// policyMinSamples is the labelled prompts a model needs before a
// per-prompt policy may choose it: a head trained on fewer predicts too
// roughly to route by, and the doubly robust estimates for its model
// rest on too few outcomes.
const policyMinSamples = 100

// policyModels returns the models a per-prompt policy chooses among:
// those of the catalog with policyMinSamples labelled prompts (and
// baseline, whatever its count), cheapest first by the price of a
// typical call (the service's order), and those prices.
func policyModels(examples []textmodel.Example, catalog router.Catalog, baseline string) ([]string, []float64) {
	count := map[string]int{}
	for _, ex := range examples {
		for m := range ex.Scores {
			if _, ok := catalog[m]; ok || catalog == nil {
				count[m]++
			}
		}
	}
	models := make([]string, 0, len(count))
	for m, n := range count {
		if n >= policyMinSamples || m == baseline {
			models = append(models, m)
		}
	}
	price := func(m string) float64 { return float64(catalog[m].Cost(1000, 1000)) }
	slices.SortFunc(models, func(a, b string) int {
		if c := cmpAsc(price(a), price(b)); c != 0 {
			return c
		}
		return cmpAsc(a, b)
	})
	costs := make([]float64, len(models))
	for k, m := range models {
		costs[k] = price(m)
	}
	return models, costs
}
