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
