-- The initial schema. Money is integer micro-USD (BIGINT); times are
-- TIMESTAMPTZ written in UTC; structured fields are JSONB.

-- +goose Up
CREATE TABLE requests (
    id                    TEXT PRIMARY KEY,
    created_at            TIMESTAMPTZ NOT NULL,
    endpoint              TEXT NOT NULL DEFAULT '',
    prompt_hash           TEXT NOT NULL DEFAULT '',
    analysis              JSONB NOT NULL DEFAULT '{}',
    complexity            TEXT NOT NULL DEFAULT '',
    category              TEXT NOT NULL DEFAULT '',
    model                 TEXT NOT NULL DEFAULT '',
    provider              TEXT NOT NULL DEFAULT '',
    table_version         BIGINT NOT NULL DEFAULT 0,
    prompt_tokens         BIGINT NOT NULL DEFAULT 0,
    completion_tokens     BIGINT NOT NULL DEFAULT 0,
    cost_micros           BIGINT NOT NULL DEFAULT 0,
    estimated_cost_micros BIGINT NOT NULL DEFAULT 0,
    baseline_cost_micros  BIGINT NOT NULL DEFAULT 0,
    latency_ms            BIGINT NOT NULL DEFAULT 0,
    status                TEXT NOT NULL DEFAULT '',
    attempts              JSONB NOT NULL DEFAULT '[]',
    error                 TEXT NOT NULL DEFAULT '',
    -- The chance that routing picked this model (exploration): past traffic
    -- can then score another table without bias.
    propensity            DOUBLE PRECISION NOT NULL DEFAULT 1,
    explored              BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX requests_created_at_idx ON requests (created_at);
CREATE INDEX requests_complexity_model_idx ON requests (complexity, model);

-- The classifier's persistent cache tier, keyed by router.HashPrompt.
CREATE TABLE classifications (
    "key"      TEXT PRIMARY KEY,
    analysis   JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    hits       BIGINT NOT NULL DEFAULT 0
);

-- Routing-table versions are immutable once written, except status.
CREATE TABLE table_versions (
    id         BIGSERIAL PRIMARY KEY,
    parent_id  BIGINT REFERENCES table_versions (id),
    status     TEXT NOT NULL CHECK (status IN ('candidate', 'active', 'retired')),
    source     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    table_json JSONB NOT NULL,
    provenance JSONB NOT NULL DEFAULT '{}'
);
-- At most one version is active.
CREATE UNIQUE INDEX table_versions_one_active ON table_versions (status) WHERE status = 'active';

-- Outcome signals the learner learns from: explicit feedback and the
-- automatic signals derived from each request record as it is written.
-- No foreign key to requests: request rows are written asynchronously, so
-- feedback can arrive first; readers join on request_id.
CREATE TABLE outcomes (
    id          BIGSERIAL PRIMARY KEY,
    request_id  TEXT NOT NULL,
    -- Index into the request's attempts; -1 means the answer, whichever
    -- attempt gave it (feedback, which may precede the request row).
    attempt     INTEGER NOT NULL DEFAULT -1,
    model       TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    score       DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1),
    weight      DOUBLE PRECISION NOT NULL DEFAULT 1 CHECK (weight >= 0),
    cost_micros BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
-- One signal of a source per attempt: a second feedback replaces the
-- first, and a request batch written twice adds no signals.
CREATE UNIQUE INDEX outcomes_once ON outcomes (request_id, attempt, source);
CREATE INDEX outcomes_created_at_idx ON outcomes (created_at);

-- +goose Down
DROP TABLE outcomes;
DROP TABLE table_versions;
DROP TABLE classifications;
DROP TABLE requests;
