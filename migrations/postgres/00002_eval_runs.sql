-- Offline evaluation runs (switchyard eval), shown on the admin page.
-- params and result are the command's options and its JSON result.

-- +goose Up
CREATE TABLE eval_runs (
    id         BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    dataset    TEXT NOT NULL,
    params     JSONB NOT NULL DEFAULT '{}',
    result     JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX eval_runs_created_at_idx ON eval_runs (created_at);

-- +goose Down
DROP TABLE eval_runs;
