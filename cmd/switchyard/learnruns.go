package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/switchyard/switchyard/learner"
)

// errLearnerHalted is the cause a learner run in progress is cancelled
// with when serve shuts down.
var errLearnerHalted = errors.New("serve is shutting down")

// learnerRuns runs serve's learner, for the schedule and for the admin
// page, under one halt. SIGTERM halts them at once rather than at the
// shutdown deadline: a run is redone whole by the next one, while the
// shutdown budget belongs to the requests draining and the recorder's
// last flush, which a run holding on to the deadline took. A halted run
// stops before its next step and begins no write (learner.Job.Run);
// what it wrote before is whole. serve waits for it before the database
// closes.
type learnerRuns struct {
	job *learner.Job
	// base ends at halt; every run's context ends with it.
	base   context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	halted bool
	wg     sync.WaitGroup
}

func newLearnerRuns(job *learner.Job) *learnerRuns {
	base, cancel := context.WithCancelCause(context.Background())
	return &learnerRuns{job: job, base: base, cancel: cancel}
}

// Run runs the learner once with ctx, cut short by a halt; after a halt
// it runs nothing.
func (l *learnerRuns) Run(ctx context.Context, dryRun bool) (learner.Report, error) {
	l.mu.Lock()
	if l.halted {
		l.mu.Unlock()
		return learner.Report{}, fmt.Errorf("learn: %w", errLearnerHalted)
	}
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(l.base, func() { cancel(context.Cause(l.base)) })
	defer stop()
	rep, err := l.job.Run(ctx, dryRun)
	if err != nil && errors.Is(context.Cause(ctx), errLearnerHalted) && !errors.Is(err, errLearnerHalted) {
		// The store reports a cancelled call as context.Canceled: say why.
		err = fmt.Errorf("%w: %w", errLearnerHalted, err)
	}
	return rep, err
}

// halt cancels the runs in progress and refuses new ones.
func (l *learnerRuns) halt() {
	l.mu.Lock()
	l.halted = true
	l.mu.Unlock()
	l.cancel(errLearnerHalted)
}

// wait returns when no run is in progress. A halted run returns at its
// next step (a database call ends at once with its context; a fit in
// progress is finished first).
func (l *learnerRuns) wait() { l.wg.Wait() }
