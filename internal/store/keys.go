package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

// keyRow is one row of api_keys.
type keyRow struct {
	ID           int64      `gorm:"column:id;primaryKey"`
	Name         string     `gorm:"column:name"`
	Prefix       string     `gorm:"column:prefix"`
	Hash         string     `gorm:"column:hash"`
	BudgetMicros int64      `gorm:"column:budget_micros"`
	Period       string     `gorm:"column:period"`
	RPM          int64      `gorm:"column:rpm"`
	TPM          int64      `gorm:"column:tpm"`
	MaxInFlight  int64      `gorm:"column:max_in_flight"`
	KeepQuality  float64    `gorm:"column:keep_quality"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	RevokedAt    *time.Time `gorm:"column:revoked_at"`
}

func (keyRow) TableName() string { return "api_keys" }

func toKeyRow(k keys.Key) keyRow {
	r := keyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Hash: k.Hash, BudgetMicros: int64(k.Budget), Period: string(k.Period),
		RPM: k.RPM, TPM: k.TPM, MaxInFlight: k.MaxInFlight, KeepQuality: k.KeepQuality, CreatedAt: dbTime(k.CreatedAt)}
	if k.Revoked() {
		t := dbTime(k.RevokedAt)
		r.RevokedAt = &t
	}
	return r
}

func (r keyRow) key() keys.Key {
	k := keys.Key{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Hash: r.Hash, Budget: router.Micros(r.BudgetMicros), Period: keys.Period(r.Period),
		RPM: r.RPM, TPM: r.TPM, MaxInFlight: r.MaxInFlight, KeepQuality: r.KeepQuality, CreatedAt: r.CreatedAt.UTC()}
	if r.RevokedAt != nil {
		k.RevokedAt = r.RevokedAt.UTC()
	}
	return k
}

// CreateKey stores k (its hash, never a secret) and returns it with its
// id. A name already taken, even by a revoked key, is a KindInvalid error
// about name: names attribute spend, so they are never reused.
func (s *Store) CreateKey(ctx context.Context, k keys.Key) (keys.Key, error) {
	if err := k.Validate(); err != nil {
		return keys.Key{}, router.Errorf(router.KindInvalid, "name", "%v", err)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	row := toKeyRow(k)
	row.ID = 0
	err := s.db.WithContext(ctx).Create(&row).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return keys.Key{}, router.Errorf(router.KindInvalid, "name", "a key named %q exists already (names are never reused)", k.Name)
	}
	if err != nil {
		return keys.Key{}, fmt.Errorf("create key %s: %w", k.Name, err)
	}
	return row.key(), nil
}

// Keys returns every key, revoked ones included, by name.
func (s *Store) Keys(ctx context.Context) ([]keys.Key, error) {
	var rows []keyRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := make([]keys.Key, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// KeyByName returns the key called name, or a KindNotFound error.
func (s *Store) KeyByName(ctx context.Context, name string) (keys.Key, error) {
	var row keyRow
	err := s.db.WithContext(ctx).Where("name = ?", name).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return keys.Key{}, router.Errorf(router.KindNotFound, "name", "no key named %q", name)
	}
	if err != nil {
		return keys.Key{}, fmt.Errorf("get key %s: %w", name, err)
	}
	return row.key(), nil
}

// UpdateKey replaces the budget, period, limits and floor of the key
// called k.Name; its secret, prefix and revocation stay.
func (s *Store) UpdateKey(ctx context.Context, k keys.Key) (keys.Key, error) {
	if err := k.Validate(); err != nil {
		return keys.Key{}, router.Errorf(router.KindInvalid, "name", "%v", err)
	}
	res := s.db.WithContext(ctx).Model(&keyRow{}).Where("name = ?", k.Name).Updates(map[string]any{
		"budget_micros": int64(k.Budget), "period": string(k.Period), "rpm": k.RPM, "tpm": k.TPM,
		"max_in_flight": k.MaxInFlight, "keep_quality": k.KeepQuality,
	})
	if res.Error != nil {
		return keys.Key{}, fmt.Errorf("update key %s: %w", k.Name, res.Error)
	}
	if res.RowsAffected == 0 {
		return keys.Key{}, router.Errorf(router.KindNotFound, "name", "no key named %q", k.Name)
	}
	return s.KeyByName(ctx, k.Name)
}

// RevokeKey revokes the key called name at now; revoking twice keeps the
// first time.
func (s *Store) RevokeKey(ctx context.Context, name string, now time.Time) (keys.Key, error) {
	err := s.db.WithContext(ctx).Model(&keyRow{}).Where("name = ? AND revoked_at IS NULL", name).
		Update("revoked_at", dbTime(now)).Error
	if err != nil {
		return keys.Key{}, fmt.Errorf("revoke key %s: %w", name, err)
	}
	return s.KeyByName(ctx, name)
}

// usageRow is one row of key_usage.
type usageRow struct {
	KeyID      int64  `gorm:"column:key_id;primaryKey"`
	Window     string `gorm:"column:window;primaryKey"`
	Requests   int64  `gorm:"column:requests"`
	Tokens     int64  `gorm:"column:tokens"`
	CostMicros int64  `gorm:"column:cost_micros"`
}

func (usageRow) TableName() string { return "key_usage" }

// DeleteUsage deletes the usage counters whose window starts with prefix
// and sorts before before (a window of the same kind) and returns how
// many. The range [prefix, before) is exactly those windows.
func (s *Store) DeleteUsage(ctx context.Context, prefix, before string) (int64, error) {
	if !strings.HasPrefix(before, prefix) {
		return 0, fmt.Errorf("delete key usage: window %q does not start with %q", before, prefix)
	}
	res := s.db.WithContext(ctx).Where(`"window" >= ? AND "window" < ?`, prefix, before).Delete(&usageRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete key usage before %s: %w", before, res.Error)
	}
	return res.RowsAffected, nil
}

var _ keys.UsagePruner = (*Store)(nil)

// SyncUsage adds deltas to the shared counters and returns every counter
// in windows, in one transaction: the addition is an atomic upsert, so
// replicas syncing at once never lose each other's counts.
func (s *Store) SyncUsage(ctx context.Context, deltas []keys.Usage, windows []string) ([]keys.Usage, error) {
	var rows []usageRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, d := range deltas {
			row := usageRow{KeyID: d.KeyID, Window: d.Window, Requests: d.Requests, Tokens: d.Tokens, CostMicros: int64(d.Cost)}
			err := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "key_id"}, {Name: "window"}},
				DoUpdates: clause.Assignments(map[string]any{
					"requests":    gorm.Expr("key_usage.requests + ?", d.Requests),
					"tokens":      gorm.Expr("key_usage.tokens + ?", d.Tokens),
					"cost_micros": gorm.Expr("key_usage.cost_micros + ?", int64(d.Cost)),
				}),
			}).Create(&row).Error
			if err != nil {
				return err
			}
		}
		if len(windows) == 0 {
			return nil
		}
		return tx.Where(`"window" IN ?`, windows).Find(&rows).Error
	})
	if err != nil {
		return nil, fmt.Errorf("sync key usage: %w", err)
	}
	out := make([]keys.Usage, len(rows))
	for i, r := range rows {
		out[i] = keys.Usage{KeyID: r.KeyID, Window: r.Window, Requests: r.Requests, Tokens: r.Tokens, Cost: router.Micros(r.CostMicros)}
	}
	return out, nil
}
