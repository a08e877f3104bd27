-- Nothing: on Postgres the learner's lock is an advisory lock held on one
-- connection for the run (store.TryLearnerLock). SQLite needs a table for
-- it; this file keeps both dialects at the same schema version.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
