package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// classificationRow is one row of the classifications table.
type classificationRow struct {
	Key       string    `gorm:"column:key;primaryKey"`
	Analysis  string    `gorm:"column:analysis"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Hits      int64     `gorm:"column:hits"`
}

func (classificationRow) TableName() string { return "classifications" }

// GetClassification returns the cached analysis under key (a
// router.HashPrompt) and counts the hit; ok is false when there is none.
func (s *Store) GetClassification(ctx context.Context, key string) (a router.Analysis, ok bool, err error) {
	// One statement counts the hit and reads the row, so concurrent
	// readers never lose an increment.
	var rows []struct{ Analysis string }
	err = s.db.WithContext(ctx).
		Raw(`UPDATE classifications SET hits = hits + 1 WHERE "key" = ? RETURNING analysis`, key).
		Scan(&rows).Error
	if err != nil {
		return router.Analysis{}, false, fmt.Errorf("get classification: %w", err)
	}
	if len(rows) == 0 {
		return router.Analysis{}, false, nil
	}
	if err := json.Unmarshal([]byte(rows[0].Analysis), &a); err != nil {
		return router.Analysis{}, false, fmt.Errorf("get classification: decode analysis: %w", err)
	}
	return a, true, nil
}

// PutClassification stores a under key, replacing what was there.
func (s *Store) PutClassification(ctx context.Context, key string, a router.Analysis) error {
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put classification: encode analysis: %w", err)
	}
	row := classificationRow{Key: key, Analysis: noNULJSON(b), CreatedAt: dbTime(s.now())}
	err = s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"analysis", "created_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put classification: %w", err)
	}
	return nil
}
