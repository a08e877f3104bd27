package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// learnRunRow is one row of learn_runs (migration 00009).
type learnRunRow struct {
	ID         string       `gorm:"column:id;primaryKey"`
	StartedAt  time.Time    `gorm:"column:started_at"`
	FinishedAt sql.NullTime `gorm:"column:finished_at"`
	Status     string       `gorm:"column:status"`
	Version    int64        `gorm:"column:version"`
	Reason     string       `gorm:"column:reason"`
}

func (learnRunRow) TableName() string { return "learn_runs" }

func (r learnRunRow) run() router.LearnRun {
	run := router.LearnRun{ID: r.ID, Started: r.StartedAt.UTC(), Status: r.Status, Version: r.Version, Reason: r.Reason}
	if r.FinishedAt.Valid {
		run.Finished = r.FinishedAt.Time.UTC()
	}
	return run
}

// ClaimLearnRun records that the run id has started, now, unless it was
// claimed before: then it returns the run as stored (finished or still
// going) and claimed false. One insert decides, so of two submissions of
// one form, on any replicas, exactly one claims. An empty id is a
// router.KindInvalid error.
func (s *Store) ClaimLearnRun(ctx context.Context, id string) (run router.LearnRun, claimed bool, err error) {
	if err := router.CheckID("run", id); err != nil {
		return router.LearnRun{}, false, err
	}
	row := learnRunRow{ID: id, StartedAt: dbTime(s.now())}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return router.LearnRun{}, false, fmt.Errorf("claim learner run %s: %w", id, res.Error)
	}
	if res.RowsAffected == 1 {
		return row.run(), true, nil
	}
	var prev learnRunRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&prev).Error; err != nil {
		return router.LearnRun{}, false, fmt.Errorf("read learner run %s: %w", id, err)
	}
	return prev.run(), false, nil
}

// FinishLearnRun stores how the claimed run ended, now. A run never
// claimed is a router.KindNotFound error.
func (s *Store) FinishLearnRun(ctx context.Context, run router.LearnRun) error {
	res := s.db.WithContext(ctx).Model(&learnRunRow{}).Where("id = ?", run.ID).Updates(map[string]any{
		"finished_at": dbTime(s.now()), "status": run.Status, "version": run.Version, "reason": run.Reason,
	})
	if res.Error != nil {
		return fmt.Errorf("finish learner run %s: %w", run.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return router.Errorf(router.KindNotFound, "run", "no learner run %s was claimed", run.ID)
	}
	return nil
}
