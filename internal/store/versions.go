package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// versionRow is one row of the table_versions table.
type versionRow struct {
	ID         int64         `gorm:"column:id;primaryKey;autoIncrement"`
	ParentID   sql.NullInt64 `gorm:"column:parent_id"`
	Status     string        `gorm:"column:status"`
	Source     string        `gorm:"column:source"`
	Note       string        `gorm:"column:note"`
	CreatedAt  time.Time     `gorm:"column:created_at"`
	TableJSON  string        `gorm:"column:table_json"`
	Provenance string        `gorm:"column:provenance"`
	// Policy is the version's router.PromptPolicy as JSON; empty for none.
	Policy string `gorm:"column:policy"`
}

func (versionRow) TableName() string { return "table_versions" }

// versionsLockKey names the Postgres advisory lock that serialises
// changes to which version is active, across replicas.
const versionsLockKey = 0x5377_7961_7264 // "Swyard"

func toVersionRow(v router.Version) (versionRow, error) {
	tbl, err := json.Marshal(v.Table)
	if err != nil {
		return versionRow{}, fmt.Errorf("encode table: %w", err)
	}
	prov, err := json.Marshal(v.Provenance)
	if err != nil {
		return versionRow{}, fmt.Errorf("encode provenance: %w", err)
	}
	var policy []byte
	if v.Policy != nil {
		if policy, err = json.Marshal(v.Policy); err != nil {
			return versionRow{}, fmt.Errorf("encode policy: %w", err)
		}
	}
	return versionRow{
		ID:         v.ID,
		ParentID:   sql.NullInt64{Int64: v.ParentID, Valid: v.ParentID != 0},
		Status:     string(v.Status),
		Source:     v.Source,
		Note:       v.Note,
		CreatedAt:  dbTime(v.CreatedAt),
		TableJSON:  string(tbl),
		Provenance: string(prov),
		Policy:     string(policy),
	}, nil
}

func (r versionRow) version() (router.Version, error) {
	v := router.Version{
		ID:        r.ID,
		ParentID:  r.ParentID.Int64,
		Status:    router.Status(r.Status),
		Source:    r.Source,
		Note:      r.Note,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.TableJSON), &v.Table); err != nil {
		return router.Version{}, fmt.Errorf("version %d: decode table: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Provenance), &v.Provenance); err != nil {
		return router.Version{}, fmt.Errorf("version %d: decode provenance: %w", r.ID, err)
	}
	if r.Policy != "" {
		v.Policy = new(router.PromptPolicy)
		if err := json.Unmarshal([]byte(r.Policy), v.Policy); err != nil {
			return router.Version{}, fmt.Errorf("version %d: decode policy: %w", r.ID, err)
		}
	}
	// Times inside provenance come back in UTC like every other time.
	if !v.Provenance.WindowFrom.IsZero() {
		v.Provenance.WindowFrom = v.Provenance.WindowFrom.UTC()
	}
	if !v.Provenance.WindowTo.IsZero() {
		v.Provenance.WindowTo = v.Provenance.WindowTo.UTC()
	}
	return v, nil
}

// lockVersions serialises writers of version status within tx. SQLite
// needs nothing: its transactions begin IMMEDIATE, holding the only write
// lock.
func (s *Store) lockVersions(tx *gorm.DB) error {
	if s.dialect != DialectPostgres {
		return nil
	}
	return tx.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(versionsLockKey)).Error
}

// SeedVersion makes t version 1, active, with source "config", when no
// version exists yet, and returns it; otherwise it returns the active
// version and ignores t. Replicas seeding at once end with one version 1.
func (s *Store) SeedVersion(ctx context.Context, t router.Table) (router.Version, error) {
	row, err := toVersionRow(router.Version{
		ID:        1,
		Status:    router.StatusActive,
		Source:    "config",
		Note:      "seeded from the configured routing table",
		CreatedAt: s.now(),
		Table:     t,
	})
	if err != nil {
		return router.Version{}, fmt.Errorf("seed version: %w", err)
	}
	var out router.Version
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockVersions(tx); err != nil {
			return err
		}
		// An explicit id 1 and DO NOTHING make the seed idempotent: a
		// second seeder, here or in another replica, conflicts on the key
		// and falls through to reading the winner's version.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 && s.dialect == DialectPostgres {
			// An explicit id does not advance the sequence; do it, or the
			// next CreateVersion would collide with version 1.
			err := tx.Exec(`SELECT setval(pg_get_serial_sequence('table_versions', 'id'), (SELECT MAX(id) FROM table_versions))`).Error
			if err != nil {
				return err
			}
		}
		out, err = activeVersion(tx)
		return err
	})
	if err != nil {
		return router.Version{}, fmt.Errorf("seed version: %w", err)
	}
	return out, nil
}

// ActiveVersion returns the active version, or a router.KindNotFound error
// when none is.
func (s *Store) ActiveVersion(ctx context.Context) (router.Version, error) {
	v, err := activeVersion(s.db.WithContext(ctx))
	if err != nil {
		return router.Version{}, fmt.Errorf("active version: %w", err)
	}
	return v, nil
}

func activeVersion(db *gorm.DB) (router.Version, error) {
	var row versionRow
	err := db.Where("status = ?", string(router.StatusActive)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return router.Version{}, router.Errorf(router.KindNotFound, "version", "no active routing-table version")
	}
	if err != nil {
		return router.Version{}, err
	}
	return row.version()
}

