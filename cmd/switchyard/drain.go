package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/internal/httpapi"
)

// drainReserve is the part of shutdown_timeout kept, after the drain
// deadline, for cancelling what is left, recording it and flushing the
// recorder: at most a quarter of the budget, at most 5s.
func drainReserve(total time.Duration) time.Duration {
	return min(total/4, 5*time.Second)
}

// drainer is what drain needs of the API server.
type drainer interface {
	Drain()
	Active() int64
	WaitIdle(ctx context.Context) bool
}

// drain is serve's SIGTERM: readiness turns 503 "draining" at once and
// new requests are refused while the listener keeps serving those in
// flight; at the drain deadline (shutdown_timeout less drainReserve) the
// rest are cancelled through their context with ErrShuttingDown, so each
// answers its client (an error event for a stream) and records itself
// as cancelled before the recorder's final flush. It returns how many
// requests were cancelled; the listener is closed when it returns.
func drain(ctx context.Context, api drainer, srv *http.Server, cancelRequests context.CancelCauseFunc, total time.Duration, log *slog.Logger) int64 {
	api.Drain()
	srv.SetKeepAlivesEnabled(false) // idle keep-alive connections close now
	log.Info("draining", "in_flight", api.Active(), "deadline", (total - drainReserve(total)).String())

	dctx, cancel := context.WithTimeout(ctx, total-drainReserve(total))
	idle := api.WaitIdle(dctx)
	cancel()
	var cancelled int64
	if !idle {
		cancelled = api.Active()
		log.Warn("drain deadline passed, cancelling the requests still running", "requests", cancelled)
		cancelRequests(httpapi.ErrShuttingDown)
		// Each handler now answers and records; the rest of the budget
		// is the bound.
		if !api.WaitIdle(ctx) {
			log.Error("requests still running after cancellation", "requests", api.Active())
		}
	}
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("close listener", "err", err)
	}
	return cancelled
}

// uncleanDrain is serve's error when requests had to be cancelled: the
// process exits non-zero although every record was written.
func uncleanDrain(n int64) error {
	return fmt.Errorf("drain: %d requests still running at the drain deadline were cancelled (each answered with an error and recorded as cancelled)", n)
}
