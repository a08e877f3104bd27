package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/router"
)

// auditRow is one row of version_audit (migration 00008).
type auditRow struct {
	ID          int64         `gorm:"column:id;primaryKey;autoIncrement"`
	At          time.Time     `gorm:"column:at"`
	Action      string        `gorm:"column:action"`
	FromVersion sql.NullInt64 `gorm:"column:from_version"`
	ToVersion   sql.NullInt64 `gorm:"column:to_version"`
	Actor       string        `gorm:"column:actor"`
	Address     string        `gorm:"column:address"`
	Note        string        `gorm:"column:note"`
	Label       string        `gorm:"column:label"`
}

func (auditRow) TableName() string { return "version_audit" }

func (r auditRow) entry() router.AuditEntry {
	return router.AuditEntry{
		ID: r.ID, At: r.At.UTC(), Action: r.Action,
		From: r.FromVersion.Int64, To: r.ToVersion.Int64,
		Actor: r.Actor, Address: r.Address, Note: r.Note, Label: r.Label,
	}
}

// maxAuditEntries bounds one read of the audit.
const maxAuditEntries = 500

// insertAudit writes e within tx, stamped at now, and returns it as
// stored.
func insertAudit(tx *gorm.DB, e router.AuditEntry, now time.Time) (router.AuditEntry, error) {
	row := auditRow{
		At:          dbTime(now),
		Action:      e.Action,
		FromVersion: sql.NullInt64{Int64: e.From, Valid: e.From != 0},
		ToVersion:   sql.NullInt64{Int64: e.To, Valid: e.To != 0},
		Actor:       e.Actor,
		Address:     e.Address,
		Note:        e.Note,
		Label:       e.Label,
	}
	if err := tx.Create(&row).Error; err != nil {
		return router.AuditEntry{}, fmt.Errorf("write audit entry: %w", err)
	}
	return row.entry(), nil
}

// RecordAudit writes an entry that goes with no change of the active
// version here (a learner run started by hand, whose own promotion
// PromoteOver records), and returns it as stored.
func (s *Store) RecordAudit(ctx context.Context, e router.AuditEntry) (router.AuditEntry, error) {
	return insertAudit(s.db.WithContext(ctx), e, s.now())
}

// Audit returns the entries about version (from it or to it), newest
// first, at most limit (and at most 500); version zero returns every
// entry.
func (s *Store) Audit(ctx context.Context, version int64, limit int) ([]router.AuditEntry, error) {
	if limit <= 0 || limit > maxAuditEntries {
		limit = maxAuditEntries
	}
	q := s.db.WithContext(ctx).Order("id DESC").Limit(limit)
	if version != 0 {
		q = q.Where("from_version = ? OR to_version = ?", version, version)
	}
	var rows []auditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read audit of version %d: %w", version, err)
	}
	out := make([]router.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}
