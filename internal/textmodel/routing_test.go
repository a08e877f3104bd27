package textmodel

import (
	"math"
	"sort"
	"testing"
)

// Routing metrics for the shared-dataset report (report_test.go), kept in
// a test file: the eval harness owns the production versions.

// curve is the quality of routing the top k prompts by score to the
// strong model and the rest to the weak one, for k = 0..n, with the cost
// of each split.
type curve struct {
	quality []float64 // mean quality at k calls to strong
	cost    []float64 // total cost at k
}

// routeCurve sorts prompts by score, highest first (ties by index), and
// accumulates quality and cost as prompts move to the strong model.
func routeCurve(score, weak, strong, weakCost, strongCost []float64) curve {
	n := len(score)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] > score[idx[b]] })
	var q, c float64
	for i := range n {
		q += weak[i]
		c += weakCost[i]
	}
	cv := curve{quality: make([]float64, n+1), cost: make([]float64, n+1)}
	cv.quality[0], cv.cost[0] = q/float64(n), c
	for k, i := range idx {
		q += strong[i] - weak[i]
		c += strongCost[i] - weakCost[i]
		cv.quality[k+1], cv.cost[k+1] = q/float64(n), c
	}
	return cv
}

// pgr is the performance gap recovered at each k.
func (cv curve) pgr() []float64 {
	n := len(cv.quality) - 1
	qw, qs := cv.quality[0], cv.quality[n]
	out := make([]float64, n+1)
	for k, q := range cv.quality {
		out[k] = (q - qw) / (qs - qw)
	}
	return out
}

// apgr is RouteLLM's average performance gap recovered: the area under
// PGR against the share of calls to the strong model, by trapezoids.
func (cv curve) apgr() float64 {
	p := cv.pgr()
	n := len(p) - 1
	var area float64
	for k := 1; k <= n; k++ {
		area += (p[k] + p[k-1]) / 2
	}
	return area / float64(n)
}

// cpt is the smallest share of calls to the strong model at which PGR
// reaches x.
func (cv curve) cpt(x float64) float64 {
	p := cv.pgr()
	n := len(p) - 1
	for k, v := range p {
		if v >= x-1e-12 {
			return float64(k) / float64(n)
		}
	}
	return 1
}

// costAt is the cost, as a share of strong-only cost, and the share of
// strong calls at the first k where quality reaches frac of the strong
// model's.
func (cv curve) costAt(frac float64) (costShare, calls float64) {
	n := len(cv.quality) - 1
	want := frac * cv.quality[n]
	for k, q := range cv.quality {
		if q >= want-1e-12 {
			return cv.cost[k] / cv.cost[n], float64(k) / float64(n)
		}
	}
	return 1, 1
}

// point is one (cost, quality) operating point of a router.
type point struct{ cost, quality float64 }

// aiq is RouterBench's average improvement in quality: the area under
// the upper hull of the points (a router can mix two operating points
// at random, so the hull is reachable), held flat beyond its last point,
// over cost range [lo, hi], divided by hi - lo.
func aiq(pts []point, lo, hi float64) float64 {
	hull := upperHull(pts)
	if len(hull) == 0 || hi <= lo {
		return math.NaN()
	}
	at := func(c float64) float64 {
		if c <= hull[0].cost {
			if c < hull[0].cost {
				return 0 // unreachable below the cheapest point
			}
			return hull[0].quality
		}
		for i := 1; i < len(hull); i++ {
			if c <= hull[i].cost {
				a, b := hull[i-1], hull[i]
				return a.quality + (b.quality-a.quality)*(c-a.cost)/(b.cost-a.cost)
			}
		}
		return hull[len(hull)-1].quality
	}
	const steps = 2000
	var area float64
	for s := range steps {
		c := lo + (hi-lo)*(float64(s)+0.5)/steps
		area += at(c)
	}
	return area / steps
}

// upperHull returns the non-decreasing upper concave hull of pts, sorted
// by cost.
func upperHull(pts []point) []point {
	ps := append([]point(nil), pts...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].cost != ps[j].cost {
			return ps[i].cost < ps[j].cost
		}
		return ps[i].quality > ps[j].quality
	})
	var h []point
	for _, p := range ps {
		if len(h) > 0 && p.quality <= h[len(h)-1].quality {
			continue // dominated: costs more, no better
		}
		for len(h) >= 2 {
			a, b := h[len(h)-2], h[len(h)-1]
			// Drop b if it lies on or below the segment a-p.
			if (b.quality-a.quality)*(p.cost-a.cost) <= (p.quality-a.quality)*(b.cost-a.cost) {
				h = h[:len(h)-1]
				continue
			}
			break
		}
		h = append(h, p)
	}
	return h
}

func TestRoutingMetrics(t *testing.T) {
	// Four prompts; the strong model fixes prompts 0 and 1 only.
	weak := []float64{0, 0, 1, 1}
	strong := []float64{1, 1, 1, 1}
	unit := []float64{1, 1, 1, 1}
	ten := []float64{10, 10, 10, 10}

	perfect := routeCurve([]float64{4, 3, 2, 1}, weak, strong, unit, ten)
	// PGR at k=0..4: 0, .5, 1, 1, 1; trapezoids: .25+.75+1+1 = 3, /4.
	if got, want := perfect.apgr(), 0.75; math.Abs(got-want) > 1e-12 {
		t.Errorf("perfect apgr = %g, want %g", got, want)
	}
	if got, want := perfect.cpt(0.5), 0.25; got != want {
		t.Errorf("cpt(50%%) = %g, want %g", got, want)
	}
	share, calls := perfect.costAt(1)
	if wantShare := (10 + 10 + 1 + 1) / 40.0; math.Abs(share-wantShare) > 1e-12 || calls != 0.5 {
		t.Errorf("costAt(1) = %g, %g; want %g, 0.5", share, calls, wantShare)
	}
	worst := routeCurve([]float64{1, 2, 3, 4}, weak, strong, unit, ten)
	// PGR: 0, 0, 0, .5, 1 -> 0+0+.25+.75 = 1, /4.
	if got, want := worst.apgr(), 0.25; math.Abs(got-want) > 1e-12 {
		t.Errorf("worst apgr = %g, want %g", got, want)
	}

	// AIQ: a single point at cost 1 with quality .5 over [1, 3] is flat.
	if got := aiq([]point{{1, 0.5}}, 1, 3); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("aiq flat = %g, want 0.5", got)
	}
	// Two points (1, 0) and (3, 1): the hull is the segment, mean 0.5;
	// a dominated point (2, 0.2) below it changes nothing.
	if got := aiq([]point{{1, 0}, {3, 1}, {2, 0.2}}, 1, 3); math.Abs(got-0.5) > 1e-3 {
		t.Errorf("aiq segment = %g, want 0.5", got)
	}
}
