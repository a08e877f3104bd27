package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/httpapi"
	"github.com/switchyard/switchyard/internal/metrics"
	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/internal/provider"
	"github.com/switchyard/switchyard/internal/recorder"
	"github.com/switchyard/switchyard/internal/schedule"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
	"github.com/switchyard/switchyard/web"
)

// defaultDatabase is where a newcomer's data lives when DATABASE_URL is
// unset: an SQLite file, nothing to install.
const defaultDatabase = "sqlite:data/switchyard.db"

// tablePollInterval is how often serve looks for a newly promoted table
// version, so a promotion goes live on every replica without a restart.
const tablePollInterval = 5 * time.Second

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{"help requested"}
		}
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = defaultDatabase
	}
	st, err := store.Open(ctx, url, log)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", config.RedactURL(url), err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return st, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded configuration)")
	addr := fs.String("addr", "", "listen address, overriding server.addr (e.g. :8080, 127.0.0.1:0)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath, getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	log := newLogger(stderr)

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	version, err := loadTable(ctx, st, cfg, log)
	if err != nil {
		return err
	}

	clients := make(map[string]*provider.Client, len(cfg.Providers))
	completers := make(map[string]router.Completer, len(cfg.Providers))
	for _, p := range cfg.Providers {
		c := provider.New(p, provider.Options{Logger: log})
		clients[p.Name] = c
		completers[p.Name] = c
	}

	// One tracker for the database: an outage is one line when it starts,
	// a summary every 30s with the records waiting, one when it ends.
	dbOutage := outage.New("database", log, outage.Options{})
	cascade := classify.CascadeOptions{
		Outage:         dbOutage,
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
	local := classify.NewLocalTier(classify.LocalTierOptions{
		Store: st, Cascade: casc, Models: cfg.Catalog(), Enabled: cfg.Classifier.Local.Enabled,
		Threshold: cfg.Classifier.Local.Threshold, MinSamples: cfg.Classifier.Local.MinSamples, Logger: log,
	})
	predictor := local.Load(ctx, version)
	var classifier router.Classifier = casc
	if cfg.Learner.KeepPrompts {
		// Prompts are kept off the reply's path; the last are written on
		// the way out, before the store closes (defers run in reverse).
		keeper := classify.NewKeeper(casc, st, classify.KeeperOptions{Logger: log})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
			defer cancel()
			keeper.Close(ctx)
		}()
		classifier = keeper
	}

	rec := recorder.New(st, recorder.Options{Logger: log, Outage: dbOutage})
	dbOutage.SetWaiting(rec.Pending)
	gate := newGate(ctx, cfg, st, log)
	var svc *router.Service
	var api *httpapi.Server
	mx := metrics.New(metrics.Gauges{
		InFlight:     func() int64 { return api.InFlight() },
		Refused:      func() uint64 { return api.Refused() },
		Pending:      rec.Pending,
		Providers:    func() []router.ProviderHealth { return svc.Providers() },
		TableVersion: func() int64 { return svc.Version().ID },
		BucketPSI:    bucketPSI(st, log),
	})
	svc, err = router.NewService(router.Options{
		Models:     cfg.Catalog(),
		Completers: completers,
		Classifier: classifier,
		Recorder:   gate.Recorder(mx.Recorder(rec)),
		Baseline:   cfg.Baseline,
		Version:    version,
		Predictor:  predictor,
		LabelShare: cfg.Classifier.Local.LabelShare,
		Timeout:    cfg.Server.AttemptTimeout,
		// A silent upstream costs seconds, not the attempt timeout.
		FirstByteTimeout: cfg.Server.FirstByteTimeout,
		Explore:          cfg.Exploration,
		Rand:             seededRand(cfg.ExplorationSeed),
		Logger:           log,
	})
	if err != nil {
		rec.Close(ctx)
		return err
	}

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
		Outcomes:   st,
		MinSamples: cfg.Learner.MinSamples,
		Keys:       st,
		Providers:  func() []router.ProviderHealth { return svc.Providers() },
		Baseline:   cfg.Baseline,
		Logger:     log,
	})
	api = httpapi.New(httpapi.Options{
		Router:         svc,
		Spend:          st,
		Feedback:       st,
		StoreOutage:    dbOutage,
		Records:        rec,
		Pending:        rec, // feedback may beat its request's row to the database
		Metrics:        mx.Handler(),
		Admin:          admin,
		Baseline:       cfg.Baseline,
		Keys:           gate,
		RequireKeys:    cfg.Server.RequireKeys,
		AdminToken:     cfg.Server.AdminToken,
		MaxBodyBytes:   cfg.Server.MaxBodyBytes,
		RequestTimeout: cfg.Server.RequestTimeout,
		MaxInFlight:    cfg.Server.MaxInFlight,
		Logger:         log,
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

	// activate swaps in a newly promoted version with its local model:
	// the service gets both at once.
	activate := func(ctx context.Context, v router.Version) error {
		return svc.Activate(v, local.Load(ctx, v))
	}
	sched, err := startLearner(cfg, st, activate, log)
	if err != nil {
		rec.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		stopLearner(ctx, sched, log)
		rec.Close(ctx)
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	if cfg.Server.PprofAddr != "" {
		prof, _, err := startPprof(cfg.Server.PprofAddr, log)
		if err != nil {
			ln.Close()
			stopLearner(ctx, sched, log)
			rec.Close(ctx)
			return err
		}
		defer prof.Close()
	}
	// Every request's context descends from reqBase, so the drain
	// deadline can cancel those still running, with a cause.
	reqBase, cancelRequests := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRequests(nil)
	srv := &http.Server{
		Handler:           mx.Instrument(api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return reqBase },
	}
	log.Info("serving", "addr", ln.Addr().String(), "database", st.Dialect(), "table_version", version.ID)
	fmt.Fprintf(stdout, "switchyard listening on http://%s\n", ln.Addr())

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watchTable(bg, st, svc, activate, dbOutage, log)
	}()
	// Key usage keeps syncing until the last request is served; its
	// final sync runs when gateCtx ends.
	gateCtx, stopGate := context.WithCancel(context.WithoutCancel(ctx))
	gateDone := make(chan struct{})
	go func() {
		defer close(gateDone)
		gate.Run(gateCtx, cfg.Keys.SyncInterval)
	}()
	defer func() { stopGate(); <-gateDone }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopBG()
		<-watchDone
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		stopLearner(stopCtx, sched, log)
		rec.Close(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	// SIGTERM: see drain. The records of cancelled requests are taken
	// before the recorder's final flush.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	cancelled := drain(shutdownCtx, api, srv, cancelRequests, cfg.Server.ShutdownTimeout, log)
	stopGate()
	<-gateDone
	stopBG()
	<-watchDone
	// A learner run finishes (or is cancelled) before the database closes.
	stopLearner(shutdownCtx, sched, log)
	if err := rec.Close(shutdownCtx); err != nil {
		return fmt.Errorf("flush records: %w", err)
	}
	if cancelled > 0 {
		return uncleanDrain(cancelled)
	}
	log.Info("stopped")
	return nil
}

// activeVersioner is what watchTable needs of the store.
type activeVersioner interface {
	ActiveVersion(ctx context.Context) (router.Version, error)
}

// watchTable swaps in a newly promoted routing table. A database outage
// leaves the in-memory table in place (FAULTS.md F12).
func watchTable(ctx context.Context, st activeVersioner, svc *router.Service, activate func(context.Context, router.Version) error, db *outage.Tracker, log *slog.Logger) {
	t := time.NewTicker(tablePollInterval)
	defer t.Stop()
	var refused int64 // a version this configuration cannot serve: said once
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := st.ActiveVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				db.Fail("poll routing table", err)
			}
			continue
		}
		db.OK()
		if v.ID == svc.Version().ID || v.ID == refused {
			continue
		}
		if err := activate(ctx, v); err != nil {
			refused = v.ID
			log.Error("activate routing table", "version", v.ID, "err", err)
			continue
		}
		log.Info("routing table changed", "version", v.ID)
	}
}

