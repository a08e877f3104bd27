package textmodel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/switchyard/switchyard/router"
)

// Example is one training prompt and what is known about it.
type Example struct {
	Prompt string
	// Analysis is the LLM classifier's analysis where one exists. Give it
	// only if serving will have one too for such prompts; the model learns
	// from the "has analysis" feature how far to trust it.
	Analysis *router.Analysis
	// Scores maps a candidate model to how well it answered, in [0, 1]
	// (1 correct, 0 wrong, fractions for graded answers). A model missing
	// here is unknown for this prompt and does not train its head.
	Scores map[string]float64
	// Weights, when set, maps a model of Scores to the importance of its
	// score (absent or zero: 1). Logged traffic, where one model answered
	// each prompt and a routing policy chose it, weights a score by
	// 1/propensity so that each head learns from the whole prompt
	// population rather than from the prompts the policy sent it (see
	// ImportanceWeight).
	Weights map[string]float64
	// Category, when not empty, trains the category heads.
	Category string
	// Topic, when not empty, is a fine label known only at training time
	// (a benchmark's subject, a task, a customer's product area). It
	// trains the topic heads, which predict the topic from the prompt's
	// words; each model head then adds, on the logit scale, the model's
	// training success rate averaged over the predicted topic mixture,
	// weighted as fitted on the held-out slice (see Options.TopicMin).
	Topic string
}

// Options configure Train. Zero values take the defaults.
type Options struct {
	// Models names the model heads, in order; default every model that
	// appears in the examples' scores, sorted.
	Models []string
	// Features defaults to DefaultFeatures.
	Features FeatureConfig
	// L2 is the regularisation strength; default 1e-3. It applies to the
	// weights an example touches, the usual sparse SGD approximation.
	L2 float64
	// LearningRate is AdaGrad's base step. Zero selects it per head from
	// LearningRates by held-out log loss (see selectRates): the step
	// size is the main regulariser here, and the best one differs
	// between a clear signal and a faint one such as RouteLLM's.
	LearningRate float64
	// Epochs over the training examples; default 6.
	Epochs int
	// Holdout is the share of examples held out to calibrate the heads;
	// default 0.1. Calibration is skipped (identity) when fewer than
	// MinCalibration examples would be held out.
	Holdout float64
	// CategoryMin is the number of examples a category needs to get a
	// head; 0 means no category heads.
	CategoryMin int
	// TopicMin is the number of examples a topic needs to get a head; 0
	// means no topic heads. Topic heads read only the word n-grams, so
	// that each costs about a third of a model head at prediction time.
	TopicMin int
	// Isotonic adds, on heads with at least MinIsotonic held-out labels,
	// an isotonic map (pool-adjacent-violators) after the sigmoid, which
	// corrects miscalibration a sigmoid cannot express at the cost of a
	// step-shaped map.
	Isotonic bool
	// Seed fixes the shuffles: the same examples, options and seed give
	// the same model, bit for bit.
	Seed uint64
	// Workers bounds the goroutines used; default GOMAXPROCS.
	Workers int
	// SharedDifficulty fits a prompt-difficulty component on every
	// model's outcomes pooled and each model head as the residual of it
	// (see shared.go); off, each model head learns alone.
	SharedDifficulty bool
}

// MinCalibration is the fewest held-out examples Platt scaling is fitted
// on; with fewer, raw scores are used as they are.
const MinCalibration = 50

// MinIsotonic is the fewest held-out labels an isotonic map is fitted
// on: with fewer, its steps follow the noise.
const MinIsotonic = 1000

// topicSmoothing is the weight, in examples, of a model's overall success
// rate in its per-topic rate, so that a rare topic's rate is not its few
// outcomes.
const topicSmoothing = 10

// ErrNoData is returned by Train when no example trains any head.
var ErrNoData = errors.New("no training examples")

