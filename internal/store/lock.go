package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// learnerLockKey names the Postgres advisory lock a learner holds for its
// run; distinct from versionsLockKey, which promotions take briefly.
const learnerLockKey = 0x5377_7961_7264_4c // "SwyardL"

// learnerLease is how long a SQLite learner lock lasts without release:
// the bound on how long a learner that died holding it blocks the next.
// Runs are shorter (config.Learner.Timeout is at most an hour).
const learnerLease = time.Hour

// unlockTimeout bounds releasing a lock, which happens after the run's
// context may have ended.
const unlockTimeout = 5 * time.Second

// TryLearnerLock takes the learner lock without waiting: ok is false when
// another learner, in this process or another replica, holds it. The
// caller runs and then calls unlock (once). On Postgres the lock is a
// session advisory lock on one connection taken from the pool for the
// run, so it is released also when the process dies; on SQLite it is a
// row with a lease (learnerLease). err is a database error: then nobody
// holds the lock for the caller and it must not learn.
func (s *Store) TryLearnerLock(ctx context.Context) (unlock func(), ok bool, err error) {
	if s.dialect == DialectPostgres {
		return s.tryAdvisoryLock(ctx)
	}
	return s.tryLockRow(ctx)
}

// tryAdvisoryLock holds pg_try_advisory_lock on a dedicated connection:
// a session lock belongs to the connection, and a pooled one would be
// handed to other queries (or another session's unlock would miss it).
func (s *Store) tryAdvisoryLock(ctx context.Context) (func(), bool, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, false, fmt.Errorf("learner lock: %w", err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("learner lock: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(learnerLockKey)).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("learner lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, int64(learnerLockKey)); err != nil {
			s.log.Warn("release learner lock; closing its connection releases it", "err", err)
		}
		conn.Close()
	}, true, nil
}

// tryLockRow inserts the lock row, or takes it over when its lease has
// lapsed, in one statement: of two learners at once, one changes a row.
func (s *Store) tryLockRow(ctx context.Context) (func(), bool, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("learner lock: %w", err)
	}
	holder := hex.EncodeToString(b[:])
	now := dbTime(s.now())
	res := s.db.WithContext(ctx).Exec(`INSERT INTO learner_locks (name, holder, expires_at) VALUES ('learner', ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE learner_locks.expires_at < ?`, holder, now.Add(learnerLease), now)
	if res.Error != nil {
		return nil, false, fmt.Errorf("learner lock: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
		defer cancel()
		err := s.db.WithContext(ctx).Exec(`DELETE FROM learner_locks WHERE name = 'learner' AND holder = ?`, holder).Error
		if err != nil {
			s.log.Warn("release learner lock; it lapses with its lease", "err", err, "lease", learnerLease)
		}
	}, true, nil
}
