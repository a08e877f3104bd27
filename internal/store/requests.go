package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// requestRow is one row of the requests table.
type requestRow struct {
	ID                  string    `gorm:"column:id;primaryKey"`
	CreatedAt           time.Time `gorm:"column:created_at"`
	Endpoint            string    `gorm:"column:endpoint"`
	PromptHash          string    `gorm:"column:prompt_hash"`
	Analysis            string    `gorm:"column:analysis"`
	Complexity          string    `gorm:"column:complexity"`
	Category            string    `gorm:"column:category"`
	Model               string    `gorm:"column:model"`
	Provider            string    `gorm:"column:provider"`
	TableVersion        int64     `gorm:"column:table_version"`
	PromptTokens        int64     `gorm:"column:prompt_tokens"`
	CompletionTokens    int64     `gorm:"column:completion_tokens"`
	CostMicros          int64     `gorm:"column:cost_micros"`
	EstimatedCostMicros int64     `gorm:"column:estimated_cost_micros"`
	BaselineCostMicros  int64     `gorm:"column:baseline_cost_micros"`
	LatencyMS           int64     `gorm:"column:latency_ms"`
	Status              string    `gorm:"column:status"`
	Attempts            string    `gorm:"column:attempts"`
	Error               string    `gorm:"column:error"`
	Propensity          float64   `gorm:"column:propensity"`
	Explored            bool      `gorm:"column:explored"`
	UsesTools           bool      `gorm:"column:uses_tools"`
	JSONOutput          string    `gorm:"column:json_output"`
	HasImages           bool      `gorm:"column:has_images"`
	ToolCallAnswer      bool      `gorm:"column:tool_call_answer"`
	Filtered            string    `gorm:"column:filtered"`
	KeyName             string    `gorm:"column:key_name"`
	Budget              string    `gorm:"column:budget"`
}

func (requestRow) TableName() string { return "requests" }

// insertChunk bounds the rows of one INSERT statement: 28 columns a row
// keeps a chunk far below both drivers' limits on bound parameters.
const insertChunk = 500

// InsertRequests writes recs, and the automatic outcome signals derived
// from them (router.AutoOutcomes), in one transaction. A record whose id
// is already stored is skipped, so a batch retried after an ambiguous
// failure never duplicates a row or a signal.
func (s *Store) InsertRequests(ctx context.Context, recs []router.Record) error {
	if len(recs) == 0 {
		return nil
	}
	rows := make([]requestRow, len(recs))
	for i, rec := range recs {
		row, err := toRequestRow(rec)
		if err != nil {
			// A record that cannot be encoded never will be.
			return &router.Error{Kind: router.KindInvalid, Message: "record cannot be stored", Err: fmt.Errorf("insert requests: %w", err)}
		}
		rows[i] = row
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}).
			CreateInBatches(rows, insertChunk).Error
		if err != nil {
			return err
		}
		return insertAutoOutcomes(tx, recs)
	})
	if err != nil {
		err = fmt.Errorf("insert %d requests: %w", len(recs), err)
		if refusedData(err) {
			return &router.Error{Kind: router.KindInvalid, Message: "the database refused the records' data", Err: err}
		}
		return err
	}
	return nil
}

func toRequestRow(rec router.Record) (requestRow, error) {
	analysis, err := json.Marshal(rec.Analysis)
	if err != nil {
		return requestRow{}, fmt.Errorf("request %s: encode analysis: %w", rec.ID, err)
	}
	attempts := rec.Attempts
	if attempts == nil {
		attempts = []router.Attempt{}
	}
	attemptsJSON, err := json.Marshal(attempts)
	if err != nil {
		return requestRow{}, fmt.Errorf("request %s: encode attempts: %w", rec.ID, err)
	}
	filtered := rec.Filtered
	if filtered == nil {
		filtered = []router.Filtered{}
	}
	filteredJSON, err := json.Marshal(filtered)
	if err != nil {
		return requestRow{}, fmt.Errorf("request %s: encode filtered: %w", rec.ID, err)
	}
	return requestRow{
		ID:                  rec.ID,
		CreatedAt:           dbTime(rec.Time),
		Endpoint:            noNUL(rec.Endpoint),
		PromptHash:          rec.PromptHash,
		Analysis:            noNULJSON(analysis),
		Complexity:          noNUL(string(rec.Complexity)),
		Category:            noNUL(rec.Category),
		Model:               noNUL(rec.Model),
		Provider:            noNUL(rec.Provider),
		TableVersion:        rec.TableVersion,
		PromptTokens:        int64(rec.PromptTokens),
		CompletionTokens:    int64(rec.CompletionTokens),
		CostMicros:          int64(rec.Cost),
		EstimatedCostMicros: int64(rec.EstimatedCost),
		BaselineCostMicros:  int64(rec.BaselineCost),
		LatencyMS:           rec.LatencyMS,
		Status:              noNUL(rec.Status),
		Attempts:            noNULJSON(attemptsJSON),
		Error:               noNUL(rec.Error),
		Propensity:          rec.Propensity,
		Explored:            rec.Explored,
		UsesTools:           rec.Traffic.UsesTools,
		JSONOutput:          noNUL(rec.Traffic.JSONOutput),
		HasImages:           rec.Traffic.HasImages,
		ToolCallAnswer:      rec.Traffic.ToolCallAnswer,
		Filtered:            noNULJSON(filteredJSON),
		KeyName:             noNUL(rec.Key),
		Budget:              noNUL(rec.Budget),
	}, nil
}

