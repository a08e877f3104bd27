package textmodel

import "math"

// stackTopics gives each model head its topic rates and refits its
// calibration over two inputs, the head's raw score and the logit of its
// topic prior, on the held-out examples (see Head.TopicRates). The rates
// come from the fitting examples only, so the held-out fit sees how far
// they carry to unseen prompts. Heads with too few held-out labels keep
// their Platt scaling and get no rates.
//
// Why: on RouteLLM's MMLU, which of two models answers depends much on
// the subject, and a subject is a broad pattern over many words that a
// per-model linear head, fitted on a few thousand noisy outcomes, learns
// only partly; a topic classifier learns it from every example's label,
// not only from the ones whose outcome happens to differ.
func (m *Model) stackTopics(fit, hold []int, vecs []Vector, labels []float32) {
	n, nt := len(m.heads), len(m.heads)-m.nFull
	if nt == 0 || len(hold) == 0 {
		return
	}
	rates := make([][]float64, m.nFull)
	for h := range m.nFull {
		if m.heads[h].Kind != KindModel {
			continue
		}
		sum, cnt := make([]float64, nt), make([]float64, nt)
		for _, i := range fit {
			y := float64(labels[i*n+h])
			if math.IsNaN(y) {
				continue
			}
			for t := range nt {
				if labels[i*n+m.nFull+t] == 1 {
					sum[t] += y
					cnt[t]++
				}
			}
		}
		rates[h] = make([]float64, nt)
		for t := range nt {
			rates[h][t] = (sum[t] + topicSmoothing*m.heads[h].Mean) / (cnt[t] + topicSmoothing)
		}
	}

	z, p := make([]float64, n), make([]float64, n)
	xs := make([][][]float64, m.nFull)
	ys := make([][]float64, m.nFull)
	for _, i := range hold {
		m.scores(&vecs[i], z)
		m.probabilities(z, p)
		for h := range m.nFull {
			y := float64(labels[i*n+h])
			if rates[h] == nil || math.IsNaN(y) {
				continue
			}
			probe := Head{Mean: m.heads[h].Mean, TopicRates: rates[h]}
			xs[h] = append(xs[h], []float64{z[h], logit(probe.topicPrior(p[m.nFull:]))})
			ys[h] = append(ys[h], y)
		}
	}
	for h := range m.nFull {
		if len(xs[h]) < MinCalibration {
			continue
		}
		c := fitLogistic(xs[h], ys[h])
		m.heads[h].PlattA, m.heads[h].TopicWeight, m.heads[h].PlattB = c[0], c[1], c[2]
		m.heads[h].TopicRates = rates[h]
	}
}

// fitIsotonic gives each model and category head with at least
// MinIsotonic held-out labels an isotonic map over its calibrated
// probability. Topic heads keep theirs as they are, since the model
// heads' topic calibration was fitted on them.
func (m *Model) fitIsotonic(hold []int, vecs []Vector, labels []float32) {
	n := len(m.heads)
	z, p := make([]float64, n), make([]float64, n)
	ps := make([][]float64, m.nFull)
	ys := make([][]float64, m.nFull)
	for _, i := range hold {
		m.scores(&vecs[i], z)
		m.probabilities(z, p)
		for h := range m.nFull {
			if y := float64(labels[i*n+h]); !math.IsNaN(y) {
				ps[h] = append(ps[h], p[h])
				ys[h] = append(ys[h], y)
			}
		}
	}
	for h := range m.nFull {
		if len(ps[h]) >= MinIsotonic {
			m.heads[h].Iso = fitIsotonic(ps[h], ys[h])
		}
	}
}
