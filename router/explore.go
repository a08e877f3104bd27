package router

import (
	"math"
)

// Exploration spends the budget Options.Explore (the average share of
// requests whose first model is not the one routing chose) where the
// decision is uncertain, so the learner gets evidence where it is
// missing rather than everywhere alike:
//
//   - With a per-prompt policy, a prompt's exploration probability grows
//     as another candidate's predicted success nears the rule's
//     threshold (the prompt is near the decision boundary), scaled by
//     the running mean of that uncertainty so that the average stays at
//     the budget; every prompt keeps a floor of exploreFloor of the
//     budget so that no model's evidence dries up. The explored model is
//     drawn in proportion to its closeness to the threshold, mixed with
//     exploreUniform of uniform.
//   - With the bucket table, the probability is the budget and the
//     explored model is drawn by its chance, under the outcomes the
//     service has recorded so far (Service.SetOutcomes, WatchOutcomes),
//     of being a cheaper acceptable choice (frontierWeights): models
//     clearly worse than a cheaper one get only the uniform share. Before
//     any outcome is read, by 1/sqrt(1 + n), n the model's samples in the
//     bucket by the version's provenance: the least known first (uniform
//     when the version has no evidence, as the seed table has none).
//
// The propensity recorded is exact for the draw made: 1 - e for the
// routed choice, e * w_k / sum(w) for an explored model k.
const (
	// exploreBandwidth is the distance in predicted success from the
	// threshold at which a candidate's uncertainty weight falls to 1/e.
	exploreBandwidth = 0.05
	// exploreFloor is the share of the budget every prompt gets.
	exploreFloor = 0.2
	// exploreCap bounds one prompt's exploration probability, so the
	// routed choice keeps at least half the traffic.
	exploreCap = 0.5
	// exploreUniform is the share of a prompt's exploration spread
	// uniformly over its alternatives, bounding their propensities below.
	exploreUniform = 0.1
	// uncertaintyDecay is the weight of history in the running mean.
	uncertaintyDecay = 0.99
)

// exploreWeights is, for candidates[1:], each one's weight as an
// exploration target, and the prompt's uncertainty in [0, 1] (negative:
// none measured, explore at the budget).
type exploreWeights struct {
	w []float64
	u float64
}

// policyUncertainty weighs each alternative to the policy's first choice
// by how close its predicted success is to the rule's threshold.
func policyUncertainty(p *Picker, pred []float64, candidates []string) exploreWeights {
	thr := p.point.Param
	if p.point.Rule == RuleGap {
		best := math.Inf(-1)
		for _, pk := range pred {
			if !math.IsNaN(pk) {
				best = max(best, pk)
			}
		}
		thr = best - p.point.Param
	}
	out := exploreWeights{w: make([]float64, 0, max(0, len(candidates)-1))}
	for _, c := range candidates[min(1, len(candidates)):] {
		wk := 0.0
		for k, m := range p.models {
			if m == c && !math.IsNaN(pred[k]) {
				wk = math.Exp(-math.Abs(pred[k]-thr) / exploreBandwidth)
			}
		}
		out.w = append(out.w, wk)
		out.u = max(out.u, wk)
	}
	mixUniform(out.w)
	return out
}

// mixUniform normalises w to shares (even when all are zero) mixed with
// exploreUniform of uniform, so that no alternative's propensity is so
// small that one draw of it swamps an inverse-propensity estimate.
func mixUniform(w []float64) {
	sum := 0.0
	for _, wk := range w {
		sum += wk
	}
	for k := range w {
		share := 1 / float64(len(w))
		if sum > 0 {
			share = w[k] / sum
		}
		w[k] = exploreUniform/float64(len(w)) + (1-exploreUniform)*share
	}
}

// tableEvidence weighs each alternative in a's bucket by how little the
// version's provenance knows of it there.
func tableEvidence(v *Version, a Analysis, candidates []string) exploreWeights {
	stats := v.Provenance.Stats[v.Table.Bucket(a)]
	out := exploreWeights{w: make([]float64, 0, max(0, len(candidates)-1)), u: -1}
	for _, c := range candidates[min(1, len(candidates)):] {
		out.w = append(out.w, 1/math.Sqrt(1+float64(stats[c].Samples)))
	}
	return out
}

// explorePick returns the candidates in the order to try, the probability
// that the first of them was chosen, and whether exploration chose it.
// The explored model goes first; the routed order follows as the
// fallback.
func (s *Service) explorePick(candidates []string, w exploreWeights) ([]string, float64, bool) {
	n := len(candidates)
	if s.explore == 0 || n < 2 {
		return candidates, 1, false
	}
	sum := 0.0
	for _, wk := range w.w {
		sum += wk
	}
	if !(sum > 0) {
		// No alternative can be weighed: uniform.
		for k := range w.w {
			w.w[k] = 1
		}
		sum = float64(len(w.w))
	}
	e := s.explore
	if w.u >= 0 {
		e = s.explore * (exploreFloor + (1-exploreFloor)*w.u/s.meanUncertainty(w.u))
		e = min(e, max(exploreCap, s.explore))
	}
	if s.rand() >= e {
		return candidates, 1 - e, false
	}
	x := s.rand() * sum
	k := len(w.w) - 1
	for j, wk := range w.w {
		if x < wk {
			k = j
			break
		}
		x -= wk
	}
	for k > 0 && w.w[k] == 0 { // the float edge landed on a zero weight
		k--
	}
	k++ // w.w[j] weighs candidates[j+1]
	out := make([]string, 0, n)
	out = append(out, candidates[k])
	out = append(out, candidates[:k]...)
	out = append(out, candidates[k+1:]...)
	return out, e * w.w[k-1] / sum, true
}

// meanUncertainty folds u into the running mean and returns the mean
// before it, the scale of this prompt's exploration; the first prompt
// is its own scale. Concurrent updates may lose one another's
// contribution, which only nudges the scale.
func (s *Service) meanUncertainty(u float64) float64 {
	for {
		old := s.uncertainty.Load()
		mean := math.Float64frombits(old)
		next := u
		if old != 0 {
			next = uncertaintyDecay*mean + (1-uncertaintyDecay)*u
		} else {
			mean = u
		}
		if s.uncertainty.CompareAndSwap(old, math.Float64bits(max(next, 1e-9))) {
			return max(mean, 1e-9)
		}
	}
}
