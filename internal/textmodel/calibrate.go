package textmodel

import (
	"math"
	"sort"
)

// fitPlatt fits p = sigmoid(a*z + b) to labels y in [0, 1] by Newton's
// method on the cross-entropy (Platt 1999, with the Lin-Lin-Weng 2007
// safeguards). Labels are shrunk towards the middle as Platt proposes
// (positives to (N+ + 1)/(N+ + 2), negatives to 1/(N- + 2)) so that a
// separable held-out slice does not yield infinite slopes.
func fitPlatt(z, y []float64) (a, b float64) { return fitPlattWeighted(z, y, nil) }

// fitPlattWeighted is fitPlatt with example weights w (nil: every weight
// 1): Platt's smoothed targets from the weighted class totals, and
// Newton's method on the weighted log loss.
func fitPlattWeighted(z, y, w []float64) (a, b float64) {
	weight := func(i int) float64 {
		if w == nil {
			return 1
		}
		return w[i]
	}
	var pos, neg float64
	for i, v := range y {
		pos += weight(i) * v
	}
	if w == nil {
		neg = float64(len(y)) - pos
	} else {
		for i, v := range y {
			neg += w[i] * (1 - v)
		}
	}
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	t := make([]float64, len(y))
	for i, v := range y {
		t[i] = lo + v*(hi-lo)
	}

	loss := func(a, b float64) float64 {
		var f float64
		for i := range z {
			s := a*z[i] + b
			// log(1+e^s) - t*s, computed stably.
			if s >= 0 {
				f += weight(i) * ((1-t[i])*s + math.Log1p(math.Exp(-s)))
			} else {
				f += weight(i) * (-t[i]*s + math.Log1p(math.Exp(s)))
			}
		}
		return f
	}
	a, b = 1, math.Log((pos+1)/(neg+1))
	f := loss(a, b)
	const sigma = 1e-12 // keeps the Hessian positive definite
	for range 100 {
		var g1, g2, h11, h22, h21 float64
		for i := range z {
			p := sigmoid(a*z[i] + b)
			d := weight(i) * (p - t[i])
			v := weight(i) * p * (1 - p)
			g1 += z[i] * d
			g2 += d
			h11 += z[i] * z[i] * v
			h22 += v
			h21 += z[i] * v
		}
		if math.Abs(g1) < 1e-6 && math.Abs(g2) < 1e-6 {
			break
		}
		h11 += sigma
		h22 += sigma
		det := h11*h22 - h21*h21
		da := -(h22*g1 - h21*g2) / det
		db := -(-h21*g1 + h11*g2) / det
		gd := g1*da + g2*db
		// Backtracking line search on the loss.
		step := 1.0
		for step >= 1e-10 {
			na, nb := a+step*da, b+step*db
			if nf := loss(na, nb); nf < f+1e-4*step*gd {
				a, b, f = na, nb, nf
				break
			}
			step /= 2
		}
		if step < 1e-10 {
			break
		}
	}
	return a, b
}

// Bin is one bin of a reliability curve.
type Bin struct {
	Lo, Hi    float64 // predicted probability range [Lo, Hi)
	Count     int
	Predicted float64 // mean predicted probability
	Observed  float64 // mean outcome
}

// Reliability bins predictions p against outcomes y (in [0, 1]) into n
// equal-width bins; empty bins are kept with Count 0.
func Reliability(p, y []float64, n int) []Bin {
	bins := make([]Bin, n)
	for k := range bins {
		bins[k].Lo, bins[k].Hi = float64(k)/float64(n), float64(k+1)/float64(n)
	}
	for i := range p {
		k := min(int(p[i]*float64(n)), n-1)
		k = max(k, 0)
		bins[k].Count++
		bins[k].Predicted += p[i]
		bins[k].Observed += y[i]
	}
	for k := range bins {
		if c := float64(bins[k].Count); c > 0 {
			bins[k].Predicted /= c
			bins[k].Observed /= c
		}
	}
	return bins
}

// ECE is the expected calibration error of a reliability curve: the
// count-weighted mean gap between predicted and observed.
func ECE(bins []Bin) float64 {
	var total, gap float64
	for _, b := range bins {
		total += float64(b.Count)
		gap += float64(b.Count) * math.Abs(b.Predicted-b.Observed)
	}
	if total == 0 {
		return 0
	}
	return gap / total
}

