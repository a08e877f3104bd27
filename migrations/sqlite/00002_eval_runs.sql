-- Offline evaluation runs (switchyard eval), shown on the admin page.
-- params and result are the command's options and its JSON result.

-- +goose Up
CREATE TABLE eval_runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TIMESTAMP NOT NULL,
    dataset    TEXT NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',
    result     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX eval_runs_created_at_idx ON eval_runs (created_at);

-- +goose Down
DROP TABLE eval_runs;
