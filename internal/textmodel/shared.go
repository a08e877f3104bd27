package textmodel

import (
	"context"
	"math"
)

// The shared difficulty component (Options.SharedDifficulty) is a
// logistic regression d(x) fitted on every model's outcomes pooled (each
// prompt's mean score over the models that have one), so that every
// model's outcomes teach it; each model head is then fitted with d(x) as
// a fixed offset, learning only where its model differs from the pooled
// difficulty (an item-response-theory view: logit_m(x) = a_m*d(x) + b_m
// + w_m·x). a_m and the head's scale are fitted on the held-out slice
// and a_m*d is folded into the head's weights, so prediction costs what
// it did and the serialised format is unchanged.
//
// Why: a head sees only the prompts that have its model's outcome. On
// logged traffic, one answer a prompt, that is the prompts routing or
// exploration sent its model, often few; the pooled difficulty is
// learned from all of them.

// sharedFit is the fitted shared component: weights over the whole
// feature vector, bias, and each training example's raw score d(x_i).
type sharedFit struct {
	w []float64
	b float64
	d []float64
}

// offsets returns the per-example offsets the model heads are fitted
// with: d(x_i), or nil without a shared component.
func (s *sharedFit) offsets() []float64 {
	if s == nil {
		return nil
	}
	return s.d
}

// fitShared fits the shared component on fit (its learning rate chosen
// on hold as a model head's is), its label each example's mean score
// over the model heads, weighted by the mean of their importance
// weights when there are any.
func (m *Model) fitShared(ctx context.Context, hold, fit []int, vecs []Vector, labels, weights []float32, epochs [][]int32, opts Options) (*sharedFit, error) {
	n := len(m.heads)
	y := make([]float32, len(vecs))
	var ws []float32
	if weights != nil {
		ws = make([]float32, len(vecs))
	}
	for i := range vecs {
		var sum, cnt, wsum float64
		for h := range m.nFull {
			v := float64(labels[i*n+h])
			if m.heads[h].Kind != KindModel || math.IsNaN(v) {
				continue
			}
			sum += v
			cnt++
			if weights != nil {
				wsum += float64(weights[i*n+h])
			}
		}
		y[i] = float32(math.NaN())
		if cnt > 0 {
			y[i] = float32(sum / cnt)
		}
		if ws != nil {
			ws[i] = 1
			if cnt > 0 {
				ws[i] = float32(wsum / cnt)
			}
		}
	}
	// A one-head model over the same features runs the same training
	// code as the model heads.
	one := &Model{features: m.features, heads: []Head{{Name: "shared difficulty", Kind: KindModel}}, nFull: 1}
	lr := opts.LearningRate
	if lr == 0 {
		if err := one.selectRates(ctx, hold, fit, vecs, y, opts, nil); err != nil {
			return nil, err
		}
		lr = one.heads[0].LearningRate
	}
	w, b, err := one.adagradWeighted(ctx, 0, vecs, y, ws, epochs, lr, opts.L2, nil)
	if err != nil {
		return nil, err
	}
	d := make([]float64, len(vecs))
	for i := range vecs {
		z := b
		for k, j := range vecs[i].Idx {
			z += w[j] * float64(vecs[i].Val[k])
		}
		d[i] = z
	}
	return &sharedFit{w: w, b: b, d: d}, nil
}

// foldShared fits, per model head, its score's and the shared
// component's coefficients on the held-out examples, and folds them into
// the head's weights and bias (calibrate then fits the head's Platt
// scaling on the result). Without enough held-out labels a head keeps
// z + d as it was trained.
func (m *Model) foldShared(s *sharedFit, hold []int, vecs []Vector, labels []float32) {
	n, nf := len(m.heads), m.nFull
	z := make([]float64, n)
	xs := make([][][]float64, nf)
	ys := make([][]float64, nf)
	for _, i := range hold {
		m.scores(&vecs[i], z)
		for h := range nf {
			y := float64(labels[i*n+h])
			if m.heads[h].Kind != KindModel || math.IsNaN(y) {
				continue
			}
			xs[h] = append(xs[h], []float64{z[h], s.d[i]})
			ys[h] = append(ys[h], y)
		}
	}
	for h := range nf {
		if m.heads[h].Kind != KindModel {
			continue
		}
		a, c := 1.0, 1.0
		if len(xs[h]) >= MinCalibration {
			coef := fitLogistic(xs[h], ys[h])
			a, c = coef[0], coef[1]
		}
		for j, v := range s.w {
			k := j*nf + h
			m.w[k] = float32(a*float64(m.w[k]) + c*v)
		}
		m.heads[h].Bias = float32(a*float64(m.heads[h].Bias) + c*s.b)
	}
}
