-- A table version's per-prompt policy (router.PromptPolicy) as JSON: the
-- candidate models and the operating point of the rule that routes each
-- prompt by the local model's predicted success. Empty when the version
-- routes by its bucket table alone. Together with table_json and the
-- local model's digest in provenance it is the whole routing decision.

-- +goose Up
ALTER TABLE table_versions ADD COLUMN policy TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE table_versions DROP COLUMN policy;
