package textmodel

import (
	"math"
	"runtime"

	"github.com/switchyard/switchyard/router"
)

// HeadKind says what a head predicts.
type HeadKind string

// Head kinds: a candidate model's chance of answering well, or a
// prompt's chance of belonging to a category.
const (
	KindModel    HeadKind = "model"
	KindCategory HeadKind = "category"
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
}

// Model is a trained local prompt model. It is immutable after Train or
// UnmarshalBinary and safe for concurrent use.
type Model struct {
	features FeatureConfig
	params   Params
	samples  int
	heads    []Head
	// w holds the weights interleaved by feature, w[i*len(heads)+h], so
	// that one cache line serves every head at a feature.
	w []float32

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
	for h := range m.heads {
		out[h] = m.heads[h].calibrate(s.z[h])
	}
	return out
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

// newModel returns a model with its prediction buffers' free list.
func newModel(f FeatureConfig, p Params, samples int, heads []Head) *Model {
	return &Model{
		features: f,
		params:   p,
		samples:  samples,
		heads:    heads,
		w:        make([]float32, f.Dim()*len(heads)),
		free:     make(chan *scratch, 2*runtime.GOMAXPROCS(0)),
	}
}

// scores writes each head's raw score (the logit before calibration) for
// v into z.
func (m *Model) scores(v *Vector, z []float64) {
	n := len(m.heads)
	for h := range z {
		z[h] = float64(m.heads[h].Bias)
	}
	for k, i := range v.Idx {
		x := float64(v.Val[k])
		ws := m.w[int(i)*n : int(i)*n+n]
		for h, w := range ws {
			z[h] += float64(w) * x
		}
	}
}

// calibrate maps a raw score to a calibrated probability.
func (h *Head) calibrate(z float64) float64 { return sigmoid(h.PlattA*z + h.PlattB) }

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
