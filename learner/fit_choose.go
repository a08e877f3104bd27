package learner

import (
	"math"
	"slices"

	"github.com/switchyard/switchyard/router"
)

// Table returns the routing table at a quality target and its
// provenance. It never fails: every complexity gets a bucket.
func (e *Evidence) Table(target float64) (router.Table, router.Provenance) {
	opts := e.opts
	opts.Target = target
	prov := router.Provenance{
		WindowFrom: e.from,
		WindowTo:   e.to,
		Samples:    e.samples,
		Stats:      map[string]map[string]router.ModelStat{},
		Params:     opts.params(),
	}
	t := router.Table{}
	var first [nComplexities]int
	for c, cx := range router.Complexities {
		stats := e.byComplexity[c]
		if len(stats) == 0 {
			// No data for this complexity: the strongest models overall.
			stats = e.strongest
		}
		list := e.choose(stats, target)
		first[c] = list[0]
		t[string(cx)] = e.names(list)
		prov.Stats[string(cx)] = e.modelStats(stats)
	}
	for _, rb := range e.refined {
		list := e.choose(rb.stats, target)
		if !e.refines(rb, list[0], first[rb.complexity], target) {
			continue // keep the table small: the parent decides as well
		}
		b := router.BucketOf(router.Complexities[rb.complexity], e.categories[rb.category])
		t[b] = e.names(list)
		prov.Stats[b] = e.modelStats(rb.stats)
	}
	return t, prov
}

// refines reports whether a category bucket's choice should override its
// parent's. Only decisive evidence counts, since a thinner bucket has a
// wider interval and would otherwise drift to stronger models by noise:
// the category's choice must be adequate and credibly cheaper per success
// than the parent's choice there, or the parent's choice must be credibly
// inadequate there (its upper bound under the target).
func (e *Evidence) refines(rb refinedBucket, choice, parentChoice int, target float64) bool {
	if choice == parentChoice {
		return false
	}
	var c, p stat
	for _, s := range rb.stats {
		switch s.model {
		case choice:
			c = s
		case parentChoice:
			p = s
		}
	}
	// Cheaper per success even with c's rate at its lower bound and p's
	// at its upper one.
	if c.lower >= target && c.meanCost*p.upper < p.meanCost*c.lower {
		return true
	}
	return p.upper < target
}

// choose orders a bucket's models: the adequate ones (lower bound at or
// above target) by expected cost per successful answer, then the rest
// strongest first, cut to MaxCandidates. With no adequate model the
// strongest leads.
func (e *Evidence) choose(stats []stat, target float64) []int {
	var adequate, rest []stat
	for _, s := range stats {
		if s.lower >= target {
			adequate = append(adequate, s)
		} else {
			rest = append(rest, s)
		}
	}
	slices.SortFunc(adequate, func(x, y stat) int {
		if c := cmpAsc(x.costPerSuccess(), y.costPerSuccess()); c != 0 {
			return c
		}
		return e.byStrength(x, y)
	})
	slices.SortFunc(rest, e.byStrength)
	out := make([]int, 0, min(len(stats), e.opts.MaxCandidates))
	for _, s := range append(adequate, rest...) {
		if len(out) == e.opts.MaxCandidates {
			break
		}
		out = append(out, s.model)
	}
	return out
}

func (e *Evidence) names(list []int) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = e.models[m]
	}
	return out
}

func (e *Evidence) modelStats(stats []stat) map[string]router.ModelStat {
	out := make(map[string]router.ModelStat, len(stats))
	for _, s := range stats {
		out[e.models[s.model]] = router.ModelStat{
			Samples:     s.samples,
			SuccessRate: s.mean,
			LowerBound:  s.lower,
			MeanCost:    router.Micros(math.Round(s.meanCost)),
		}
	}
	return out
}
