// Package storetest gives tests a fresh, migrated store on each dialect,
// the way net/http/httptest gives them a server. SQLite needs nothing;
// Postgres needs a server (SWITCHYARD_TEST_POSTGRES, by default
// postgres://postgres@127.0.0.1:5432/test) where the tests may create and
// drop databases.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchyard/switchyard/internal/store"
)

// DefaultPostgresURL is the admin connection used when
// SWITCHYARD_TEST_POSTGRES is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// setupTimeout bounds creating, opening and migrating one test database.
const setupTimeout = 30 * time.Second

// Dialects lists the dialects every store test runs on.
func Dialects() []string { return []string{store.DialectSQLite, store.DialectPostgres} }

// Open returns a migrated store on an empty database of dialect, closed
// (and, on Postgres, dropped) when the test ends. When Postgres cannot be
// reached the test is skipped, except under CI=true, where it fails: CI
// must never skip the Postgres tests.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	s := OpenURL(t, URL(t, dialect))
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s store: %v", dialect, err)
	}
	return s
}

// URL creates an empty database of dialect for this test and returns the
// URL store.Open takes; the database goes when the test ends. Tests that
// need several stores on one database (replicas) use it with OpenURL.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case store.DialectSQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "switchyard.db")
	case store.DialectPostgres:
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		return createPostgresDB(ctx, t)
	}
	t.Fatalf("storetest: unknown dialect %q", dialect)
	return ""
}

// OpenURL opens a store on dbURL, unmigrated, closed when the test ends.
func OpenURL(t testing.TB, dbURL string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := store.Open(ctx, dbURL, log)
	if err != nil {
		t.Fatalf("storetest: open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: close store: %v", err)
		}
	})
	return s
}

// PostgresURL returns the admin URL tests connect to.
func PostgresURL() string {
	if u := os.Getenv("SWITCHYARD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// createPostgresDB creates a uniquely named database, registers its drop,
// and returns its URL.
func createPostgresDB(ctx context.Context, t testing.TB) string {
	t.Helper()
	adminURL := PostgresURL()
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("storetest: SWITCHYARD_TEST_POSTGRES is not a URL: %v", err)
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		unreachable(t, u, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))

	name := "switchyard_t_" + randomHex(t, 8)
	// The name is ours and only hex, so quoting it is enough.
	if _, err := admin.Exec(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropPostgresDB(t, adminURL, name) })

	u.Path = "/" + name
	return u.String()
}

func dropPostgresDB(t testing.TB, adminURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Errorf("storetest: drop database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	// FORCE (Postgres 13+) ends connections a test left open.
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		t.Errorf("storetest: drop database %s: %v", name, err)
	}
}

// unreachable skips the test, or fails it under CI.
func unreachable(t testing.TB, u *url.URL, err error) {
	t.Helper()
	msg := "storetest: postgres at " + u.Redacted() + " unreachable (set SWITCHYARD_TEST_POSTGRES): " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random name: %v", err)
	}
	return hex.EncodeToString(b)
}