// GetVersion returns version id, or a router.KindNotFound error.
func (s *Store) GetVersion(ctx context.Context, id int64) (router.Version, error) {
	var row versionRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return router.Version{}, router.Errorf(router.KindNotFound, "version", "no routing-table version %d", id)
	}
	if err != nil {
		return router.Version{}, fmt.Errorf("get version %d: %w", id, err)
	}
	return row.version()
}

// ListVersions returns every version, newest first.
func (s *Store) ListVersions(ctx context.Context) ([]router.Version, error) {
	var rows []versionRow
	if err := s.db.WithContext(ctx).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	out := make([]router.Version, 0, len(rows))
	for _, r := range rows {
		v, err := r.version()
		if err != nil {
			return nil, fmt.Errorf("list versions: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// CreateVersion stores v as a new version and returns it with its id and
// creation time. v.ID is ignored. An empty v.Status means candidate; an
// active v retires the active version in the same transaction. An unknown
// status or a ParentID that names no version is a router.KindInvalid
// error.
func (s *Store) CreateVersion(ctx context.Context, v router.Version) (router.Version, error) {
	v.ID = 0
	switch v.Status {
	case "":
		v.Status = router.StatusCandidate
	case router.StatusCandidate, router.StatusActive, router.StatusRetired:
	default:
		return router.Version{}, router.Errorf(router.KindInvalid, "status", "unknown version status %q", v.Status)
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = s.now()
	}
	row, err := toVersionRow(v)
	if err != nil {
		return router.Version{}, fmt.Errorf("create version: %w", err)
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if v.Status == router.StatusActive {
			if err := s.lockVersions(tx); err != nil {
				return err
			}
			if err := retireActive(tx); err != nil {
				return err
			}
		}
		return tx.Create(&row).Error
	})
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return router.Version{}, router.Errorf(router.KindInvalid, "parent_id", "no routing-table version %d", v.ParentID)
	}
	if err != nil {
		return router.Version{}, fmt.Errorf("create version: %w", err)
	}
	return row.version()
}

func retireActive(tx *gorm.DB) error {
	return tx.Model(&versionRow{}).
		Where("status = ?", string(router.StatusActive)).
		Update("status", string(router.StatusRetired)).Error
}

// Promote makes version id the active one and retires the version that
// was, in one transaction. Promoting the active version changes nothing.
// An unknown id is a router.KindNotFound error. Nothing is audited: use
// Activate (through router.Apply) for an operator's change.
func (s *Store) Promote(ctx context.Context, id int64) error {
	_, err := s.promote(ctx, id, 0, nil)
	return err
}

// learnerActor is who the audit names for the learner's own promotions.
const learnerActor = "learner"

// PromoteOver is Promote only while version expect is still the active
// one: a learner that fitted its candidate against expect must not undo an
// operator's promotion made meanwhile. Otherwise it is a
// router.KindConflict error and nothing changes. It is the learner's
// promotion: the audit records it with actor "learner".
func (s *Store) PromoteOver(ctx context.Context, id, expect int64) error {
	_, err := s.promote(ctx, id, expect, &router.AuditEntry{Action: router.ActionPromote, From: expect, To: id, Actor: learnerActor})
	return err
}

// Activate makes version e.To active only while version e.From is the
// active one (zero: none is), and records e, in one transaction; a stale
// e.From is a router.KindConflict error and nothing changes. It returns
// e as stored. It implements router.VersionChanger.
func (s *Store) Activate(ctx context.Context, e router.AuditEntry) (router.AuditEntry, error) {
	return s.promote(ctx, e.To, e.From, &e)
}

var _ router.VersionChanger = (*Store)(nil)

// promote promotes id. A non-zero expect must be the active version, and
// so must "none" when audit says the change was planned from none. A
// non-nil audit is written in the same transaction when the active
// version changes.
func (s *Store) promote(ctx context.Context, id, expect int64, audit *router.AuditEntry) (router.AuditEntry, error) {
	var written router.AuditEntry
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockVersions(tx); err != nil {
			return err
		}
		var row versionRow
		err := tx.Select("id", "status").Where("id = ?", id).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return router.Errorf(router.KindNotFound, "version", "no routing-table version %d", id)
		}
		if err != nil {
			return err
		}
		if expect != 0 || audit != nil {
			var active versionRow
			err := tx.Select("id").Where("status = ?", string(router.StatusActive)).Take(&active).Error
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			if active.ID != expect {
				return router.Errorf(router.KindConflict, "version", "the active version is %s, not %s: it changed meanwhile", versionName(active.ID), versionName(expect))
			}
		}
		if row.Status == string(router.StatusActive) {
			return nil
		}
		if err := retireActive(tx); err != nil {
			return err
		}
		err = tx.Model(&versionRow{}).Where("id = ?", id).
			Update("status", string(router.StatusActive)).Error
		if err != nil || audit == nil {
			return err
		}
		written, err = insertAudit(tx, *audit, s.now())
		return err
	})
	if err != nil {
		return router.AuditEntry{}, fmt.Errorf("promote version %d: %w", id, err)
	}
	s.log.Info("routing-table version promoted", "version", id)
	return written, nil
}

// versionName is "v7", or "none" for zero.
func versionName(id int64) string {
	if id == 0 {
		return "none"
	}
	return fmt.Sprintf("v%d", id)
}
