package learner

import (
	"math"
	"slices"

	"github.com/switchyard/switchyard/router"
)

// goal is what a bucket's models are held to: an absolute target, or a
// share keep of the baseline model's posterior mean in the bucket.
type goal struct {
	target   float64
	keep     float64
	baseline int // model index; -1 for each bucket's strongest
}

// goal returns the options' goal: relative when KeepQuality is set.
func (e *Evidence) goal() goal {
	g := goal{target: e.opts.Target, keep: e.opts.KeepQuality, baseline: -1}
	if g.keep > 0 {
		g.baseline = slices.Index(e.models, e.opts.Baseline)
	}
	return g
}

// bucketTarget is the success rate a model needs in the bucket of stats:
// the absolute target, or keep times the baseline's mean there (the
// strongest well-sampled model's when the baseline has no data in it).
func (e *Evidence) bucketTarget(stats []stat, g goal) float64 {
	if g.keep == 0 {
		return g.target
	}
	ref, ok := e.lead(stats, g)
	if !ok {
		return g.target
	}
	return g.keep * ref.mean
}

// lead is the model a bucket keeps when no model reaches its goal on
// enough evidence: the baseline where it has data, else the strongest
// model with Evidence samples, else the strongest.
func (e *Evidence) lead(stats []stat, g goal) (stat, bool) {
	if len(stats) == 0 {
		return stat{}, false
	}
	if g.baseline >= 0 {
		for _, s := range stats {
			if s.model == g.baseline && s.samples > 0 {
				return s, true
			}
		}
	}
	var best stat
	found := false
	for _, s := range stats {
		if s.samples >= e.opts.Evidence && (!found || e.byStrength(s, best) < 0) {
			best, found = s, true
		}
	}
	if found {
		return best, true
	}
	return slices.MinFunc(stats, e.byStrength), true
}

// Table returns the routing table at an absolute quality target and its
// provenance (the eval harness sweeps targets this way). It never fails:
// every complexity gets a bucket.
func (e *Evidence) Table(target float64) (router.Table, router.Provenance) {
	return e.table(goal{target: target, baseline: -1})
}

// TableKeep returns the routing table fitted to the relative goal: keep
// a share keep of baseline's quality in every bucket (baseline empty:
// each bucket's strongest model).
func (e *Evidence) TableKeep(keep float64, baseline string) (router.Table, router.Provenance) {
	return e.table(goal{keep: keep, baseline: slices.Index(e.models, baseline)})
}

func (e *Evidence) table(g goal) (router.Table, router.Provenance) {
	opts := e.opts
	if g.keep > 0 {
		opts.KeepQuality, opts.Target = g.keep, 0
	} else {
		opts.KeepQuality, opts.Target = 0, g.target
	}
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
		list := e.choose(stats, g)
		first[c] = list[0]
		t[string(cx)] = e.names(list)
		prov.Stats[string(cx)] = e.modelStats(stats)
	}
	for _, rb := range e.refined {
		list := e.choose(rb.stats, g)
		if !e.refines(rb, list[0], first[rb.complexity], e.bucketTarget(rb.stats, g)) {
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
// the category's choice must have Evidence samples of its own and reach
// the target, and be credibly cheaper per success than the parent's
// choice there, or the parent's choice must be credibly inadequate there
// (its upper bound under the target). Otherwise the parent's choice is
// kept.
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
	if c.samples < e.opts.Evidence || c.lower < target {
		return false
	}
	// Cheaper per success even with c's rate at its lower bound and p's
	// at its upper one.
	if c.meanCost*p.upper < p.meanCost*c.lower {
		return true
	}
	return p.upper < target
}

// choose orders a bucket's models: the adequate ones (lower bound at or
// above the bucket's target, on Evidence samples) by expected cost per
// successful answer, then the rest strongest first, cut to
// MaxCandidates. With no adequate model the lead (the baseline, or the
// strongest well-sampled model) comes first.
func (e *Evidence) choose(stats []stat, g goal) []int {
	target := e.bucketTarget(stats, g)
	var adequate, rest []stat
	for _, s := range stats {
		if s.lower >= target && s.samples >= e.opts.Evidence {
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
	if len(adequate) == 0 {
		if l, ok := e.lead(stats, g); ok {
			i := slices.IndexFunc(rest, func(s stat) bool { return s.model == l.model })
			rest = append([]stat{l}, slices.Delete(rest, i, i+1)...)
		}
	}
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
