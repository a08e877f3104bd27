-- Who changed the active routing-table version, when, from where, and
-- from which version to which (router.AuditEntry): promotions and
-- rollbacks from the admin page and the command line, the learner's own
-- promotions, and learner runs an operator started. A row is written in
-- the same transaction as the change it records.

-- +goose Up
CREATE TABLE version_audit (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('promote', 'rollback', 'learn')),
    from_version BIGINT REFERENCES table_versions (id),
    to_version   BIGINT REFERENCES table_versions (id),
    actor        TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX version_audit_from_idx ON version_audit (from_version);
CREATE INDEX version_audit_to_idx ON version_audit (to_version);

-- +goose Down
DROP TABLE version_audit;
