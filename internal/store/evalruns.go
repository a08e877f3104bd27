package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/router"
)

// evalRunRow is one row of the eval_runs table.
type evalRunRow struct {
	ID        int64     `gorm:"column:id;primaryKey;autoIncrement"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Dataset   string    `gorm:"column:dataset"`
	Params    string    `gorm:"column:params"`
	Result    string    `gorm:"column:result"`
}

func (evalRunRow) TableName() string { return "eval_runs" }

func (r evalRunRow) run() router.EvalRun {
	return router.EvalRun{
		ID:        r.ID,
		CreatedAt: r.CreatedAt.UTC(),
		Dataset:   r.Dataset,
		Params:    json.RawMessage(r.Params),
		Result:    json.RawMessage(r.Result),
	}
}

// jsonText checks that b is one JSON document and returns it as text;
// empty means "{}".
func jsonText(b json.RawMessage) (string, error) {
	if len(b) == 0 {
		return "{}", nil
	}
	if !json.Valid(b) {
		return "", errors.New("not valid JSON")
	}
	return string(b), nil
}

// CreateEvalRun stores run (its ID is ignored; CreatedAt defaults to now)
// and returns it as stored.
func (s *Store) CreateEvalRun(ctx context.Context, run router.EvalRun) (router.EvalRun, error) {
	params, err := jsonText(run.Params)
	if err != nil {
		return router.EvalRun{}, fmt.Errorf("create eval run: params: %w", err)
	}
	result, err := jsonText(run.Result)
	if err != nil {
		return router.EvalRun{}, fmt.Errorf("create eval run: result: %w", err)
	}
	at := run.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	row := evalRunRow{CreatedAt: dbTime(at), Dataset: run.Dataset, Params: params, Result: result}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return router.EvalRun{}, fmt.Errorf("create eval run: %w", err)
	}
	return s.EvalRun(ctx, row.ID)
}

// EvalRun returns the run with id, or a router.KindNotFound error.
func (s *Store) EvalRun(ctx context.Context, id int64) (router.EvalRun, error) {
	var row evalRunRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return router.EvalRun{}, router.Errorf(router.KindNotFound, "id", "eval run %d not found", id)
	}
	if err != nil {
		return router.EvalRun{}, fmt.Errorf("get eval run %d: %w", id, err)
	}
	return row.run(), nil
}

// ListEvalRuns returns the latest runs, newest first, at most limit
// (all when limit <= 0).
func (s *Store) ListEvalRuns(ctx context.Context, limit int) ([]router.EvalRun, error) {
	q := s.db.WithContext(ctx).Order("created_at DESC").Order("id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []evalRunRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list eval runs: %w", err)
	}
	out := make([]router.EvalRun, len(rows))
	for i, r := range rows {
		out[i] = r.run()
	}
	return out, nil
}
