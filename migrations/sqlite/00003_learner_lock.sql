-- The learner's lock on SQLite: one row while a learner runs, so that two
-- processes on one database file never learn at once. Postgres uses an
-- advisory lock instead (00003 there is empty). expires_at is a lease: a
-- learner that died holding the row blocks the next one only until then.

-- +goose Up
CREATE TABLE learner_locks (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE learner_locks;