func (r requestRow) record() (router.Record, error) {
	rec := router.Record{
		ID:               r.ID,
		Time:             r.CreatedAt.UTC(),
		Endpoint:         r.Endpoint,
		PromptHash:       r.PromptHash,
		Complexity:       router.Complexity(r.Complexity),
		Category:         r.Category,
		Model:            r.Model,
		Provider:         r.Provider,
		TableVersion:     r.TableVersion,
		PromptTokens:     int(r.PromptTokens),
		CompletionTokens: int(r.CompletionTokens),
		Cost:             router.Micros(r.CostMicros),
		EstimatedCost:    router.Micros(r.EstimatedCostMicros),
		BaselineCost:     router.Micros(r.BaselineCostMicros),
		LatencyMS:        r.LatencyMS,
		Status:           r.Status,
		Error:            r.Error,
		Propensity:       r.Propensity,
		Explored:         r.Explored,
		Traffic: router.Traffic{
			UsesTools: r.UsesTools, JSONOutput: r.JSONOutput,
			HasImages: r.HasImages, ToolCallAnswer: r.ToolCallAnswer,
		},
		Key:    r.KeyName,
		Budget: r.Budget,
	}
	if err := json.Unmarshal([]byte(r.Analysis), &rec.Analysis); err != nil {
		return router.Record{}, fmt.Errorf("request %s: decode analysis: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Attempts), &rec.Attempts); err != nil {
		return router.Record{}, fmt.Errorf("request %s: decode attempts: %w", r.ID, err)
	}
	if len(rec.Attempts) == 0 {
		rec.Attempts = nil
	}
	if err := json.Unmarshal([]byte(r.Filtered), &rec.Filtered); err != nil {
		return router.Record{}, fmt.Errorf("request %s: decode filtered: %w", r.ID, err)
	}
	if len(rec.Filtered) == 0 {
		rec.Filtered = nil
	}
	return rec, nil
}

// GetRequest returns the record with id, or a router.KindNotFound error.
func (s *Store) GetRequest(ctx context.Context, id string) (router.Record, error) {
	var row requestRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return router.Record{}, router.Errorf(router.KindNotFound, "id", "no request %q", id)
	}
	if err != nil {
		return router.Record{}, fmt.Errorf("get request %s: %w", id, err)
	}
	return row.record()
}

// LatestRequests returns up to limit records, newest first: what an
// operator (or a test) looks at after an incident.
func (s *Store) LatestRequests(ctx context.Context, limit int) ([]router.Record, error) {
	var rows []requestRow
	if err := s.db.WithContext(ctx).Order("created_at DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("latest requests: %w", err)
	}
	return records(rows)
}

// CountRequests returns how many requests are stored.
func (s *Store) CountRequests(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&requestRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}

// records translates rows into domain records.
func records(rows []requestRow) ([]router.Record, error) {
	out := make([]router.Record, 0, len(rows))
	for _, r := range rows {
		rec, err := r.record()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// dbTime is how a time is stored: UTC (so SQLite's text sorts and buckets
// by day like Postgres's timestamps) and to the microsecond (Postgres's
// precision, so both dialects give back the same value).
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// FindRequests returns the records q selects, newest first, at most
// q.Limit (router.MaxRequestQuery when zero or above it).
func (s *Store) FindRequests(ctx context.Context, q router.RequestQuery) ([]router.Record, error) {
	limit := q.Limit
	if limit <= 0 || limit > router.MaxRequestQuery {
		limit = router.MaxRequestQuery
	}
	db := s.db.WithContext(ctx).Model(&requestRow{})
	if q.Model != "" {
		db = db.Where("model = ?", q.Model)
	}
	if q.Bucket != "" {
		complexity, category, refined := strings.Cut(q.Bucket, "/")
		db = db.Where("complexity = ?", complexity)
		if refined {
			db = db.Where("category = ?", category)
		}
	}
	if q.Status != "" {
		db = db.Where("status = ?", q.Status)
	}
	if q.Key != "" {
		db = db.Where("key_name = ?", q.Key)
	}
	if !q.From.IsZero() {
		db = db.Where("created_at >= ?", dbTime(q.From))
	}
	if !q.To.IsZero() {
		db = db.Where("created_at < ?", dbTime(q.To))
	}
	var rows []requestRow
	if err := db.Order("created_at DESC").Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	return records(rows)
}
