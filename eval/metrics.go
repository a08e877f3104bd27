package eval

import (
	"slices"
)

// Point is one (x, y) of a cost-quality or calls-quality curve.
type Point struct{ X, Y float64 }

// APGR is RouteLLM's average performance gap recovered: the area under
// the piecewise-linear curve of quality against x in [0, 1] (x being the
// share of calls to the strong model, or normalised cost), with the
// all-weak (0, weak) and all-strong (1, strong) ends added, minus the
// weak model's area, over the gap between the two. Random routing scores
// 0.5. Points outside [0, 1] are ignored; ok is false when strong <= weak.
func APGR(points []Point, weak, strong float64) (apgr float64, ok bool) {
	if !(strong > weak) {
		return 0, false
	}
	pts := gapCurve(points, weak, strong)
	area := 0.0
	for k := 1; k < len(pts); k++ {
		area += (pts[k].X - pts[k-1].X) * (pts[k].Y + pts[k-1].Y) / 2
	}
	return (area - weak) / (strong - weak), true
}

// CPT is RouteLLM's call-performance threshold: the least x at which the
// curve (as in APGR) reaches weak + share x (strong - weak), interpolating
// linearly; ok is false when it never does or strong <= weak.
func CPT(points []Point, weak, strong, share float64) (x float64, ok bool) {
	if !(strong > weak) {
		return 0, false
	}
	want := weak + share*(strong-weak)
	pts := gapCurve(points, weak, strong)
	if pts[0].Y >= want {
		return pts[0].X, true
	}
	for k := 1; k < len(pts); k++ {
		a, b := pts[k-1], pts[k]
		if b.Y >= want && a.Y < want {
			return a.X + (b.X-a.X)*(want-a.Y)/(b.Y-a.Y), true
		}
	}
	return 0, false
}

// gapCurve adds the ends, drops points outside [0, 1] and sorts by x.
func gapCurve(points []Point, weak, strong float64) []Point {
	pts := []Point{{0, weak}, {1, strong}}
	for _, p := range points {
		if p.X >= 0 && p.X <= 1 {
			pts = append(pts, p)
		}
	}
	slices.SortStableFunc(pts, func(a, b Point) int {
		switch {
		case a.X < b.X:
			return -1
		case a.X > b.X:
			return 1
		}
		return 0
	})
	return pts
}

// AIQ is RouterBench's average improvement in quality: the area under the
// non-decreasing upper convex hull of a router's (cost, quality) points
// over [cmin, cmax], divided by cmax - cmin. As in RouterBench's
// calc_AIQ, the hull counts zero below its cheapest point and stays at its
// best quality beyond its dearest. ok is false when cmax <= cmin or there
// are no points.
func AIQ(points []Point, cmin, cmax float64) (aiq float64, ok bool) {
	if !(cmax > cmin) || len(points) == 0 {
		return 0, false
	}
	hull := NondecreasingHull(points)
	area := 0.0
	for k := 1; k < len(hull); k++ {
		area += segmentArea(hull[k-1], hull[k], cmin, cmax)
	}
	last := hull[len(hull)-1]
	if last.X < cmax {
		area += (cmax - max(last.X, cmin)) * last.Y
	}
	return area / (cmax - cmin), true
}

// segmentArea is the area under the segment a-b clipped to [lo, hi].
func segmentArea(a, b Point, lo, hi float64) float64 {
	x0, x1 := max(a.X, lo), min(b.X, hi)
	if x1 <= x0 || b.X == a.X {
		return 0
	}
	at := func(x float64) float64 { return a.Y + (b.Y-a.Y)*(x-a.X)/(b.X-a.X) }
	return (x1 - x0) * (at(x0) + at(x1)) / 2
}

