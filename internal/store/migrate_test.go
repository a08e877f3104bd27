package store_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
)

func TestMigrations(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		status := func() []store.MigrationState {
			t.Helper()
			st, err := s.MigrationStatus(ctx)
			if err != nil {
				t.Fatalf("MigrationStatus: %v", err)
			}
			if len(st) == 0 || st[0].Version != 1 || st[0].Source != "00001_init.sql" {
				t.Fatalf("MigrationStatus = %+v, want 00001_init.sql first", st)
			}
			return st
		}
		for _, m := range status() {
			if !m.Applied || m.At.IsZero() {
				t.Errorf("after Migrate: %+v, want applied with a time", m)
			}
		}
		// Migrate again is a no-op.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}

		// Roll every migration back: the schema is gone.
		for range status() {
			if err := s.MigrateDown(ctx); err != nil {
				t.Fatalf("MigrateDown: %v", err)
			}
		}
		for _, m := range status() {
			if m.Applied || !m.At.IsZero() {
				t.Errorf("after MigrateDown: %+v, want pending", m)
			}
		}
		if _, err := s.CountRequests(ctx); err == nil {
			t.Error("CountRequests after rolling back: got nil error, want no such table")
		}
		if err := s.MigrateDown(ctx); err == nil {
			t.Error("MigrateDown with nothing applied: got nil error, want one")
		}

		// And up again.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate after down: %v", err)
		}
		if n, err := s.CountRequests(ctx); err != nil || n != 0 {
			t.Errorf("CountRequests after re-migrating = %d, %v; want 0, nil", n, err)
		}
	})
}
