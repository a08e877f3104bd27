package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// slowOutcomes is a read of the learner's window that takes until its
// context ends, as a long one would.
type slowOutcomes struct{ reading chan struct{} }

func (s slowOutcomes) Observations(ctx context.Context, _, _ time.Time) ([]router.Observation, error) {
	close(s.reading)
	<-ctx.Done()
	return nil, ctx.Err()
}

// A halt (serve's SIGTERM) stops a learner run in progress on either
// database: the run returns at once saying serve is shutting down, has
// written no version, and has released the learner lock on the store
// (PostgreSQL's advisory lock, SQLite's lock row), though its context
// had ended; a run after the halt is refused.
func TestLearnerRunsHalt(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			st := storetest.Open(t, dialect)
			table := router.Table{"simple": {"small"}, "moderate": {"small"}, "complex": {"small"}}
			models := router.Catalog{"small": {Name: "small"}}
			if _, err := router.StartVersion(ctx, st, table, models, nil); err != nil {
				t.Fatal(err)
			}
			reading := make(chan struct{})
			job, err := learner.NewJob(learner.JobOptions{Outcomes: slowOutcomes{reading}, Versions: st, Lock: st, Models: models})
			if err != nil {
				t.Fatal(err)
			}
			runs := newLearnerRuns(job)
			errs := make(chan error, 1)
			go func() {
				_, err := runs.Run(ctx, false)
				errs <- err
			}()
			<-reading
			runs.halt()
			select {
			case err := <-errs:
				if !errors.Is(err, errLearnerHalted) {
					t.Errorf("halted run = %v, want it stopped because serve is shutting down", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the halted run is still running after 10s")
			}
			runs.wait()
			if vs, err := st.ListVersions(ctx); err != nil || len(vs) != 1 {
				t.Errorf("versions = %d, %v; want 1", len(vs), err)
			}
			unlock, ok, err := st.TryLearnerLock(ctx)
			if err != nil || !ok {
				t.Errorf("learner lock after the halted run: %v, %v; want it free", ok, err)
			} else {
				unlock()
			}
			if _, err := runs.Run(ctx, false); !errors.Is(err, errLearnerHalted) {
				t.Errorf("run after the halt = %v, want refused", err)
			}
		})
	}
}
