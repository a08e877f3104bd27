package store

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchyard/switchyard/migrations"
)

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Version int64
	Source  string    // file name, for example "00001_init.sql"
	Applied bool      // false: pending
	At      time.Time // when it was applied; zero when pending
}

// provider returns a goose provider over the embedded migrations of the
// store's dialect. goose gets the *sql.DB, so it needs no driver of its
// own (and registers none).
func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := migrations.FS(s.dialect)
	if err != nil {
		return nil, err
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		// Only our embedded files count, not migrations some other
		// package registered in goose's global registry.
		goose.WithDisableGlobalRegistry(true),
		// Migration numbers are handed out ahead of time to work that
		// merges in any order; a database that already has a later one
		// must still take an earlier one that arrives after it.
		goose.WithAllowOutofOrder(true),
	}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		// Replicas starting together take turns: an advisory lock held
		// for the whole run.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, fsys, opts...)
}

// Migrate applies every pending migration, each in its own transaction.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	for {
		before, verr := p.GetDBVersion(ctx)
		results, err := p.Up(ctx)
		for _, r := range results {
			if r.Error == nil {
				s.log.Info("migration applied", "version", r.Source.Version, "file", path.Base(r.Source.Path), "duration", r.Duration)
			}
		}
		if err == nil {
			return nil
		}
		// goose has no lock for SQLite, so two processes migrating one
		// file at once may both run the same migration; the loser's
		// transaction fails and rolls back. If the schema version moved
		// meanwhile, someone made progress: go on from where it is now.
		// A migration that is simply broken moves nothing and is
		// reported.
		if s.dialect != DialectSQLite || verr != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		after, aerr := p.GetDBVersion(ctx)
		if aerr != nil || after <= before {
			return fmt.Errorf("migrate up: %w", err)
		}
		s.log.Info("schema migrated concurrently by another process, retrying", "version", after, "err", err)
	}
}

// MigrateDown rolls back the most recently applied migration. It returns
// an error when there is none.
func (s *Store) MigrateDown(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	r, err := p.Down(ctx)
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	s.log.Info("migration rolled back", "version", r.Source.Version, "file", path.Base(r.Source.Path))
	return nil
}

// MigrationStatus lists every known migration, oldest first.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, m := range st {
		ms := MigrationState{
			Version: m.Source.Version,
			Source:  path.Base(m.Source.Path),
			Applied: m.State == goose.StateApplied,
		}
		if ms.Applied {
			ms.At = m.AppliedAt.UTC()
		}
		out = append(out, ms)
	}
	return out, nil
}
