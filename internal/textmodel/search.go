package textmodel

import (
	"context"
	"math"
)

// LearningRates returns the AdaGrad steps Train chooses from when
// Options.LearningRate is zero, smallest first.
func LearningRates() []float64 { return []float64{0.01, 0.03, 0.1, 0.3} }

// topicLearningRate is the topic heads' AdaGrad step, not searched: a
// topic is a clear signal, for which the largest of LearningRates won the
// search on 51 of RouteLLM's 58 topics, and searching would cost four
// fits per topic.
const topicLearningRate = 0.3

// maxSearch bounds the training examples the learning-rate search fits
// on, so that searching costs at most a few fits of this size whatever
// the data's size.
const maxSearch = 10_000

// selectRates sets each head's learning rate to the one in LearningRates
// whose fit on (a prefix of) fit has the lowest log loss on hold after
// Platt scaling. Without a calibration slice it takes the smallest rate,
// the most cautious.
// A non-nil off is the shared difficulty the model heads learn the
// residual of (see adagradWeighted).
func (m *Model) selectRates(ctx context.Context, hold, fit []int, vecs []Vector, labels []float32, opts Options, off []float64) error {
	rates := LearningRates()
	for h := range m.nFull {
		m.heads[h].LearningRate = rates[0]
	}
	if len(hold) == 0 {
		return nil
	}
	// fit is sorted; its order is not informative, but take every k-th
	// example rather than a prefix in case the caller's order is.
	sub := fit
	if len(fit) > maxSearch {
		sub = make([]int, 0, maxSearch)
		for k := range maxSearch {
			sub = append(sub, fit[k*len(fit)/maxSearch])
		}
	}
	epochs := epochOrders(sub, opts.Epochs, opts.Seed)
	n := m.nFull // topic heads keep topicLearningRate
	type job struct{ h, r int }
	var jobs []job
	for h := range n {
		for r := range rates {
			jobs = append(jobs, job{h, r})
		}
	}
	loss := make([]float64, len(jobs))
	err := parallel(ctx, len(jobs), opts.Workers, func(k int) error {
		h, lr := jobs[k].h, rates[jobs[k].r]
		var o []float64
		if m.heads[h].Kind == KindModel {
			o = off
		}
		w, b, err := m.adagrad(ctx, h, vecs, labels, epochs, lr, opts.L2, o)
		if err != nil {
			return err
		}
		loss[k] = m.heldOutLoss(w, b, h, hold, vecs, labels, o)
		return nil
	})
	if err != nil {
		return err
	}
	best := make([]float64, n)
	for h := range best {
		best[h] = math.Inf(1)
	}
	for k, j := range jobs {
		// Strictly lower: ties keep the smaller, more cautious rate.
		if loss[k] < best[j.h] {
			best[j.h] = loss[k]
			m.heads[j.h].LearningRate = rates[j.r]
		}
	}
	return nil
}

// heldOutLoss is the mean cross-entropy on hold of head h's weights w and
// bias b after Platt scaling fitted on the same examples; +Inf when the
// head has too few held-out labels to judge.
func (m *Model) heldOutLoss(w []float64, b float64, h int, hold []int, vecs []Vector, labels []float32, off []float64) float64 {
	n := len(m.heads)
	var zs, ys []float64
	for _, i := range hold {
		y := float64(labels[i*n+h])
		if math.IsNaN(y) {
			continue
		}
		z := b
		if off != nil {
			z += off[i]
		}
		idx, val, mask := m.span(h, &vecs[i])
		for k, j := range idx {
			z += w[j&mask] * float64(val[k])
		}
		zs, ys = append(zs, z), append(ys, y)
	}
	if len(zs) < MinCalibration {
		return math.Inf(1)
	}
	a, c := fitPlatt(zs, ys)
	var loss float64
	for k, z := range zs {
		p := min(max(sigmoid(a*z+c), 1e-12), 1-1e-12)
		loss -= ys[k]*math.Log(p) + (1-ys[k])*math.Log(1-p)
	}
	return loss / float64(len(zs))
}
