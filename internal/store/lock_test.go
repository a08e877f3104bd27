package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/internal/storetest"
)

// TestLearnerLockExcludes opens two stores on one database, as two
// replicas would: while one holds the learner lock the other cannot take
// it, and after the release it can.
func TestLearnerLockExcludes(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			a := storetest.OpenURL(t, url)
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			b := storetest.OpenURL(t, url)

			unlockA, ok, err := a.TryLearnerLock(ctx)
			if err != nil || !ok {
				t.Fatalf("first TryLearnerLock = %v, %v; want the lock", ok, err)
			}
			for name, s := range map[string]interface {
				TryLearnerLock(context.Context) (func(), bool, error)
			}{"other replica": b, "same store": a} {
				if _, ok, err := s.TryLearnerLock(ctx); err != nil || ok {
					t.Errorf("%s while held = %v, %v; want not ok", name, ok, err)
				}
			}
			unlockA()
			unlockB, ok, err := b.TryLearnerLock(ctx)
			if err != nil || !ok {
				t.Fatalf("TryLearnerLock after release = %v, %v; want the lock", ok, err)
			}
			unlockB()
		})
	}
}

// TestLearnerLockRace starts many takers at once: exactly one wins.
func TestLearnerLockRace(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			url := storetest.URL(t, d)
			first := storetest.OpenURL(t, url)
			if err := first.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const n = 4
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				won     int
				unlocks []func()
			)
			for i := range n {
				s := first
				if i > 0 {
					s = storetest.OpenURL(t, url)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					unlock, ok, err := s.TryLearnerLock(ctx)
					if err != nil {
						t.Errorf("TryLearnerLock: %v", err)
						return
					}
					if ok {
						mu.Lock()
						won++
						unlocks = append(unlocks, unlock)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if won != 1 {
				t.Errorf("%d of %d concurrent takers got the lock, want exactly 1", won, n)
			}
			for _, u := range unlocks {
				u()
			}
		})
	}
}
