package learner

import (
	"math"

	"github.com/switchyard/switchyard/router"
)

// FromOutcomes maps the store's observations to Fit's, the one place the
// two types meet. Each keeps its source's weight (explicit feedback above
// automatic signals), times the capped importance weight 1/propensity for
// the request's first attempt, the only one routing chose at random;
// later attempts ran because an earlier one failed and keep their source
// weight. Observations of unrouted requests (a model named by the client:
// no complexity), of models not in models (when models is not nil) and
// without weight are left out.
func FromOutcomes(obs []router.Observation, models router.Catalog, maxWeight float64) []Sample {
	out := make([]Sample, 0, len(obs))
	for _, o := range obs {
		if !usable(o, models) {
			continue
		}
		w := o.Weight
		if o.Attempt == 0 {
			w *= importance(o.Propensity, maxWeight)
		}
		out = append(out, Sample{
			Complexity: o.Complexity,
			Category:   o.Category,
			Model:      o.Model,
			Score:      o.Score,
			CostMicros: float64(o.Cost),
			Weight:     w,
			At:         o.Time,
		})
	}
	return out
}

// LoggedFromOutcomes rebuilds the routed requests the gate replays: one
// per request with a signal about its first attempt, scored by the
// source-weighted mean of those signals (feedback on the first model's
// answer, or its failure).
func LoggedFromOutcomes(obs []router.Observation, models router.Catalog) []Logged {
	_, logged := firstAttempts(obs, models, nil)
	return logged
}

// firstAttempts folds observations into one Logged per request with a
// usable signal about its first attempt, in the order requests first
// appear, with their ids; keep, when not nil, passes over the
// observations it refuses.
func firstAttempts(obs []router.Observation, models router.Catalog, keep func(router.Observation) bool) ([]string, []Logged) {
	type acc struct {
		l     Logged
		w, ws float64
	}
	byID := map[string]*acc{}
	var order []string
	for _, o := range obs {
		if o.Attempt != 0 || !usable(o, models) || keep != nil && !keep(o) {
			continue
		}
		a := byID[o.RequestID]
		if a == nil {
			a = &acc{l: Logged{
				Analysis:   router.Analysis{Complexity: o.Complexity, Category: o.Category},
				Model:      o.Model,
				Propensity: o.Propensity,
				Cost:       float64(o.Cost),
			}}
			byID[o.RequestID] = a
			order = append(order, o.RequestID)
		}
		a.w += o.Weight
		a.ws += o.Weight * o.Score
	}
	out := make([]Logged, 0, len(order))
	for _, id := range order {
		a := byID[id]
		a.l.ID = id
		a.l.Score = a.ws / a.w
		out = append(out, a.l)
	}
	return order, out
}

func usable(o router.Observation, models router.Catalog) bool {
	if complexityIndex(o.Complexity) < 0 || o.Model == "" || !(o.Weight > 0) || math.IsInf(o.Weight, 0) {
		return false
	}
	if !(o.Score >= 0 && o.Score <= 1) {
		return false
	}
	if models != nil {
		if _, ok := models[o.Model]; !ok {
			return false
		}
	}
	return true
}
