package textmodel

import (
	"fmt"
	"math"
)

// ImportanceWeight is the weight of an outcome logged with probability
// propensity: 1/propensity, clipped at limit. The clip trades a little
// bias for much less variance where exploration was rare; an unknown
// propensity (zero or NaN) counts as the policy's sure choice, 1.
func ImportanceWeight(propensity, limit float64) float64 {
	if !(propensity > 0) {
		return 1
	}
	return min(1/propensity, limit)
}

// weightsOf returns the importance weights matrix beside labelsOf's,
// weights[i*len(heads)+h], or nil when no example carries a weight (the
// unweighted fit, bit for bit as before). Weights are rescaled per head
// to mean 1 over its labelled examples, so that AdaGrad's step and the
// L2 term mean what they mean without weights.
func weightsOf(examples []Example, heads []Head) ([]float32, error) {
	weighted := false
	for _, ex := range examples {
		if len(ex.Weights) > 0 {
			weighted = true
			break
		}
	}
	if !weighted {
		return nil, nil
	}
	n := len(heads)
	w := make([]float32, len(examples)*n)
	sum := make([]float64, n)
	cnt := make([]float64, n)
	for i, ex := range examples {
		for h := range heads {
			x := 1.0
			if heads[h].Kind == KindModel {
				if v, ok := ex.Weights[heads[h].Name]; ok && v != 0 {
					if !(v > 0) || math.IsInf(v, 1) {
						return nil, fmt.Errorf("example %d: model %q: weight %g: want a positive finite number", i, heads[h].Name, v)
					}
					x = v
				}
				if _, ok := ex.Scores[heads[h].Name]; ok {
					sum[h] += x
					cnt[h]++
				}
			}
			w[i*n+h] = float32(x)
		}
	}
	for h := range heads {
		if sum[h] == 0 {
			continue
		}
		scale := cnt[h] / sum[h]
		for i := range examples {
			w[i*n+h] *= float32(scale)
		}
	}
	return w, nil
}

// fitPlattWeighted is fitPlatt with example weights: Platt's smoothed
// targets from the weighted class totals, and Newton's method on the
// weighted log loss of sigmoid(a*z+b).
func fitPlattWeighted(z, y, w []float64) (a, b float64) {
	var pos, neg float64
	for i, v := range y {
		pos += w[i] * v
		neg += w[i] * (1 - v)
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
			if s >= 0 {
				f += w[i] * ((1-t[i])*s + math.Log1p(math.Exp(-s)))
			} else {
				f += w[i] * (-t[i]*s + math.Log1p(math.Exp(s)))
			}
		}
		return f
	}
	a, b = 1, math.Log((pos+1)/(neg+1))
	f := loss(a, b)
	const sigma = 1e-12
	for range 100 {
		var g1, g2, h11, h22, h21 float64
		for i := range z {
			p := sigmoid(a*z[i] + b)
			d := w[i] * (p - t[i])
			v := w[i] * p * (1 - p)
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
		// Backtracking line search on the loss.
		step := 1.0
		for step >= 1e-10 {
			na, nb := a+step*da, b+step*db
			if nf := loss(na, nb); nf < f+1e-4*step*(g1*da+g2*db) {
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
