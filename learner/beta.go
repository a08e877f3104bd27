package learner

import "gonum.org/v1/gonum/stat/distuv"

// betaQuantile is the p quantile of a Beta(alpha, beta) posterior: with
// p = 1-credibility the one-sided lower credible bound, with p =
// credibility the upper one.
func betaQuantile(alpha, beta, p float64) float64 {
	return distuv.Beta{Alpha: alpha, Beta: beta}.Quantile(p)
}
