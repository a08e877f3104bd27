package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

// TestLearnRunClaimedOnce: a run id is claimed once; a second claim, at
// once or after the run finished, gets the stored run back, and of
// several concurrent claims exactly one wins, on both databases.
func TestLearnRunClaimedOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const id = "0123456789abcdef0123456789abcdef"
		first, claimed, err := s.ClaimLearnRun(ctx, id)
		if err != nil || !claimed || first.ID != id || first.Started.IsZero() || !first.Finished.IsZero() {
			t.Fatalf("first claim = %+v, %v, %v; want claimed, started, not finished", first, claimed, err)
		}
		again, claimed, err := s.ClaimLearnRun(ctx, id)
		if err != nil || claimed || !again.Started.Equal(first.Started) || !again.Finished.IsZero() {
			t.Errorf("claim while running = %+v, %v, %v; want the running run, not claimed", again, claimed, err)
		}
		if err := s.FinishLearnRun(ctx, router.LearnRun{ID: id, Status: "promoted", Version: 7, Reason: "1 changed bucket"}); err != nil {
			t.Fatalf("FinishLearnRun: %v", err)
		}
		done, claimed, err := s.ClaimLearnRun(ctx, id)
		if err != nil || claimed || done.Status != "promoted" || done.Version != 7 || done.Reason != "1 changed bucket" || done.Finished.IsZero() {
			t.Errorf("claim after the run = %+v, %v, %v; want the finished run, not claimed", done, claimed, err)
		}
		if err := s.FinishLearnRun(ctx, router.LearnRun{ID: "never-claimed"}); router.KindOf(err) != router.KindNotFound {
			t.Errorf("FinishLearnRun(unclaimed) = %v, want not found", err)
		}
		if _, _, err := s.ClaimLearnRun(ctx, ""); router.KindOf(err) != router.KindInvalid {
			t.Errorf("ClaimLearnRun(\"\") = %v, want invalid", err)
		}

		// Two replicas (or two submissions) at once: one wins.
		var wg sync.WaitGroup
		wins := make(chan bool, 4)
		for range cap(wins) {
			wg.Go(func() {
				_, claimed, err := s.ClaimLearnRun(ctx, "raced")
				if err != nil {
					t.Errorf("concurrent claim: %v", err)
				}
				wins <- claimed
			})
		}
		wg.Wait()
		close(wins)
		n := 0
		for w := range wins {
			if w {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d of 4 concurrent claims won, want 1", n)
		}
	})
}
