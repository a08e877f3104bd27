-- Learner runs confirmed on the admin page, one row per confirmation
-- form (its run id, router.LearnRun): the row is claimed before the run
-- starts, so the same form submitted twice runs the learner once and the
-- second submission is shown the first one's result. And an optional
-- label an operator gives for an audit row, beside the token's hash: it
-- names, it does not authenticate.

-- +goose Up
CREATE TABLE learn_runs (
    id          TEXT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    -- NULL while the run goes on.
    finished_at TIMESTAMP,
    status      TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 0,
    reason      TEXT NOT NULL DEFAULT ''
);
ALTER TABLE version_audit ADD COLUMN label TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE version_audit DROP COLUMN label;
DROP TABLE learn_runs;