// NondecreasingHull returns the upper convex hull of points (what mixing
// neighbouring router settings at random can achieve), cut where it stops
// rising: spending more never has to lower quality.
func NondecreasingHull(points []Point) []Point {
	pts := slices.Clone(points)
	slices.SortFunc(pts, func(a, b Point) int {
		switch {
		case a.X != b.X:
			if a.X < b.X {
				return -1
			}
			return 1
		case a.Y > b.Y:
			return -1
		case a.Y < b.Y:
			return 1
		}
		return 0
	})
	var hull []Point
	for _, p := range pts {
		if len(hull) > 0 && hull[len(hull)-1].X == p.X {
			continue // same cost, lower quality
		}
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) >= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	// Keep the rising part: up to the best quality.
	best := 0
	for k := range hull {
		if hull[k].Y > hull[best].Y {
			best = k
		}
	}
	return hull[:best+1]
}

// cross is the z of (b-a) x (c-a): positive when a-b-c turns left, which
// puts b under the line a-c, off the upper hull.
func cross(a, b, c Point) float64 {
	return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X)
}

// summarise fills the result's APGR, CPT and AIQ from the curve.
func summarise(res *Result, always []PolicyResult, S, W PolicyResult) {
	m := curveMetrics(res.Curve, res.APGRAxis, always, S, W)
	res.APGR, res.CPT50, res.CPT80, res.AIQ = m.apgr, m.cpt50, m.cpt80, m.aiq
	cmin, cmax := costRange(always)
	if v, ok := AIQ([]Point{{W.CostUSD, W.Quality}, {S.CostUSD, S.Quality}}, cmin, cmax); ok {
		res.RandomAIQ = &v
	}
}

// metricSet is the summary of one curve.
type metricSet struct{ apgr, cpt50, cpt80, aiq *float64 }

// curveMetrics computes APGR and CPT on axis and AIQ over the single
// models' cost range for a curve.
func curveMetrics(curve []CurvePoint, axis string, always []PolicyResult, S, W PolicyResult) metricSet {
	var out metricSet
	// On the cost axis the strongest model must cost more than the weak
	// one, or there is no gap to recover.
	if axis != "cost" || S.CostUSD > W.CostUSD {
		var gap []Point
		for _, c := range curve {
			x := c.StrongShare
			if axis == "cost" {
				x = (c.CostUSD - W.CostUSD) / (S.CostUSD - W.CostUSD)
			}
			gap = append(gap, Point{x, c.Quality})
		}
		if v, ok := APGR(gap, W.Quality, S.Quality); ok {
			out.apgr = &v
		}
		if v, ok := CPT(gap, W.Quality, S.Quality, 0.5); ok {
			out.cpt50 = &v
		}
		if v, ok := CPT(gap, W.Quality, S.Quality, 0.8); ok {
			out.cpt80 = &v
		}
	}
	cmin, cmax := costRange(always)
	var cq []Point
	for _, c := range curve {
		cq = append(cq, Point{c.CostUSD, c.Quality})
	}
	if v, ok := AIQ(cq, cmin, cmax); ok {
		out.aiq = &v
	}
	return out
}

// costRange is the least and the greatest cost of the single models.
func costRange(always []PolicyResult) (cmin, cmax float64) {
	cmin, cmax = always[0].CostUSD, always[0].CostUSD
	for _, a := range always {
		cmin, cmax = min(cmin, a.CostUSD), max(cmax, a.CostUSD)
	}
	return cmin, cmax
}

// CostAtQuality is the least cost at which the non-decreasing upper hull
// of points (what mixing neighbouring settings at random achieves)
// reaches quality, interpolating linearly; ok is false when it never
// does.
func CostAtQuality(points []Point, quality float64) (cost float64, ok bool) {
	hull := NondecreasingHull(points)
	for k, p := range hull {
		if p.Y < quality {
			continue
		}
		if k == 0 {
			return p.X, true
		}
		a := hull[k-1]
		return a.X + (p.X-a.X)*(quality-a.Y)/(p.Y-a.Y), true
	}
	return 0, false
}
