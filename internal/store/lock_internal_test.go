package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestLearnerLockLeaseLapses: a SQLite lock whose holder died (never
// released) is taken over once its lease has passed, not before.
func TestLearnerLockLeaseLapses(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "lock.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	if _, ok, err := s.TryLearnerLock(ctx); err != nil || !ok {
		t.Fatalf("first take = %v, %v", ok, err)
	}
	// The holder dies: no unlock.
	now = now.Add(learnerLease - time.Second)
	if _, ok, err := s.TryLearnerLock(ctx); err != nil || ok {
		t.Errorf("take within the lease = %v, %v; want not ok", ok, err)
	}
	now = now.Add(2 * time.Second)
	if _, ok, err := s.TryLearnerLock(ctx); err != nil || !ok {
		t.Errorf("take after the lease = %v, %v; want the lock", ok, err)
	}
}
