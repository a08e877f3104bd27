package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/httpapi"
	"github.com/switchyard/switchyard/internal/metrics"
	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/internal/provider"
	"github.com/switchyard/switchyard/internal/recorder"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
	"github.com/switchyard/switchyard/web"
)

// app is serve's pieces wired from the configuration: everything the
// service is but the listener and the goroutines that run beside it.
// buildApp makes it (and can be tested without a port); run serves it.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	store    *store.Store
	version  router.Version // the version it starts with
	dbOutage *outage.Tracker
	local    *classify.LocalTier
	keeper   *classify.Keeper // nil unless prompts are kept
	recorder *recorder.Recorder
	gate     *keys.Gate
	metrics  *metrics.Metrics
	service  *router.Service
	// learner is the one learner job of the schedule and the admin
	// page's button: both runs take the same learner lock, and SIGTERM
	// halts both.
	learner *learnerRuns
	api     *httpapi.Server
}

// buildApp opens and migrates the database, loads the routing table and
// wires the classifier cascade, the providers, the recorder, the key gate,
// the service and its HTTP routes. On error it closes what it opened.
func buildApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.close(ctx)
		}
	}()
	if a.store, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	if a.version, err = router.StartVersion(ctx, a.store, cfg.Table(), cfg.Catalog(), log); err != nil {
		return nil, err
	}
	st := a.store

	clients := make(map[string]*provider.Client, len(cfg.Providers))
	completers := make(map[string]router.Completer, len(cfg.Providers))
	for _, p := range cfg.Providers {
		c := provider.New(p, provider.Options{Logger: log})
		clients[p.Name] = c
		completers[p.Name] = c
	}

	// One tracker for the database: an outage is one line when it starts,
	// a summary every 30s with the records waiting, one when it ends.
	a.dbOutage = outage.New("database", log, outage.Options{})
	cascade := classify.CascadeOptions{
		Outage:         a.dbOutage,
		Store:          st,
		CacheSize:      cfg.Classifier.CacheSize,
		Logger:         log,
		LocalThreshold: cfg.Classifier.Local.Threshold,
	}
	if m := cfg.Classifier.Model; m != "" {
		cat := cfg.Catalog()
		pc := clients[cat[m].Provider]
		cascade.LLM = classify.NewLLM(pc.API(), m, classify.LLMOptions{Timeout: cfg.Classifier.Timeout, Acquire: pc.Acquire})
	}

	casc := classify.NewCascade(cascade)
	a.local = classify.NewLocalTier(classify.LocalTierOptions{
		Store: st, Cascade: casc, Models: cfg.Catalog(), Enabled: cfg.Classifier.Local.Enabled,
		Threshold: cfg.Classifier.Local.Threshold, MinSamples: cfg.Classifier.Local.MinSamples, Logger: log,
	})
	predictor := a.local.Load(ctx, a.version)
	var classifier router.Classifier = casc
	if cfg.Learner.KeepPrompts {
		// Prompts are kept off the reply's path; the last are written on
		// the way out, before the store closes (see close).
		a.keeper = classify.NewKeeper(casc, st, classify.KeeperOptions{Logger: log, Outage: a.dbOutage})
		classifier = a.keeper
	}

	a.recorder = recorder.New(st, recorder.Options{Logger: log, Outage: a.dbOutage})
	rec := a.recorder
	a.dbOutage.SetWaiting(rec.Pending)
	a.gate = newGate(ctx, cfg, st, a.dbOutage, log)
	a.metrics = metrics.New(metrics.Gauges{
		InFlight:       func() int64 { return a.api.InFlight() },
		Refused:        func() uint64 { return a.api.Refused() },
		Pending:        rec.Pending,
		RecordsRefused: rec.Refused,
		Providers:      func() []router.ProviderHealth { return a.service.Providers() },
		TableVersion:   func() int64 { return a.service.Version().ID },
		BucketPSI:      bucketPSI(st, log),
	})
	a.service, err = router.NewService(router.Options{
		Models:     cfg.Catalog(),
		Completers: completers,
		Classifier: classifier,
		Recorder:   a.gate.Recorder(a.metrics.Recorder(rec)),
		Baseline:   cfg.Baseline,
		Version:    a.version,
		Predictor:  predictor,
		LabelShare: cfg.Classifier.Local.LabelShare,
		Timeout:    cfg.Server.AttemptTimeout,
		// A silent upstream costs seconds, not the attempt timeout.
		FirstByteTimeout: cfg.Server.FirstByteTimeout,
		BreakerWait:      cfg.Server.BreakerWait,
		BreakerMaxWait:   cfg.Server.BreakerMaxWait,
		Explore:          cfg.Exploration,
		ExploreUniform:   cfg.ExplorationUniform,
		Rand:             seededRand(cfg.ExplorationSeed),
		Logger:           log,
	})
	if err != nil {
		return nil, err
	}
	job, err := newLearnerJob(cfg, st, log, func(v router.Version) {
		if err := a.activate(context.Background(), v); err != nil {
			log.Error("activate learned routing table", "version", v.ID, "err", err)
		}
	})
	if err != nil {
		return nil, err
	}
	a.learner = newLearnerRuns(job)
	a.api = newAPI(a)
	return a, nil
}

