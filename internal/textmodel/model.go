package textmodel

import (
	"math"
	"runtime"

	"github.com/switchyard/switchyard/router"
)

// HeadKind says what a head predicts.
type HeadKind string

// Head kinds: a candidate model's chance of answering well, a prompt's
// chance of belonging to a category, or to a topic (see Example.Topic).
const (
	KindModel    HeadKind = "model"
	KindCategory HeadKind = "category"
	KindTopic    HeadKind = "topic"
)

// Head is one logistic regression of a Model and what it was fitted on.
type Head struct {
	Name string   `json:"name"`
	Kind HeadKind `json:"kind"`
	// Samples is the number of training examples with a label for this
	// head; Mean is their mean label (a model's success rate).
	Samples int     `json:"samples"`
	Mean    float64 `json:"mean"`
	// LearningRate is the AdaGrad step the head was trained with.
	LearningRate float64 `json:"learning_rate"`
	// Bias is the intercept; PlattA and PlattB calibrate the raw score z
	// to sigmoid(PlattA*z + PlattB), fitted on held-out examples.
	Bias   float32 `json:"bias"`
	PlattA float64 `json:"platt_a"`
	PlattB float64 `json:"platt_b"`
	// TopicRates, on a model head of a model with topic heads, is the
	// model's smoothed training success rate on each topic, in topic head
	// order; TopicWeight is the weight of the logit of the topic prior
	// (those rates averaged over the predicted topic mixture) in the
	// calibrated probability sigmoid(PlattA*z + TopicWeight*logit(prior)
	// + PlattB). Both are empty when the model has no topic heads.
	TopicRates  []float64 `json:"topic_rates,omitempty"`
	TopicWeight float64   `json:"topic_weight,omitempty"`
	// Iso, when not empty, is an isotonic (pool-adjacent-violators) map
	// applied after the sigmoid: knots of ascending input and
	// non-decreasing output, interpolated linearly (see
	// Options.Isotonic).
	Iso []Knot `json:"iso,omitempty"`
}

// Knot is one point of an isotonic calibration map.
type Knot struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Model is a trained local prompt model. It is immutable after Train or
// UnmarshalBinary and safe for concurrent use.
type Model struct {
	features FeatureConfig
	params   Params
	samples  int
	heads    []Head
	// nFull is the number of heads that read the whole feature vector
	// (model and category heads); the topic heads follow them and read
	// only the word n-grams.
	nFull int
	// w holds those heads' weights interleaved by feature,
	// w[i*nFull+h], so that one cache line serves every head at a
	// feature; wt holds the topic heads' weights over the hashed buckets,
	// wt[i*nTopic+t].
	w  []float32
	wt []float32

	// free keeps prediction buffers between calls. Unlike a sync.Pool it
	// is not emptied by each garbage collection, which would make every
	// few hundredth prediction allocate a fresh extractor.
	free chan *scratch
}

// scratch is one goroutine's prediction buffers.
type scratch struct {
	ex *Extractor
	v  Vector
	z  []float64
}

// Params are the training parameters a model was fitted with, kept so
// that a model says how it was made.
type Params struct {
	L2 float64 `json:"l2"`
	// LearningRate is zero when each head's was selected (see Head).
	LearningRate float64 `json:"learning_rate"`
	Epochs       int     `json:"epochs"`
	Holdout      float64 `json:"holdout"`
	Seed         uint64  `json:"seed"`
	// SharedDifficulty says the model heads were fitted around a shared
	// difficulty component (Options.SharedDifficulty); left out of the
	// serialised header when false, so older models keep their bytes.
	SharedDifficulty bool `json:"shared_difficulty,omitempty"`
}

// Features returns the feature configuration the model uses.
func (m *Model) Features() FeatureConfig { return m.features }

// Params returns the parameters the model was trained with.
func (m *Model) Params() Params { return m.params }

// Samples returns the number of training examples the model saw.
func (m *Model) Samples() int { return m.samples }

// Heads returns a copy of the model's heads, in prediction order.
func (m *Model) Heads() []Head { return append([]Head(nil), m.heads...) }

// Head returns the index of the head named name of kind k, or -1.
func (m *Model) Head(k HeadKind, name string) int {
	for i, h := range m.heads {
		if h.Kind == k && h.Name == name {
			return i
		}
	}
	return -1
}

// Predict returns the calibrated probability of each head for prompt and
// its LLM analysis (nil when there is none), in head order. It allocates
// only the result; see PredictInto to avoid that.
func (m *Model) Predict(prompt string, a *router.Analysis) []float64 {
	return m.PredictInto(prompt, a, nil)
}

// PredictInto is Predict writing into out, grown if too short, and
// returning it.
func (m *Model) PredictInto(prompt string, a *router.Analysis, out []float64) []float64 {
	s := m.getScratch()
	defer m.putScratch(s)
	s.ex.Extract(prompt, a, &s.v)
	m.scores(&s.v, s.z)
	if cap(out) < len(m.heads) {
		out = make([]float64, len(m.heads))
	}
	out = out[:len(m.heads)]
	m.probabilities(s.z, out)
	return out
}

