package router

import "math"

// wilsonZ is the normal quantile of a two-sided 95% interval.
const wilsonZ = 1.959963984540054

// SuccessInterval is the 95% Wilson score interval of a success rate
// observed on n samples: what an operator needs to see beside the rate,
// because 1.000 on one sample means nothing. Wilson rather than
// rate ± z·se so the bounds stay in [0, 1] and are not zero-width at
// rate 0 or 1. With n < 1 it is the whole [0, 1].
func SuccessInterval(rate float64, n int) (lo, hi float64) {
	if n < 1 {
		return 0, 1
	}
	p := math.Min(1, math.Max(0, rate))
	nf := float64(n)
	z2 := wilsonZ * wilsonZ
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := wilsonZ / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}
