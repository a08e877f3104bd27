package textmodel

import "github.com/switchyard/switchyard/router"

// Decision is what the bucket rule makes of one prompt's predictions.
type Decision struct {
	Complexity router.Complexity
	// Pick is the index (in the cheapest-to-strongest order) of the
	// cheapest model predicted to succeed with the target confidence, or,
	// when none is, of the model most likely to succeed.
	Pick int
	// Sure reports whether Pick reached the target.
	Sure bool
	// Confidence is the calibrated probability that the picked model
	// answers well; the cascade compares it with its threshold.
	Confidence float64
}

// Bucket applies the bucket rule to p, the calibrated success
// probabilities of the candidate models ordered cheapest to strongest,
// with confidence target in (0, 1]. Let k be the first (cheapest) index
// with p[k] >= target:
//
//	k = 0               simple:   the cheapest tier suffices
//	k = len(p)-1 > 0    complex:  only the strongest suffices
//	0 < k < len(p)-1    moderate: a middle tier suffices
//	no such k           moderate: no tier is predicted to succeed with
//	                    confidence, so the prompt is neither clearly
//	                    cheap nor clearly worth the strongest model
//
// With two models the middle case cannot occur, so moderate means "no
// model is confidently right", and with one model every prompt the model
// is confident on is simple. Confidence is p[Pick], where Pick is k, or
// the most probable model when there is no k (ties: the cheaper), so it
// stays below target exactly when no tier is confident: a cascade with a
// threshold at or below target then asks its LLM about those prompts.
// An empty p gives moderate with confidence 0.
func Bucket(p []float64, target float64) Decision {
	if len(p) == 0 {
		return Decision{Complexity: router.Moderate, Pick: -1}
	}
	for k, pk := range p {
		if pk < target {
			continue
		}
		d := Decision{Complexity: router.Moderate, Pick: k, Sure: true, Confidence: pk}
		switch {
		case k == 0:
			d.Complexity = router.Simple
		case k == len(p)-1:
			d.Complexity = router.Complex
		}
		return d
	}
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return Decision{Complexity: router.Moderate, Pick: best, Confidence: p[best]}
}
