package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/schedule"
	"github.com/switchyard/switchyard/router"
)

// serve parses serve's flags, builds the service's pieces (buildApp) and
// runs them until ctx ends.
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
	a, err := buildApp(ctx, cfg, newLogger(stderr))
	if err != nil {
		return err
	}
	return a.run(ctx, stdout)
}

// run serves a on cfg.Server.Addr until ctx ends, with the learner's
// schedule, the routing-table watcher and the key sync beside it, then
// drains (see drain) and closes a. It closes a on every path.
func (a *app) run(ctx context.Context, stdout io.Writer) error {
	cfg, log := a.cfg, a.log
	sched, err := startLearner(cfg, a.learner, log)
	if err != nil {
		a.close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		stopLearner(ctx, sched, log)
		a.close(ctx)
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	if cfg.Server.PprofAddr != "" {
		prof, _, err := startPprof(cfg.Server.PprofAddr, log)
		if err != nil {
			ln.Close()
			stopLearner(ctx, sched, log)
			a.close(ctx)
			return err
		}
		defer prof.Close()
	}
	// Every request's context descends from reqBase, so the drain
	// deadline can cancel those still running, with a cause.
	reqBase, cancelRequests := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRequests(nil)
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return reqBase },
	}
	log.Info("serving", "addr", ln.Addr().String(), "database", a.store.Dialect(), "table_version", a.version.ID)
	fmt.Fprintf(stdout, "switchyard listening on http://%s\n", ln.Addr())

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		var outcomes sync.WaitGroup
		if cfg.Exploration > 0 && !cfg.ExplorationUniform {
			// Exploration aims by the outcomes recorded so far, read
			// over the learner's window.
			outcomes.Go(func() {
				router.WatchOutcomes(bg, router.WatchOutcomesOptions{
					Source: a.store, Set: a.service.SetOutcomes, Routed: a.service.Routed, Window: cfg.Learner.Window, Outage: a.dbOutage, Logger: log,
				})
			})
		}
		router.WatchActive(bg, router.WatchOptions{
			Source:   a.store,
			Current:  a.service.Version,
			Activate: a.activate,
			Outage:   a.dbOutage,
			Logger:   log,
		})
		outcomes.Wait()
	}()
	// Key usage keeps syncing until the last request is served; its
	// final sync runs when gateCtx ends, before the database closes.
	gateCtx, stopGate := context.WithCancel(context.WithoutCancel(ctx))
	gateDone := make(chan struct{})
	go func() {
		defer close(gateDone)
		a.gate.Run(gateCtx, cfg.Keys.SyncInterval)
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
		a.learner.halt()
		stopLearner(stopCtx, sched, log)
		a.learner.wait()
		stopGate()
		<-gateDone
		a.close(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	// SIGTERM: see drain. The records of cancelled requests are taken
	// before the recorder's final flush.
	log.Info("shutting down")
	// A learner run in progress stops now, not at the deadline (see
	// learnerRuns): the budget is the requests' and the recorder's.
	a.learner.halt()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	cancelled := drain(shutdownCtx, a.api, srv, cancelRequests, cfg.Server.ShutdownTimeout, log)
	stopGate()
	<-gateDone
	stopBG()
	<-watchDone
	// The halted learner run returns before the database closes.
	stopLearner(shutdownCtx, sched, log)
	a.learner.wait()
	if err := a.close(shutdownCtx); err != nil {
		return fmt.Errorf("flush records: %w", err)
	}
	if cancelled > 0 {
		return uncleanDrain(cancelled)
	}
	log.Info("stopped")
	return nil
}

// startLearner schedules job when the config enables it. It returns nil
// when the learner is disabled.
func startLearner(cfg *config.Config, job *learnerRuns, log *slog.Logger) (*schedule.Scheduler, error) {
	if !cfg.Learner.Enabled {
		return nil, nil
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
