package textmodel

import "math"

// psiFloor is the smallest share PSI gives a bin: an empty bin on one
// side would otherwise make the index infinite, and one prompt in ten
// thousand is below anything a bucket mix can show.
const psiFloor = 1e-4

// PSI is the population stability index of a distribution over bins
// (a day's bucket mix, say) against an expected one: the sum over bins
// of (a - e) * ln(a / e), where a and e are the bins' shares. Either
// argument may hold counts or shares: each is normalised to sum to one,
// and each share is then floored at 1e-4 (and the shares renormalised)
// so that an empty bin gives a large but finite index. The usual reading
// is below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major
// one. It returns NaN when the lengths differ, when there are no bins,
// or when either side has a negative, NaN or infinite entry or sums to
// zero.
func PSI(expected, actual []float64) float64 {
	if len(expected) != len(actual) || len(expected) == 0 {
		return math.NaN()
	}
	e, ok1 := psiShares(expected)
	a, ok2 := psiShares(actual)
	if !ok1 || !ok2 {
		return math.NaN()
	}
	var psi float64
	for i := range e {
		psi += (a[i] - e[i]) * math.Log(a[i]/e[i])
	}
	return psi
}

// psiShares normalises x to shares floored at psiFloor; false when x
// cannot be read as a distribution.
func psiShares(x []float64) ([]float64, bool) {
	var sum float64
	for _, v := range x {
		if !(v >= 0) || math.IsInf(v, 1) {
			return nil, false
		}
		sum += v
	}
	if sum == 0 {
		return nil, false
	}
	out := make([]float64, len(x))
	var total float64
	for i, v := range x {
		out[i] = max(v/sum, psiFloor)
		total += out[i]
	}
	for i := range out {
		out[i] /= total
	}
	return out, true
}
