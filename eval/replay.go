package eval

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// replayer scores policies on a fixed set of prompts. Tables are resolved
// to model columns per bucket once, and a table's score is summed per
// bucket: a table sends a whole bucket to its first model, so where every
// prompt of the bucket has that model's outcome the bucket's total is
// precomputed, and only buckets with gaps are replayed prompt by prompt.
// Sweeping the curve's targets then costs buckets, not prompts.
type replayer struct {
	mx    *Matrix
	rows  []int32
	rank  []int // model columns, strongest first: the fallback order
	calls []int // scratch, one per model

	byBucket [][]int32 // rows of each bucket
	complete []bool    // every row of the bucket has every model's outcome
	sumQ     []float64 // [bucket*M + model]: total quality over its rows
	sumC     []float64 // likewise, total cost
}

func newReplayer(mx *Matrix, rows []int32, rank []int) *replayer {
	M, B := len(mx.Models), len(mx.Buckets)
	r := &replayer{
		mx: mx, rows: rows, rank: rank, calls: make([]int, M),
		byBucket: make([][]int32, B),
		complete: make([]bool, B),
		sumQ:     make([]float64, B*M),
		sumC:     make([]float64, B*M),
	}
	for b := range r.complete {
		r.complete[b] = true
	}
	for _, i := range rows {
		b := int(mx.Bucket[i])
		r.byBucket[b] = append(r.byBucket[b], i)
		for m := range M {
			q := mx.Quality[int(i)*M+m]
			if math.IsNaN(q) {
				r.complete[b] = false
				continue
			}
			r.sumQ[b*M+m] += q
			r.sumC[b*M+m] += mx.Cost[int(i)*M+m]
		}
	}
	return r
}

// resolve maps every bucket of the matrix to the table's candidates as
// model columns, in order. Models the dataset lacks are dropped; a bucket
// left with none falls back to the strongest.
func (r *replayer) resolve(t router.Table) [][]int32 {
	out := make([][]int32, len(r.mx.Buckets))
	for b, a := range r.mx.Buckets {
		for _, name := range t.Candidates(a) {
			if m := r.mx.modelIndex(name); m >= 0 {
				out[b] = append(out[b], int32(m))
			}
		}
		if len(out[b]) == 0 {
			out[b] = []int32{int32(r.rank[0])}
		}
	}
	return out
}

// tally accumulates one policy's choices.
type tally struct {
	quality, cost float64
	fallbacks     int
}

// pick scores model m on prompt row i, falling back by strength when the
// dataset has no outcome for it.
func (r *replayer) pick(t *tally, i int32, cands []int32) {
	M := len(r.mx.Models)
	base := int(i) * M
	for _, m := range cands {
		if q := r.mx.Quality[base+int(m)]; q == q { // not NaN
			t.quality += q
			t.cost += r.mx.Cost[base+int(m)]
			r.calls[m]++
			return
		}
	}
	t.fallbacks++
	for _, m := range r.rank {
		if q := r.mx.Quality[base+m]; q == q {
			t.quality += q
			t.cost += r.mx.Cost[base+m]
			r.calls[m]++
			return
		}
	}
}

func (r *replayer) reset() {
	clear(r.calls)
}

// result turns a tally into a PolicyResult.
func (r *replayer) result(name string, t tally) PolicyResult {
	n := len(r.rows)
	pr := PolicyResult{
		Name:         name,
		N:            n,
		Quality:      t.quality / float64(n),
		CostUSD:      t.cost,
		CostPer1k:    t.cost / float64(n) * 1000,
		CallsByModel: map[string]int{},
		Fallbacks:    t.fallbacks,
	}
	for m, c := range r.calls {
		if c > 0 {
			pr.CallsByModel[r.mx.Models[m]] = c
		}
	}
	return pr
}

// table replays a resolved routing table.
func (r *replayer) table(name string, res [][]int32) PolicyResult {
	r.reset()
	M := len(r.mx.Models)
	var t tally
	for b, rows := range r.byBucket {
		if len(rows) == 0 {
			continue
		}
		if r.complete[b] {
			m := int(res[b][0])
			t.quality += r.sumQ[b*M+m]
			t.cost += r.sumC[b*M+m]
			r.calls[m] += len(rows)
			continue
		}
		for _, i := range rows {
			r.pick(&t, i, res[b])
		}
	}
	return r.result(name, t)
}

// random sends each prompt to strong with probability p, else to weak.
func (r *replayer) random(name string, strong, weak int, p float64, seed uint64) PolicyResult {
	r.reset()
	rng := rand.New(rand.NewPCG(seed, 0x72616e646f6d)) // "random"
	s, w := []int32{int32(strong)}, []int32{int32(weak)}
	var t tally
	for _, i := range r.rows {
		if rng.Float64() < p {
			r.pick(&t, i, s)
		} else {
			r.pick(&t, i, w)
		}
	}
	return r.result(name, t)
}

// oracle sends each prompt to the cheapest model with the best score on
// it: for right/wrong data, the cheapest correct model, or the cheapest
// of all when none is correct.
func (r *replayer) oracle(name string) PolicyResult {
	r.reset()
	M := len(r.mx.Models)
	var t tally
	for _, i := range r.rows {
		base := int(i) * M
		best := -1
		for m := range M {
			q := r.mx.Quality[base+m]
			if math.IsNaN(q) {
				continue
			}
			if best < 0 || q > r.mx.Quality[base+best] ||
				q == r.mx.Quality[base+best] && r.mx.Cost[base+m] < r.mx.Cost[base+best] {
				best = m
			}
		}
		if best >= 0 {
			t.quality += r.mx.Quality[base+best]
			t.cost += r.mx.Cost[base+best]
			r.calls[best]++
		}
	}
	return r.result(name, t)
}

// curve sweeps the learned table's quality target over the fitted
// thresholds and an even grid, and replays each distinct table once.
func (r *replayer) curve(ev *learner.Evidence, strong int) []CurvePoint {
	targets := ev.Thresholds()
	for k := 0; k <= curveGrid; k++ {
		targets = append(targets, float64(k)/curveGrid)
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	var (
		out  []CurvePoint
		prev [][]int32
	)
	for _, target := range targets {
		if target < 0 || target > 1 {
			continue
		}
		tbl, _ := ev.Table(target)
		res := r.resolve(tbl)
		if prev != nil && sameResolution(prev, res) {
			continue
		}
		prev = res
		pr := r.table("", res)
		pt := CurvePoint{
			Target:      target,
			Quality:     pr.Quality,
			CostUSD:     pr.CostUSD,
			CostPer1k:   pr.CostPer1k,
			StrongShare: float64(r.calls[strong]) / float64(len(r.rows)),
		}
		// Tables that differ only in escalation order replay alike.
		if n := len(out); n > 0 && out[n-1].Quality == pt.Quality && out[n-1].CostUSD == pt.CostUSD && out[n-1].StrongShare == pt.StrongShare {
			continue
		}
		out = append(out, pt)
	}
	return out
}

func sameResolution(a, b [][]int32) bool {
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