// probabilities turns raw scores z into calibrated probabilities in p:
// the topic heads first, since the model heads' calibration reads the
// topic mixture.
func (m *Model) probabilities(z, p []float64) {
	for h := range m.heads {
		if m.heads[h].Kind != KindModel {
			p[h] = m.heads[h].calibrate(z[h], 0)
		}
	}
	topics := p[m.nFull:]
	for h := range m.heads {
		if m.heads[h].Kind == KindModel {
			p[h] = m.heads[h].calibrate(z[h], m.heads[h].topicPrior(topics))
		}
	}
}

func (m *Model) getScratch() *scratch {
	select {
	case s := <-m.free:
		return s
	default:
	}
	// The configuration was validated when the model was made.
	ex, _ := NewExtractor(m.features)
	return &scratch{ex: ex, z: make([]float64, len(m.heads))}
}

func (m *Model) putScratch(s *scratch) {
	select {
	case m.free <- s:
	default: // enough kept; let this one go
	}
}

// newModel returns a model with its prediction buffers' free list. The
// topic heads must follow all others.
func newModel(f FeatureConfig, p Params, samples int, heads []Head) *Model {
	nFull := 0
	for nFull < len(heads) && heads[nFull].Kind != KindTopic {
		nFull++
	}
	return &Model{
		features: f,
		params:   p,
		samples:  samples,
		heads:    heads,
		nFull:    nFull,
		w:        make([]float32, f.Dim()*nFull),
		wt:       make([]float32, (1<<f.topicBits())*(len(heads)-nFull)),
		free:     make(chan *scratch, 2*runtime.GOMAXPROCS(0)),
	}
}

// scores writes each head's raw score (the logit before calibration) for
// v into z.
func (m *Model) scores(v *Vector, z []float64) {
	for h := range z {
		z[h] = float64(m.heads[h].Bias)
	}
	n := m.nFull
	full := z[:n]
	if n == 3 {
		scores3(m.w, v, full)
	} else {
		for k, i := range v.Idx {
			x := float64(v.Val[k])
			ws := m.w[int(i)*n : int(i)*n+n]
			for h, w := range ws {
				full[h] += float64(w) * x
			}
		}
	}
	nt := len(m.heads) - n
	if nt == 0 {
		return
	}
	// Topic scores are summed in float32, which halves this loop's time
	// (no conversions); the sums are of a few hundred terms of order
	// one, far within float32's precision for a probability.
	var buf [64]float32
	acc := buf[:0]
	if nt <= len(buf) {
		acc = buf[:nt]
	} else {
		acc = make([]float32, nt)
	}
	mask := uint32(1)<<m.features.topicBits() - 1
	for k, i := range v.Idx[:v.Words] {
		x := v.Val[k]
		i &= mask
		ws := m.wt[int(i)*nt : int(i)*nt+nt]
		acc := acc[:len(ws)]
		for t, w := range ws {
			acc[t] += w * x
		}
	}
	for t, a := range acc {
		z[n+t] += float64(a)
	}
}

// scores3 is scores' sum over v for three full heads (a routing version's
// usual cheap, middle and strong models), with each head's sum in a
// register rather than in z, the terms added in the same order.
func scores3(w []float32, v *Vector, z []float64) {
	z0, z1, z2 := z[0], z[1], z[2]
	for k, i := range v.Idx {
		x := float64(v.Val[k])
		ws := w[int(i)*3 : int(i)*3+3]
		z0 += float64(ws[0]) * x
		z1 += float64(ws[1]) * x
		z2 += float64(ws[2]) * x
	}
	z[0], z[1], z[2] = z0, z1, z2
}

// calibrate maps a raw score, and for a model head with topic rates the
// topic prior, to a calibrated probability.
func (h *Head) calibrate(z, prior float64) float64 {
	s := h.PlattA*z + h.PlattB
	if len(h.TopicRates) > 0 {
		s += h.TopicWeight * logit(prior)
	}
	return isotonic(h.Iso, sigmoid(s))
}

// topicPrior is the head's success rate averaged over the topic mixture
// given by the topic heads' probabilities pt (normalised to sum to one),
// or its overall mean when they are all zero.
func (h *Head) topicPrior(pt []float64) float64 {
	if len(h.TopicRates) == 0 || len(h.TopicRates) != len(pt) {
		return h.Mean
	}
	var sum, mix float64
	for t, p := range pt {
		sum += p
		mix += p * h.TopicRates[t]
	}
	if sum == 0 {
		return h.Mean
	}
	return mix / sum
}

// logit is sigmoid's inverse, clamped so that rates of 0 or 1 stay
// finite.
func logit(p float64) float64 {
	p = min(max(p, 1e-4), 1-1e-4)
	return math.Log(p / (1 - p))
}

// Category returns the most probable category head's name and
// probability given a prediction p from this model, or "" and 0 when the
// model has no category heads.
func (m *Model) Category(p []float64) (string, float64) {
	best, bestP := "", 0.0
	for h, head := range m.heads {
		if head.Kind == KindCategory && h < len(p) && p[h] > bestP {
			best, bestP = head.Name, p[h]
		}
	}
	return best, bestP
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
