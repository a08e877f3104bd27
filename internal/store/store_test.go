package store_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/internal/recorder"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
)

var _ recorder.Sink = (*store.Store)(nil)

// eachDialect runs fn on a fresh store of every dialect.
func eachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			fn(t, storetest.Open(t, d))
		})
	}
}

func TestOpenDialect(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if got, want := s.Dialect(), t.Name()[len("TestOpenDialect/"):]; got != want {
			t.Errorf("Dialect() = %q, want %q", got, want)
		}
	})
}

func TestOpenSQLiteForms(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, url string }{
		{"scheme", "sqlite:" + filepath.Join(dir, "a", "b.db")},
		{"bare path", filepath.Join(dir, "c", "d.db")},
		{"memory", "sqlite::memory:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, tt.url, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.url, err)
			}
			defer s.Close()
			if got := s.Dialect(); got != store.DialectSQLite {
				t.Errorf("Dialect() = %q, want sqlite", got)
			}
			// Migrating and then counting proves every connection sees
			// the same database, in memory too.
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := s.CountRequests(ctx); err != nil {
				t.Errorf("CountRequests after Migrate: %v", err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	for _, u := range []string{"", "mysql://u:p@h/db", "sqlite:", "sqlite:/tmp/x.db?mode=ro"} {
		if s, err := store.Open(context.Background(), u, nil); err == nil {
			s.Close()
			t.Errorf("Open(%q): got nil error, want one", u)
		}
	}
}