func (o *Options) defaults() error {
	if o.Features == (FeatureConfig{}) {
		o.Features = DefaultFeatures()
	}
	if err := o.Features.Validate(); err != nil {
		return fmt.Errorf("checking feature config: %w", err)
	}
	if o.L2 == 0 {
		o.L2 = 1e-3
	}
	if o.Epochs == 0 {
		o.Epochs = 6
	}
	if o.Holdout == 0 {
		o.Holdout = 0.1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case o.L2 < 0 || math.IsNaN(o.L2):
		return fmt.Errorf("l2 %g: must not be negative", o.L2)
	case o.LearningRate < 0 || math.IsNaN(o.LearningRate):
		return fmt.Errorf("learning rate %g: must be positive", o.LearningRate)
	case o.Epochs < 0:
		return fmt.Errorf("epochs %d: must be positive", o.Epochs)
	case o.Holdout < 0 || o.Holdout >= 1:
		return fmt.Errorf("holdout %g: want [0, 1)", o.Holdout)
	}
	return nil
}

// Train fits a model on examples. It returns ErrNoData when there is no
// head to train, an error for invalid options or scores, and ctx's error
// when ctx ends first.
func Train(ctx context.Context, examples []Example, opts Options) (*Model, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	heads := headsOf(examples, opts)
	if len(heads) == 0 || heads[0].Kind == KindTopic || len(examples) == 0 {
		// Topic heads only serve the others.
		return nil, ErrNoData
	}
	labels, err := labelsOf(examples, heads)
	if err != nil {
		return nil, err
	}
	weights, err := weightsOf(examples, heads)
	if err != nil {
		return nil, err
	}

	hold, fit := calibrationSplit(len(examples), opts)

	vecs, err := extractAll(ctx, examples, opts.Features, opts.Workers)
	if err != nil {
		return nil, err
	}
	params := Params{L2: opts.L2, LearningRate: opts.LearningRate, Epochs: opts.Epochs, Holdout: opts.Holdout, Seed: opts.Seed, SharedDifficulty: opts.SharedDifficulty}
	m := newModel(opts.Features, params, len(examples), heads)
	for h := range m.heads {
		m.heads[h].LearningRate = opts.LearningRate
		if m.heads[h].Kind == KindTopic {
			m.heads[h].LearningRate = topicLearningRate
		}
	}
	epochs := epochOrders(fit, opts.Epochs, opts.Seed)
	var sh *sharedFit
	if opts.SharedDifficulty {
		if sh, err = m.fitShared(ctx, hold, fit, vecs, labels, weights, epochs, opts); err != nil {
			return nil, err
		}
	}
	off := sh.offsets()
	if opts.LearningRate == 0 {
		if err := m.selectRates(ctx, hold, fit, vecs, labels, opts, off); err != nil {
			return nil, err
		}
	}
	err = parallel(ctx, len(heads), opts.Workers, func(h int) error {
		var o []float64
		if h < m.nFull && m.heads[h].Kind == KindModel {
			o = off
		}
		w, b, err := m.adagradWeighted(ctx, h, vecs, labels, weights, epochs, m.heads[h].LearningRate, opts.L2, o)
		if err != nil {
			return err
		}
		if h < m.nFull {
			for j, x := range w {
				m.w[j*m.nFull+h] = float32(x)
			}
		} else {
			nt, t := len(m.heads)-m.nFull, h-m.nFull
			for j, x := range w[:1<<m.features.topicBits()] {
				m.wt[j*nt+t] = float32(x)
			}
		}
		m.heads[h].Bias = float32(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sh != nil {
		m.foldShared(sh, hold, vecs, labels)
	}
	m.calibrate(hold, vecs, labels, weights)
	m.stackTopics(fit, hold, vecs, labels)
	if opts.Isotonic {
		m.fitIsotonic(hold, vecs, labels)
	}
	return m, nil
}

// calibrationSplit shuffles n examples' indices once and splits off the
// calibration slice (hold) from the examples the heads fit; fit is
// sorted, so that epochs shuffle from a canonical order. opts has its
// defaults.
func calibrationSplit(n int, opts Options) (hold, fit []int) {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	order := rng.Perm(n)
	nHold := int(math.Round(opts.Holdout * float64(n)))
	if nHold < MinCalibration {
		nHold = 0
	}
	hold, fit = order[:nHold], order[nHold:]
	slices.Sort(fit)
	return hold, fit
}

// CalibrationSlice returns the indices, ascending, of the n examples
// that Train with opts holds out of the heads' fit to calibrate them
// (Options.Holdout), none when the slice would be under MinCalibration.
// Only the heads' calibration, a few parameters each, saw those examples,
// so the trained model's predictions for them are distributed as for new
// prompts: what a decision tuned on the training data, such as the share
// of prompts a threshold routes, can be measured on without the
// overconfidence of predictions on the prompts the weights fitted.
func CalibrationSlice(n int, opts Options) ([]int, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	hold, _ := calibrationSplit(n, opts)
	hold = slices.Clone(hold)
	slices.Sort(hold)
	return hold, nil
}

// headsOf lists the model heads, then the category heads.
func headsOf(examples []Example, opts Options) []Head {
	models := opts.Models
	if len(models) == 0 {
		seen := map[string]bool{}
		for _, ex := range examples {
			for name := range ex.Scores {
				seen[name] = true
			}
		}
		for name := range seen {
			models = append(models, name)
		}
		sort.Strings(models)
	}
	var heads []Head
	for _, name := range models {
		heads = append(heads, Head{Name: name, Kind: KindModel, PlattA: 1})
	}
	if opts.CategoryMin > 0 {
		for _, c := range frequent(examples, func(ex Example) string { return ex.Category }, opts.CategoryMin) {
			heads = append(heads, Head{Name: c, Kind: KindCategory, PlattA: 1})
		}
	}
	if opts.TopicMin > 0 {
		for _, t := range frequent(examples, func(ex Example) string { return ex.Topic }, opts.TopicMin) {
			heads = append(heads, Head{Name: t, Kind: KindTopic, PlattA: 1})
		}
	}
	return heads
}

// frequent returns, sorted, the non-empty labels (a category, a topic)
// that key gives at least atLeast of the examples: the labels common enough
// to train a head on.
func frequent(examples []Example, key func(Example) string, atLeast int) []string {
	count := map[string]int{}
	for _, ex := range examples {
		if k := key(ex); k != "" {
			count[k]++
		}
	}
	var out []string
	for k, n := range count {
		if n >= atLeast {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// labelsOf returns the label matrix, labels[i*len(heads)+h], NaN where
// unknown, and fills each head's Samples and Mean.
func labelsOf(examples []Example, heads []Head) ([]float32, error) {
	n := len(heads)
	labels := make([]float32, len(examples)*n)
	sums := make([]float64, n)
	hasCategory := false
	for h := range heads {
		hasCategory = hasCategory || heads[h].Kind == KindCategory
	}
	for i, ex := range examples {
		for h := range heads {
			y := float32(math.NaN())
			switch heads[h].Kind {
			case KindModel:
				if s, ok := ex.Scores[heads[h].Name]; ok {
					if !(s >= 0 && s <= 1) {
						return nil, fmt.Errorf("example %d: model %q: score %g outside [0, 1]", i, heads[h].Name, s)
					}
					y = float32(s)
				}
			case KindCategory:
				if ex.Category != "" {
					y = float32(b2f(ex.Category == heads[h].Name))
				}
			case KindTopic:
				if ex.Topic != "" {
					y = float32(b2f(ex.Topic == heads[h].Name))
				}
			}
			labels[i*n+h] = y
			if !math.IsNaN(float64(y)) {
				heads[h].Samples++
				sums[h] += float64(y)
			}
		}
	}
	for h := range heads {
		if heads[h].Samples > 0 {
			heads[h].Mean = sums[h] / float64(heads[h].Samples)
		}
	}
	return labels, nil
}

// extractAll computes every example's features, in parallel; each
// vector is independent of the others, so the result does not depend on
// scheduling.
func extractAll(ctx context.Context, examples []Example, cfg FeatureConfig, workers int) ([]Vector, error) {
	vecs := make([]Vector, len(examples))
	const chunk = 256
	chunks := (len(examples) + chunk - 1) / chunk
	exs := make(chan *Extractor, workers)
	for range workers {
		ex, err := NewExtractor(cfg)
		if err != nil {
			return nil, err
		}
		exs <- ex
	}
	err := parallel(ctx, chunks, workers, func(c int) error {
		ex := <-exs
		defer func() { exs <- ex }()
		var v Vector
		for i := c * chunk; i < min((c+1)*chunk, len(examples)); i++ {
			ex.Extract(examples[i].Prompt, examples[i].Analysis, &v)
			// Exact-size copies: the training set is held in memory.
			vecs[i] = Vector{Idx: slices.Clone(v.Idx), Val: slices.Clone(v.Val), Words: v.Words}
		}
		return nil
	})
	return vecs, err
}

// epochOrders returns the example order of each epoch, a seeded shuffle
// of fit, shared by every head.
func epochOrders(fit []int, epochs int, seed uint64) [][]int32 {
	orders := make([][]int32, epochs)
	for e := range orders {
		o := make([]int32, len(fit))
		for i, x := range fit {
			o[i] = int32(x)
		}
		r := rand.New(rand.NewPCG(seed, uint64(e)+1))
		r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		orders[e] = o
	}
	return orders
}

// adagrad runs AdaGrad with step lr on head h's cross-entropy loss with
// L2 strength l2, over the examples in epochs, and returns the weights
// and bias.
func (m *Model) adagrad(ctx context.Context, h int, vecs []Vector, labels []float32, epochs [][]int32, lr, l2 float64, off []float64) ([]float64, float64, error) {
	return m.adagradWeighted(ctx, h, vecs, labels, nil, epochs, lr, l2, off)
}

// adagradWeighted is adagrad with each example's loss gradient scaled by
// weights[i*len(heads)+h]; nil weights are all 1. A non-nil off adds
// off[i], a fixed score, to example i's (the shared difficulty a model
// head learns the residual of).
func (m *Model) adagradWeighted(ctx context.Context, h int, vecs []Vector, labels, weights []float32, epochs [][]int32, lr, l2 float64, off []float64) ([]float64, float64, error) {
	n := len(m.heads)
	dim := m.features.Dim()
	if h >= m.nFull {
		dim = 1 << m.features.topicBits()
	}
	w := make([]float64, dim)
	g2 := make([]float64, dim)
	var b, gb2 float64
	const eps = 1e-8
	for _, order := range epochs {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("training head %s: %w", m.heads[h].Name, err)
		}
		for _, i := range order {
			y := float64(labels[int(i)*n+h])
			if math.IsNaN(y) {
				continue
			}
			idx, val, mask := m.span(h, &vecs[i])
			z := b
			if off != nil {
				z += off[i]
			}
			for k, j := range idx {
				z += w[j&mask] * float64(val[k])
			}
			d := sigmoid(z) - y
			if weights != nil {
				d *= float64(weights[int(i)*n+h])
			}
			for k, j := range idx {
				j &= mask
				g := d*float64(val[k]) + l2*w[j]
				g2[j] += g * g
				w[j] -= lr * g / (math.Sqrt(g2[j]) + eps)
			}
			gb2 += d * d
			b -= lr * d / (math.Sqrt(gb2) + eps)
		}
	}
	return w, b, nil
}

// span returns the part of v head h reads and the mask that maps its
// indices to the head's weights: all of v, or for a topic head the word
// n-grams folded onto the topic buckets.
func (m *Model) span(h int, v *Vector) ([]uint32, []float32, uint32) {
	if h >= m.nFull {
		return v.Idx[:v.Words], v.Val[:v.Words], uint32(1)<<m.features.topicBits() - 1
	}
	return v.Idx, v.Val, math.MaxUint32
}

// calibrate fits each head's Platt parameters on the held-out examples,
// scoring them with the final float32 weights exactly as Predict will;
// with importance weights (not nil) each example counts by its weight.
func (m *Model) calibrate(hold []int, vecs []Vector, labels, weights []float32) {
	if len(hold) == 0 {
		return
	}
	n := len(m.heads)
	z := make([]float64, n)
	zs := make([][]float64, n)
	ys := make([][]float64, n)
	ws := make([][]float64, n)
	for _, i := range hold {
		m.scores(&vecs[i], z)
		for h := range n {
			y := float64(labels[i*n+h])
			if math.IsNaN(y) {
				continue
			}
			zs[h] = append(zs[h], z[h])
			ys[h] = append(ys[h], y)
			if weights != nil {
				ws[h] = append(ws[h], float64(weights[i*n+h]))
			}
		}
	}
	for h := range n {
		if len(zs[h]) < MinCalibration {
			continue
		}
		if weights != nil {
			m.heads[h].PlattA, m.heads[h].PlattB = fitPlattWeighted(zs[h], ys[h], ws[h])
		} else {
			m.heads[h].PlattA, m.heads[h].PlattB = fitPlatt(zs[h], ys[h])
		}
	}
}

// parallel calls fn(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(ctx context.Context, n, workers int, fn func(int) error) error {
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	return err
}
