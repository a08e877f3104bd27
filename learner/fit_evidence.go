package learner

import (
	"fmt"
	"slices"
	"time"

	"github.com/switchyard/switchyard/router"
)

// cell accumulates the weighted evidence about one model in one bucket.
type cell struct {
	n   int     // raw samples
	w   float64 // sum of weights
	w2  float64 // sum of squared weights (for the effective sample size)
	ws  float64 // sum of weight x score
	wc  float64 // sum of weight x cost (micro-USD)
	set bool    // any sample at all
}

func (c *cell) add(o *cell) {
	c.n += o.n
	c.w += o.w
	c.w2 += o.w2
	c.ws += o.ws
	c.wc += o.wc
	c.set = c.set || o.set
}

// effective returns the Kish effective sample size and the weighted
// successes it carries: importance weights inflate neither.
func (c *cell) effective() (n, successes float64) {
	if c.w == 0 {
		return 0, 0
	}
	n = c.w * c.w / c.w2
	return n, n * c.ws / c.w
}

func (c *cell) meanCost() float64 {
	if c.w == 0 {
		return 0
	}
	return c.wc / c.w
}

// stat is the fitted posterior of one model in one bucket.
type stat struct {
	model    int
	samples  int
	mean     float64 // posterior mean success rate
	lower    float64 // lower credible bound
	upper    float64 // upper credible bound
	meanCost float64 // micro-USD per call
}

// costPerSuccess is the objective: expected spend per successful answer.
func (s stat) costPerSuccess() float64 { return s.meanCost / s.mean }

// Evidence is the summarised outcome data, ready to be turned into tables
// at any quality target without touching the observations again (the
// eval harness sweeps targets this way).
type Evidence struct {
	opts       Options
	models     []string
	categories []string // index 0 is "" (no category)
	samples    int
	from, to   time.Time

	// byComplexity[c] holds one stat per model with data in complexity c.
	byComplexity [nComplexities][]stat
	// refined holds the category buckets with enough data.
	refined []refinedBucket
	// strongest orders every model by its success over all the data.
	strongest []stat
}

type refinedBucket struct {
	complexity int
	category   int
	stats      []stat // one per model in byComplexity[complexity]
}

const nComplexities = 3

// complexityIndex maps the three complexities to 0..2, anything else to -1.
func complexityIndex(c router.Complexity) int {
	switch c {
	case router.Simple:
		return 0
	case router.Moderate:
		return 1
	case router.Complex:
		return 2
	}
	return -1
}

