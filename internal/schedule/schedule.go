// Package schedule runs a job on a cron schedule (robfig/cron), for the
// learner inside `switchyard serve`. It lives apart from learner so that
// what imports the learner's fitting and gating (eval, for one) is not
// built from the scheduler.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler runs a job on a cron schedule in UTC: never two runs at once
// (a run still going when the next is due skips that one), a panicking
// run is recovered and logged, and Stop waits for a running job.
type Scheduler struct {
	cron   *cron.Cron
	cancel context.CancelFunc
}

// New schedules run on spec (five cron fields or a descriptor
// such as "@every 1h"). Each run gets a context that Stop cancels when
// its deadline passes, bounded by timeout when it is positive.
func New(spec string, timeout time.Duration, run func(ctx context.Context), log *slog.Logger) (*Scheduler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cl := cronLogger{log.With("component", "learner-cron")}
	c := cron.New(
		cron.WithLocation(time.UTC),
		cron.WithLogger(cl),
		// Recover inside SkipIfStillRunning: the other way round, a panic
		// would skip past Skip's release and every later run would be
		// skipped as "still running".
		cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
	)
	// Runs outlive no Stop: their parent is cancelled there.
	base, cancel := context.WithCancel(context.Background())
	_, err := c.AddFunc(spec, func() {
		ctx := base
		if timeout > 0 {
			var done context.CancelFunc
			ctx, done = context.WithTimeout(base, timeout)
			defer done()
		}
		run(ctx)
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("learner schedule %q: %w", spec, err)
	}
	return &Scheduler{cron: c, cancel: cancel}, nil
}

// Start starts the schedule in its own goroutine.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling and waits for a running job to finish; when ctx
// ends first, the job's context is cancelled and Stop waits for it to
// return, then reports ctx's error.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	select {
	case <-done.Done():
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	<-done.Done()
	return fmt.Errorf("stop learner: a run was cancelled: %w", ctx.Err())
}

// cronLogger adapts slog to cron's logr-style Logger. Cron's Info lines
// (schedule, wake, run) are debug noise here; skips and panics are not.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		l.log.Warn("learner still running; skipping this run", kv...)
		return
	}
	l.log.Debug(msg, kv...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(msg, append([]any{"err", err}, kv...)...)
}