// newAPI wires the HTTP routes, the admin page among them, to a's pieces.
func newAPI(a *app) *httpapi.Server {
	cfg, st, rec := a.cfg, a.store, a.recorder
	// The request page shows prompt text only where prompts are kept.
	var prompts web.PromptReader
	if cfg.Learner.KeepPrompts {
		prompts = st
	}
	admin := web.New(web.Options{
		Token:      cfg.Server.AdminToken,
		Versions:   st,
		Spend:      st,
		Evals:      st,
		Requests:   st,
		Prompts:    prompts,
		Traffic:    st,
		Signals:    st,
		MinSamples: cfg.Learner.MinSamples,
		Keys:       st,
		Providers:  func() []router.ProviderHealth { return a.service.Providers() },
		Baseline:   cfg.Baseline,
		Logger:     a.log,
		// Promotion, rollback and a learner run from the page: audited,
		// behind the token and a per-form token.
		Changer:      st,
		Audit:        st,
		Learner:      a.learner,
		Runs:         st,
		LearnTimeout: cfg.Learner.Timeout,
		OnActivate:   a.activate,
	})
	return httpapi.New(httpapi.Options{
		Router:         a.service,
		Spend:          st,
		Feedback:       st,
		StoreOutage:    a.dbOutage,
		Records:        rec,
		Pending:        rec, // feedback may beat its request's row to the database
		Metrics:        a.metrics.Handler(),
		Admin:          admin,
		Baseline:       cfg.Baseline,
		Keys:           a.gate,
		RequireKeys:    cfg.Server.RequireKeys,
		AdminToken:     cfg.Server.AdminToken,
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		RequestTimeout: cfg.Server.RequestTimeout,
		MaxInFlight:    cfg.Server.MaxInFlight,
		Logger:         a.log,
		Checks: map[string]httpapi.Check{
			"database": func(ctx context.Context) error {
				if err := st.Ping(ctx); err != nil {
					return errors.New("unreachable")
				}
				return nil
			},
			"recorder": func(context.Context) error {
				if !rec.Healthy() {
					return fmt.Errorf("%d records waiting for the database", rec.Pending())
				}
				return nil
			},
		},
	})
}

// handler is the service's HTTP handler, instrumented.
func (a *app) handler() http.Handler { return a.metrics.Instrument(a.api.Handler()) }

// activate swaps in a newly promoted version with its local model: the
// service gets both at once.
func (a *app) activate(ctx context.Context, v router.Version) error {
	return a.service.Activate(v, a.local.Load(ctx, v))
}

// close releases what buildApp opened, in reverse: the recorder's last
// records, the kept prompts, then the database. The recorder's error is
// returned: records it could not write are lost.
func (a *app) close(ctx context.Context) error {
	var err error
	if a.recorder != nil {
		err = a.recorder.Close(ctx)
		a.recorder = nil
	}
	if a.keeper != nil {
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.Server.ShutdownTimeout)
		a.keeper.Close(kctx)
		cancel()
		a.keeper = nil
	}
	if a.store != nil {
		a.store.Close()
		a.store = nil
	}
	return err
}

// seededRand returns a goroutine-safe uniform source seeded with seed, or
// nil (the router's default, seeded by the runtime) when seed is zero.
func seededRand(seed uint64) func() float64 {
	if seed == 0 {
		return nil
	}
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

// newGate returns the API-key gate, its keys loaded. A database that
// cannot be read now leaves it knowing no key until the next sync: with
// keys required, requests get 401 meanwhile rather than going unchecked.
func newGate(ctx context.Context, cfg *config.Config, st *store.Store, db *outage.Tracker, log *slog.Logger) *keys.Gate {
	gate := keys.NewGate(keys.Options{
		Outage: db,
		Store:  st,
		Pacing: keys.Pacing{
			Goal:      cfg.Routing.KeepQuality,
			Floor:     cfg.Keys.KeepQualityFloor,
			StepShare: cfg.Keys.PaceStep,
			MaxSteps:  cfg.Keys.MaxSteps,
		},
		Logger: log,
	})
	if err := gate.Sync(ctx); err != nil {
		log.Warn("load API keys", "err", err)
	}
	if !cfg.Server.RequireKeys {
		log.Warn("API keys are not required (server.require_keys is off): anyone who reaches the port can spend")
	}
	return gate
}
