// Package store keeps Switchyard's state in SQL: request records, the
// persistent classification cache, routing-table versions and (later)
// outcomes. It runs on Postgres or on a local SQLite file, and it is the
// only package that imports gorm; callers see router types and router
// errors, never gorm or driver types.
//
// The schema belongs to the SQL files in migrations/, applied by goose;
// gorm only queries.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialects the store speaks.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	log     *slog.Logger
	now     func() time.Time
}

// Open connects to the database named by rawURL: "postgres://..." (or
// "postgresql://...") for Postgres, "sqlite:PATH" or a bare file path for
// SQLite ("sqlite::memory:" for a private in-memory database). It does not
// migrate; call Migrate. The password in rawURL is never logged.
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialect, dsn, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		// Every multi-statement write here runs in an explicit transaction;
		// gorm's implicit one per statement would only add round trips.
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		Logger: quietErrors{logger.NewSlogLogger(log.With("component", "store"), logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			IgnoreRecordNotFoundError: true,
			// Never log row values: they include prompt hashes and analyses.
			ParameterizedQueries: true,
			LogLevel:             logger.Warn,
		})},
	}
	var dialector gorm.Dialector
	switch dialect {
	case DialectPostgres:
		dialector = postgres.Open(dsn)
	case DialectSQLite:
		if dsn != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(dsn), 0o755); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		dialector = sqlite.Open(sqliteDSN(dsn))
	}
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", dialect, redact(rawURL), err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == DialectSQLite {
		// SQLite allows one writer at a time; a single connection queues
		// writers in Go instead of failing them with SQLITE_BUSY, and keeps
		// an in-memory database one database rather than one per connection.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
	} else {
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(8)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	s := &Store{db: db, dialect: dialect, log: log, now: time.Now}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s database %s: %w", dialect, redact(rawURL), err)
	}
	log.Info("database opened", "dialect", dialect, "url", redact(rawURL))
	return s, nil
}

// parseURL splits a database URL into a dialect and the driver's DSN.
func parseURL(rawURL string) (dialect, dsn string, err error) {
	switch {
	case rawURL == "":
		return "", "", errors.New("database url is empty")
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return DialectPostgres, rawURL, nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		dsn = strings.TrimPrefix(rawURL, "sqlite://")
	case strings.HasPrefix(rawURL, "sqlite:"):
		dsn = strings.TrimPrefix(rawURL, "sqlite:")
	case strings.Contains(rawURL, "://"):
		return "", "", fmt.Errorf("database url %s: unsupported scheme (want postgres:// or sqlite:)", redact(rawURL))
	default:
		dsn = rawURL
	}
	if dsn == "" {
		return "", "", fmt.Errorf("database url %q: no file path", rawURL)
	}
	// The driver reads options after '?'; a path with one would be cut.
	if strings.Contains(dsn, "?") {
		return "", "", fmt.Errorf("database url %q: sqlite path must not contain '?'", rawURL)
	}
	return DialectSQLite, dsn, nil
}

// sqliteDSN adds the connection settings every SQLite connection needs:
// WAL so readers in other processes do not block the writer, a busy
// timeout so another process's writer is waited for rather than failed,
// foreign keys on, and BEGIN IMMEDIATE so a transaction takes the write
// lock up front instead of failing halfway when it upgrades.
func sqliteDSN(path string) string {
	return path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// redact hides the password of a URL so it can be logged.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		if strings.Contains(rawURL, "@") {
			// Unparseable but may hold credentials: say nothing of it.
			return "(unparseable url)"
		}
		return rawURL
	}
	return u.Redacted()
}

// Dialect returns "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the database connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// quietErrors is gorm's logger without its line per failed query: every
// error is returned to a caller that reports it with context (or counts
// it into an outage), so a line here too would flood the log during a
// database outage (issue 12, item 5). Slow queries are still logged.
type quietErrors struct{ logger.Interface }

func (q quietErrors) LogMode(l logger.LogLevel) logger.Interface {
	return quietErrors{q.Interface.LogMode(l)}
}

func (q quietErrors) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil {
		return
	}
	q.Interface.Trace(ctx, begin, fc, nil)
}
