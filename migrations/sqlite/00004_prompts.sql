-- The local classifier's training text and its trained models.
-- prompts holds the normalised text of routed prompts, keyed by
-- router.HashPrompt (requests.prompt_hash), only when learner.keep_prompts
-- is on; the learner prunes it to its window. local_models holds the
-- serialised models (internal/textmodel) by digest, which a table
-- version's provenance names.

-- +goose Up
CREATE TABLE prompts (
    hash       TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL
);
CREATE INDEX prompts_last_seen_idx ON prompts (last_seen);
CREATE INDEX requests_prompt_hash_idx ON requests (prompt_hash);

CREATE TABLE local_models (
    digest     TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    bytes      BLOB NOT NULL
);

-- +goose Down
DROP TABLE local_models;
DROP INDEX requests_prompt_hash_idx;
DROP TABLE prompts;
