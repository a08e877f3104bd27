package classify

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// ModelStore is what a LocalTier needs of the store: a trained local
// model's bytes by digest.
type ModelStore interface {
	LocalModel(ctx context.Context, digest string) ([]byte, error)
}

// LocalTierOptions configure a LocalTier.
type LocalTierOptions struct {
	Store   ModelStore
	Cascade *Cascade // whose local tier follows the active version
	Models  router.Catalog
	// Enabled loads versions' models; off, the tier stays empty and
	// versions route by their bucket tables.
	Enabled bool
	// Threshold is the bucket rule's confidence target (see
	// LocalModelOptions.Target); MinSamples the training examples the
	// model and each of its bucket-rule heads need.
	Threshold  float64
	MinSamples int
	Logger     *slog.Logger
}

// LocalTier keeps the local model in step with the active table
// version: the version's provenance names the model trained with it, so
// a restart or a promotion loads that model, gives the cascade its
// classifier and returns the predictor the service routes the version's
// per-prompt policy with.
type LocalTier struct {
	opts LocalTierOptions

	mu     sync.Mutex       // serialises loads (startup, table poll, learner)
	digest string           // the model loaded; empty for none
	model  *textmodel.Model // nil for none
	local  *LocalModel      // the cascade's classifier; nil for none
}

// NewLocalTier returns an empty LocalTier.
func NewLocalTier(opts LocalTierOptions) *LocalTier {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &LocalTier{opts: opts}
}

// Load gives the cascade the local model of v and returns the predictor
// for v's per-prompt policy, nil when v has no policy or no usable
// model (the service then routes v by its bucket table). A model that
// cannot be loaded leaves the cascade's current one in place.
func (l *LocalTier) Load(ctx context.Context, v router.Version) router.Predictor {
	if !l.opts.Enabled {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.opts.Logger
	digest := v.Provenance.LocalModel
	if digest != l.digest {
		if !l.swap(ctx, v) {
			return nil
		}
	}
	if v.Policy == nil || l.model == nil {
		if v.Policy != nil {
			log.Warn("per-prompt policy not in use: the version's local model is not loaded; the bucket table routes", "version", v.ID)
		}
		return nil
	}
	p := newPolicyPredictor(l.model, l.local, v.Policy.Models)
	if p == nil {
		log.Warn("per-prompt policy not in use: the local model predicts none of its models", "version", v.ID, "models", v.Policy.Models)
		return nil
	}
	log.Info("per-prompt policy in use", "version", v.ID, "point", v.Policy.Point.String(), "models", v.Policy.Models)
	return p
}

// swap loads v's model into l and the cascade; false when it failed and
// nothing changed.
func (l *LocalTier) swap(ctx context.Context, v router.Version) bool {
	log, digest := l.opts.Logger, v.Provenance.LocalModel
	if digest == "" {
		l.opts.Cascade.SetLocal(nil)
		l.digest, l.model, l.local = "", nil, nil
		log.Info("local classifier off: the table version has none", "version", v.ID)
		return true
	}
	short := digest[:min(12, len(digest))]
	data, err := l.opts.Store.LocalModel(ctx, digest)
	if err != nil {
		log.Warn("load local classifier", "version", v.ID, "digest", short, "err", err)
		return false
	}
	m, err := textmodel.UnmarshalBinary(data)
	if err != nil {
		log.Warn("decode local classifier", "version", v.ID, "digest", short, "err", err)
		return false
	}
	order := LocalOrder(m, v.Table, l.opts.Models, l.opts.MinSamples)
	var lm *LocalModel
	if len(order) == 0 {
		log.Info("local classifier off: no candidate model has enough training data", "version", v.ID, "min_samples", l.opts.MinSamples)
	} else {
		lm, err = NewLocalModel(LocalModelOptions{Model: m, Order: order, Target: l.opts.Threshold, MinSamples: l.opts.MinSamples})
		if err != nil {
			log.Warn("local classifier", "version", v.ID, "err", err)
			return false
		}
		log.Info("local classifier loaded", "version", v.ID, "digest", short, "samples", m.Samples(), "models", order)
	}
	if lm == nil {
		l.opts.Cascade.SetLocal(nil)
	} else {
		l.opts.Cascade.SetLocal(lm)
	}
	l.digest, l.model, l.local = digest, m, lm
	return true
}

// LocalOrder is the candidate models the bucket rule ranks, cheapest
// first: those of table the model predicts from at least minSamples
// examples each. A model with fewer would make every answer unsure.
func LocalOrder(m *textmodel.Model, table router.Table, models router.Catalog, minSamples int) []string {
	heads := m.Heads()
	seen := map[string]bool{}
	var order []string
	for _, names := range table {
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			h := m.Head(textmodel.KindModel, name)
			if _, ok := models[name]; ok && h >= 0 && heads[h].Samples >= minSamples {
				order = append(order, name)
			}
		}
	}
	price := func(name string) router.Micros { return models[name].Cost(1000, 1000) }
	slices.SortFunc(order, func(a, b string) int {
		return cmp.Or(cmp.Compare(price(a), price(b)), cmp.Compare(a, b))
	})
	return order
}

// policyPredictor is the router.Predictor of one model and policy: one
// textmodel prediction per prompt gives the policy's models' success and
// the local classifier's answer.
type policyPredictor struct {
	model *textmodel.Model
	local *LocalModel // nil: no bucket-rule classifier; the heuristic analyses
	heads []int       // model head of each policy model; -1 for none
	buf   sync.Pool   // *[]float64 of the model's heads
	heur  Heuristic
}

var _ router.Predictor = (*policyPredictor)(nil)

// newPolicyPredictor returns the predictor of models (a policy's), or
// nil when m predicts none of them.
func newPolicyPredictor(m *textmodel.Model, local *LocalModel, models []string) *policyPredictor {
	p := &policyPredictor{model: m, local: local, heads: make([]int, len(models))}
	any := false
	for k, name := range models {
		p.heads[k] = m.Head(textmodel.KindModel, name)
		any = any || p.heads[k] >= 0
	}
	if !any {
		return nil
	}
	return p
}

// Predict reads prompt (normalised) once with the model.
func (p *policyPredictor) Predict(ctx context.Context, prompt string) (router.PromptPrediction, error) {
	if err := ctx.Err(); err != nil {
		return router.PromptPrediction{}, fmt.Errorf("local prediction: %w", err)
	}
	bp, _ := p.buf.Get().(*[]float64)
	if bp == nil {
		bp = new([]float64)
	}
	all := p.model.PredictInto(prompt, nil, *bp)
	*bp = all
	defer p.buf.Put(bp)

	out := router.PromptPrediction{Success: make([]float64, len(p.heads))}
	for k, h := range p.heads {
		out.Success[k] = math.NaN()
		if h >= 0 {
			out.Success[k] = all[h]
		}
	}
	if p.local != nil {
		out.Analysis, out.Confidence = p.local.analyse(prompt, all)
	} else {
		out.Analysis = p.heur.Analyze(prompt)
	}
	return out, nil
}
