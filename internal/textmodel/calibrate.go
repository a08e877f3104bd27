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
func fitPlatt(z, y []float64) (a, b float64) {
	var pos float64
	for _, v := range y {
		pos += v
	}
	neg := float64(len(y)) - pos
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
				f += (1-t[i])*s + math.Log1p(math.Exp(-s))
			} else {
				f += -t[i]*s + math.Log1p(math.Exp(s))
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
			d := p - t[i]
			w := p * (1 - p)
			g1 += z[i] * d
			g2 += d
			h11 += z[i] * z[i] * w
			h22 += w
			h21 += z[i] * w
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
