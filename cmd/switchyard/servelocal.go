package main

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// localModelStore is what the local tier needs of the store.
type localModelStore interface {
	LocalModel(ctx context.Context, digest string) ([]byte, error)
}

// localTier keeps the cascade's local classifier in step with the active
// table version: the version's provenance names the model trained with
// it, so a restart or a promotion loads that model.
type localTier struct {
	st      localModelStore
	cascade *classify.Cascade
	models  router.Catalog
	cfg     config.Local
	log     *slog.Logger

	mu     sync.Mutex // serialises loads (startup, table poll, learner)
	digest string     // the model loaded; empty for none
}

// load gives the cascade the local model of v, or none. A model that
// cannot be loaded leaves the current one in place.
func (l *localTier) load(ctx context.Context, v router.Version) {
	if !l.cfg.Enabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	digest := v.Provenance.LocalModel
	if digest == l.digest {
		return
	}
	if digest == "" {
		l.cascade.SetLocal(nil)
		l.digest = ""
		l.log.Info("local classifier off: the table version has none", "version", v.ID)
		return
	}
	data, err := l.st.LocalModel(ctx, digest)
	if err != nil {
		l.log.Warn("load local classifier", "version", v.ID, "digest", digest[:12], "err", err)
		return
	}
	m, err := textmodel.UnmarshalBinary(data)
	if err != nil {
		l.log.Warn("decode local classifier", "version", v.ID, "digest", digest[:12], "err", err)
		return
	}
	order := localOrder(m, v.Table, l.models, l.cfg.MinSamples)
	if len(order) == 0 {
		l.cascade.SetLocal(nil)
		l.digest = digest
		l.log.Info("local classifier off: no candidate model has enough training data", "version", v.ID, "min_samples", l.cfg.MinSamples)
		return
	}
	lm, err := classify.NewLocalModel(classify.LocalModelOptions{Model: m, Order: order, Target: l.cfg.Threshold, MinSamples: l.cfg.MinSamples})
	if err != nil {
		l.log.Warn("local classifier", "version", v.ID, "err", err)
		return
	}
	l.cascade.SetLocal(lm)
	l.digest = digest
	l.log.Info("local classifier loaded", "version", v.ID, "digest", digest[:12], "samples", m.Samples(), "models", order)
}

// localOrder is the candidate models the bucket rule ranks, cheapest
// first: those of table the model predicts from at least minSamples
// examples each. A model with fewer would make every answer unsure.
func localOrder(m *textmodel.Model, table router.Table, models router.Catalog, minSamples int) []string {
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

// psiTimeout bounds the drift queries of one scrape.
const psiTimeout = 2 * time.Second

// bucketPSI reads the bucket mix's day-over-day drift at scrape time;
// a failed read reports nothing rather than a stale figure.
func bucketPSI(st interface {
	BucketPSI(ctx context.Context, day time.Time) (map[string]float64, error)
}, log *slog.Logger) func() map[string]float64 {
	return func() map[string]float64 {
		ctx, cancel := context.WithTimeout(context.Background(), psiTimeout)
		defer cancel()
		psi, err := st.BucketPSI(ctx, time.Now())
		if err != nil {
			log.Warn("bucket drift", "err", err)
			return nil
		}
		return psi
	}
}
