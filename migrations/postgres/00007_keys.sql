-- API keys, their budgets and limits, and the usage counters replicas
-- share. A key's secret is never stored: only its SHA-256 (hex) and a
-- short prefix for display. Budgets are integer micro-USD.
-- key_usage holds one row per key and window ("m:YYYYMMDDhhmm" for the
-- per-minute limits, "day:…", "week:…", "month:…" for budget periods);
-- each replica adds its counts in batches (package keys).

-- +goose Up
CREATE TABLE api_keys (
    id             BIGSERIAL PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    prefix         TEXT NOT NULL,
    hash           TEXT NOT NULL UNIQUE,
    budget_micros  BIGINT NOT NULL DEFAULT 0 CHECK (budget_micros >= 0),
    period         TEXT NOT NULL DEFAULT '' CHECK (period IN ('', 'day', 'week', 'month')),
    rpm            BIGINT NOT NULL DEFAULT 0 CHECK (rpm >= 0),
    tpm            BIGINT NOT NULL DEFAULT 0 CHECK (tpm >= 0),
    max_in_flight  BIGINT NOT NULL DEFAULT 0 CHECK (max_in_flight >= 0),
    keep_quality   DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (keep_quality >= 0 AND keep_quality <= 1),
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);

CREATE TABLE key_usage (
    key_id      BIGINT NOT NULL REFERENCES api_keys (id),
    "window"    TEXT NOT NULL,
    requests    BIGINT NOT NULL DEFAULT 0,
    tokens      BIGINT NOT NULL DEFAULT 0,
    cost_micros BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, "window")
);

-- Which key a request came with (its name, empty without keys), and
-- "pacing" when its budget moved it to cheaper models.
ALTER TABLE requests ADD COLUMN key_name TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN budget TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_key_name_idx ON requests (key_name, created_at);

-- +goose Down
DROP INDEX requests_key_name_idx;
ALTER TABLE requests DROP COLUMN budget;
ALTER TABLE requests DROP COLUMN key_name;
DROP TABLE key_usage;
DROP TABLE api_keys;