// AUC is the area under the ROC curve of scores against binary labels
// (label >= 0.5 is positive), ties counted half; 0.5 when a class is
// missing.
func AUC(scores, labels []float64) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Rank-sum (Mann-Whitney) with average ranks for ties.
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if labels[idx[k]] >= 0.5 {
				rankSum += avg
				pos++
			}
		}
		i = j
	}
	neg := float64(len(scores)) - pos
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// fitLogistic fits p = sigmoid(c·x + c0) to labels y in [0, 1] by
// Newton's method with a backtracking line search, for a few features
// per row (the stacked calibration of a model head over its raw score
// and topic prior). Labels are shrunk towards the middle as in fitPlatt,
// and a small ridge keeps the step finite when features are collinear.
// It returns the len(x[0]) coefficients followed by the intercept.
func fitLogistic(x [][]float64, y []float64) []float64 {
	d := len(x[0]) + 1
	var pos float64
	for _, v := range y {
		pos += v
	}
	neg := float64(len(y)) - pos
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	row := func(i int, k int) float64 {
		if k == d-1 {
			return 1
		}
		return x[i][k]
	}
	const ridge = 1e-6
	loss := func(c []float64) float64 {
		var f float64
		for i := range x {
			s := 0.0
			for k := range d {
				s += c[k] * row(i, k)
			}
			t := lo + y[i]*(hi-lo)
			if s >= 0 {
				f += (1-t)*s + math.Log1p(math.Exp(-s))
			} else {
				f += -t*s + math.Log1p(math.Exp(s))
			}
		}
		for k := range d - 1 {
			f += ridge * c[k] * c[k] / 2
		}
		return f
	}
	c := make([]float64, d)
	c[d-1] = math.Log((pos + 1) / (neg + 1))
	f := loss(c)
	g := make([]float64, d)
	h := make([][]float64, d)
	for k := range h {
		h[k] = make([]float64, d)
	}
	next := make([]float64, d)
	for range 100 {
		for k := range d {
			g[k] = 0
			clear(h[k])
		}
		for i := range x {
			s := 0.0
			for k := range d {
				s += c[k] * row(i, k)
			}
			p := sigmoid(s)
			r := p - (lo + y[i]*(hi-lo))
			w := p * (1 - p)
			for k := range d {
				g[k] += r * row(i, k)
				for j := range d {
					h[k][j] += w * row(i, k) * row(i, j)
				}
			}
		}
		small := true
		for k := range d {
			if k < d-1 {
				g[k] += ridge * c[k]
				h[k][k] += ridge
			}
			h[k][k] += 1e-12
			small = small && math.Abs(g[k]) < 1e-6
		}
		if small {
			break
		}
		step := solve(h, g)
		if step == nil {
			break
		}
		var gd float64
		for k := range d {
			gd -= g[k] * step[k]
		}
		t := 1.0
		for t >= 1e-10 {
			for k := range d {
				next[k] = c[k] - t*step[k]
			}
			if nf := loss(next); nf < f+1e-4*t*gd {
				copy(c, next)
				f = nf
				break
			}
			t /= 2
		}
		if t < 1e-10 {
			break
		}
	}
	return c
}

// solve returns the solution of a·x = b for a small symmetric positive
// definite a by Gaussian elimination with partial pivoting, or nil when
// a is singular. It does not modify a or b.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range m {
		m[i] = append(append(make([]float64, 0, n+1), a[i]...), b[i])
	}
	for col := range n {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(m[r][col]) > math.Abs(m[p][col]) {
				p = r
			}
		}
		if math.Abs(m[p][col]) < 1e-300 {
			return nil
		}
		m[col], m[p] = m[p], m[col]
		for r := col + 1; r < n; r++ {
			f := m[r][col] / m[col][col]
			for k := col; k <= n; k++ {
				m[r][k] -= f * m[col][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x
}

// fitIsotonic fits a non-decreasing map from predictions p to outcomes y
// by pool-adjacent-violators and returns one knot per pooled block: the
// block's mean prediction and mean outcome, the latter kept within
// [minIsoY, 1-minIsoY] so that no prediction becomes a certainty.
func fitIsotonic(p, y []float64) []Knot {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	type block struct{ sx, sy, n float64 }
	var bs []block
	for _, i := range idx {
		bs = append(bs, block{p[i], y[i], 1})
		for len(bs) >= 2 {
			a, b := bs[len(bs)-2], bs[len(bs)-1]
			if a.sy/a.n < b.sy/b.n {
				break
			}
			bs = append(bs[:len(bs)-2], block{a.sx + b.sx, a.sy + b.sy, a.n + b.n})
		}
	}
	knots := make([]Knot, len(bs))
	for k, b := range bs {
		knots[k] = Knot{X: b.sx / b.n, Y: min(max(b.sy/b.n, minIsoY), 1-minIsoY)}
	}
	return knots
}

// minIsoY bounds isotonic outputs away from 0 and 1.
const minIsoY = 1e-3

// isotonic applies knots to p: linear between knots, flat beyond the
// ends; p itself when there are no knots.
func isotonic(knots []Knot, p float64) float64 {
	if len(knots) == 0 {
		return p
	}
	k := sort.Search(len(knots), func(i int) bool { return knots[i].X >= p })
	switch {
	case k == 0:
		return knots[0].Y
	case k == len(knots):
		return knots[len(knots)-1].Y
	}
	a, b := knots[k-1], knots[k]
	if b.X == a.X {
		return b.Y
	}
	return a.Y + (b.Y-a.Y)*(p-a.X)/(b.X-a.X)
}