// startLearner schedules the learner when the config enables it; a
// promotion swaps the service's table at once. It returns nil when the
// learner is disabled.
func startLearner(cfg *config.Config, st *store.Store, activate func(context.Context, router.Version) error, log *slog.Logger) (*schedule.Scheduler, error) {
	if !cfg.Learner.Enabled {
		return nil, nil
	}
	job, err := newLearnerJob(cfg, st, log, func(v router.Version) {
		if err := activate(context.Background(), v); err != nil {
			log.Error("activate learned routing table", "version", v.ID, "err", err)
		}
	})
	if err != nil {
		return nil, err
	}
	sched, err := schedule.New(cfg.Learner.Schedule, cfg.Learner.Timeout, func(ctx context.Context) {
		runLearner(ctx, job, log)
	}, log)
	if err != nil {
		return nil, err
	}
	sched.Start()
	log.Info("learner scheduled", "schedule", cfg.Learner.Schedule, "window", cfg.Learner.Window.String())
	return sched, nil
}

// stopLearner stops the schedule, waiting for a running learner within
// ctx's deadline.
func stopLearner(ctx context.Context, sched *schedule.Scheduler, log *slog.Logger) {
	if sched == nil {
		return
	}
	if err := sched.Stop(ctx); err != nil {
		log.Warn("learner stopped", "err", err)
	}
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
func newGate(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) *keys.Gate {
	gate := keys.NewGate(keys.Options{
		Store: st,
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