// Summarize validates obs and computes every bucket's posteriors.
func Summarize(obs []Sample, opts Options) (*Evidence, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("fit options: %w", err)
	}
	if len(obs) == 0 {
		return nil, ErrNoObservations
	}
	e := &Evidence{opts: opts, categories: []string{""}, samples: len(obs)}

	// Pass 1: intern model and category names, so the accumulation below
	// indexes flat slices instead of hashing strings per cell.
	modelIdx := map[string]int32{}
	catIdx := map[string]int32{"": 0}
	idx := make([]int32, 3*len(obs))
	lastModel, lastCat := "", ""
	var lm, lc int32 = -1, 0
	for i := range obs {
		o := &obs[i]
		if err := o.validate(); err != nil {
			return nil, fmt.Errorf("observation %d: %w", i, err)
		}
		if lm < 0 || o.Model != lastModel {
			m, ok := modelIdx[o.Model]
			if !ok {
				m = int32(len(e.models))
				modelIdx[o.Model] = m
				e.models = append(e.models, o.Model)
			}
			lm, lastModel = m, o.Model
		}
		if o.Category != lastCat {
			cat := o.Category
			if !router.ValidCategory(cat) {
				cat = ""
			}
			k, ok := catIdx[cat]
			if !ok {
				k = int32(len(e.categories))
				catIdx[cat] = k
				e.categories = append(e.categories, cat)
			}
			lc, lastCat = k, o.Category
		}
		idx[3*i] = int32(complexityIndex(o.Complexity))
		idx[3*i+1] = lc
		idx[3*i+2] = lm
		if !o.At.IsZero() {
			if e.from.IsZero() || o.At.Before(e.from) {
				e.from = o.At
			}
			if o.At.After(e.to) {
				e.to = o.At
			}
		}
	}

	// Pass 2: accumulate into cells[(c*K + k)*M + m].
	M, K := len(e.models), len(e.categories)
	cells := make([]cell, nComplexities*K*M)
	for i := range obs {
		o := &obs[i]
		c := &cells[(int(idx[3*i])*K+int(idx[3*i+1]))*M+int(idx[3*i+2])]
		c.n++
		c.w += o.Weight
		c.w2 += o.Weight * o.Weight
		c.ws += o.Weight * o.Score
		c.wc += o.Weight * o.CostMicros
		c.set = true
	}

	// Complexity buckets pool their categories; the global row pools all.
	parent := make([]cell, nComplexities*M)
	global := make([]cell, M)
	for c := range nComplexities {
		for k := range K {
			for m := range M {
				parent[c*M+m].add(&cells[(c*K+k)*M+m])
			}
		}
		for m := range M {
			global[m].add(&parent[c*M+m])
		}
	}

	for m := range M {
		e.strongest = append(e.strongest, e.posterior(m, &global[m], opts.PriorAlpha, opts.PriorBeta))
	}
	slices.SortFunc(e.strongest, e.byStrength)

	for c := range nComplexities {
		for m := range M {
			pc := &parent[c*M+m]
			if !pc.set {
				continue
			}
			e.byComplexity[c] = append(e.byComplexity[c], e.posterior(m, pc, opts.PriorAlpha, opts.PriorBeta))
		}
		for k := 1; k < K; k++ {
			enough := false
			for m := range M {
				if cells[(c*K+k)*M+m].n >= opts.MinSamples {
					enough = true
				}
			}
			if !enough {
				continue
			}
			rb := refinedBucket{complexity: c, category: k}
			for _, ps := range e.byComplexity[c] {
				kc := &cells[(c*K+k)*M+ps.model]
				// Shrink toward the parent: its posterior mean is the
				// prior mean, worth PriorStrength samples.
				s := e.posterior(ps.model, kc, opts.PriorStrength*ps.mean, opts.PriorStrength*(1-ps.mean))
				if !kc.set {
					s.meanCost = ps.meanCost
				}
				rb.stats = append(rb.stats, s)
			}
			e.refined = append(e.refined, rb)
		}
	}
	return e, nil
}

// posterior is the Beta posterior of a cell under the prior (a, b).
func (e *Evidence) posterior(m int, c *cell, a, b float64) stat {
	n, s := c.effective()
	alpha, beta := a+s, b+(n-s)
	return stat{
		model:    m,
		samples:  c.n,
		mean:     alpha / (alpha + beta),
		lower:    betaQuantile(alpha, beta, 1-e.opts.Credibility),
		upper:    betaQuantile(alpha, beta, e.opts.Credibility),
		meanCost: c.meanCost(),
	}
}

// byStrength orders stats strongest first: higher mean success, then
// cheaper, then by name for determinism.
func (e *Evidence) byStrength(x, y stat) int {
	switch {
	case x.mean != y.mean:
		return cmpDesc(x.mean, y.mean)
	case x.meanCost != y.meanCost:
		return cmpAsc(x.meanCost, y.meanCost)
	}
	return cmpAsc(e.models[x.model], e.models[y.model])
}

func cmpAsc[T int | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpDesc[T int | float64 | string](a, b T) int { return cmpAsc(b, a) }

// Models lists the models seen, in order of first appearance.
func (e *Evidence) Models() []string { return slices.Clone(e.models) }

// Thresholds returns the distinct lower credible bounds of every fitted
// (bucket, model), ascending: the targets at which some bucket's choice
// can change, so a sweep over them visits every distinct table.
func (e *Evidence) Thresholds() []float64 {
	var out []float64
	for c := range nComplexities {
		for _, s := range e.byComplexity[c] {
			out = append(out, s.lower)
		}
	}
	for _, rb := range e.refined {
		for _, s := range rb.stats {
			out = append(out, s.lower)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
