package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// localModelRow is one serialised local classifier (internal/textmodel),
// named by its digest in a table version's provenance.
type localModelRow struct {
	Digest    string    `gorm:"column:digest;primaryKey"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Bytes     []byte    `gorm:"column:bytes"`
}

func (localModelRow) TableName() string { return "local_models" }

// PutLocalModel stores a serialised local model under its digest. A model
// is immutable, so storing one already there changes nothing.
func (s *Store) PutLocalModel(ctx context.Context, digest string, data []byte) error {
	if digest == "" || len(data) == 0 {
		return router.Errorf(router.KindInvalid, "local_model", "digest and bytes are required")
	}
	row := localModelRow{Digest: digest, CreatedAt: dbTime(s.now()), Bytes: data}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "digest"}}, DoNothing: true}).
		Create(&row).Error
	if err != nil {
		return fmt.Errorf("put local model %.12s: %w", digest, err)
	}
	return nil
}

// LocalModel returns the serialised local model with digest, or a
// router.KindNotFound error.
func (s *Store) LocalModel(ctx context.Context, digest string) ([]byte, error) {
	var row localModelRow
	err := s.db.WithContext(ctx).Where("digest = ?", digest).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, router.Errorf(router.KindNotFound, "local_model", "no local model %.12s", digest)
	}
	if err != nil {
		return nil, fmt.Errorf("get local model %.12s: %w", digest, err)
	}
	return row.Bytes, nil
}
