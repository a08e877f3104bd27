package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchyard/switchyard/router"
)

// outcomeRow is one row of the outcomes table.
type outcomeRow struct {
	ID         int64     `gorm:"column:id;primaryKey;autoIncrement"`
	RequestID  string    `gorm:"column:request_id"`
	Attempt    int       `gorm:"column:attempt"`
	Model      string    `gorm:"column:model"`
	Source     string    `gorm:"column:source"`
	Detail     string    `gorm:"column:detail"`
	Score      float64   `gorm:"column:score"`
	Weight     float64   `gorm:"column:weight"`
	CostMicros int64     `gorm:"column:cost_micros"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

func (outcomeRow) TableName() string { return "outcomes" }

func toOutcomeRow(o router.Outcome) outcomeRow {
	return outcomeRow{
		RequestID:  o.RequestID,
		Attempt:    o.Attempt,
		Model:      o.Model,
		Source:     o.Source,
		Detail:     o.Detail,
		Score:      o.Score,
		Weight:     o.Weight,
		CostMicros: int64(o.Cost),
		CreatedAt:  dbTime(o.Time),
	}
}

func (r outcomeRow) outcome() router.Outcome {
	return router.Outcome{
		RequestID: r.RequestID,
		Attempt:   r.Attempt,
		Model:     r.Model,
		Source:    r.Source,
		Detail:    r.Detail,
		Score:     r.Score,
		Weight:    r.Weight,
		Cost:      router.Micros(r.CostMicros),
		Time:      r.CreatedAt.UTC(),
	}
}

// outcomeKey is the unique key of an outcome: one signal of a source
// per attempt of a request.
var outcomeKey = []clause.Column{{Name: "request_id"}, {Name: "attempt"}, {Name: "source"}}

// insertAutoOutcomes writes the automatic signals of recs within tx (the
// transaction that writes the records), so a record and its signals are
// stored together or not at all. Signals already stored are kept, so a
// batch written twice adds nothing.
func insertAutoOutcomes(tx *gorm.DB, recs []router.Record) error {
	w := router.DefaultOutcomeWeights()
	var rows []outcomeRow
	for _, rec := range recs {
		for _, o := range router.AutoOutcomes(rec, w) {
			rows = append(rows, toOutcomeRow(o))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.Clauses(clause.OnConflict{Columns: outcomeKey, DoNothing: true}).
		CreateInBatches(rows, insertChunk).Error
}

// PutOutcome stores o, replacing a stored outcome of the same request,
// attempt and source: a second feedback for a request replaces the
// first. It does not check that the request exists (its row may not be
// written yet); callers that must, check with HasRequest. A score outside
// [0, 1] or a missing request id or source is a router.KindInvalid error.
func (s *Store) PutOutcome(ctx context.Context, o router.Outcome) error {
	switch {
	case o.RequestID == "":
		return router.Errorf(router.KindInvalid, "id", "is required")
	case o.Source == "":
		return router.Errorf(router.KindInvalid, "source", "is required")
	case math.IsNaN(o.Score) || o.Score < 0 || o.Score > 1:
		return router.Errorf(router.KindInvalid, "score", "must be between 0 and 1")
	case math.IsNaN(o.Weight) || o.Weight < 0:
		return router.Errorf(router.KindInvalid, "weight", "must not be negative")
	}
	if o.Time.IsZero() {
		o.Time = s.now()
	}
	row := toOutcomeRow(o)
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   outcomeKey,
		DoUpdates: clause.AssignmentColumns([]string{"model", "detail", "score", "weight", "cost_micros", "created_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put outcome for request %s: %w", o.RequestID, err)
	}
	return nil
}

// HasRequest reports whether the request id is stored.
func (s *Store) HasRequest(ctx context.Context, id string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&requestRow{}).Where("id = ?", id).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up request %s: %w", id, err)
	}
	return n > 0, nil
}

// Outcomes returns the outcomes of request id, by attempt then source.
func (s *Store) Outcomes(ctx context.Context, id string) ([]router.Outcome, error) {
	var rows []outcomeRow
	err := s.db.WithContext(ctx).Where("request_id = ?", id).Order("attempt, source").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("outcomes of request %s: %w", id, err)
	}
	out := make([]router.Outcome, len(rows))
	for i, r := range rows {
		out[i] = r.outcome()
	}
	return out, nil
}

// observationRow is one outcome joined with its request.
type observationRow struct {
	RequestID    string
	Attempt      int
	Model        string
	Source       string
	Detail       string
	Score        float64
	Weight       float64
	CostMicros   int64
	RequestTime  time.Time
	Complexity   string
	Category     string
	AnswerModel  string
	RequestCost  int64
	Propensity   float64
	Explored     bool
	TableVersion int64
	// Attempts is the request's attempts JSON, selected only for outcomes
	// about the answer, whose model and cost it resolves.
	Attempts *string
}

// Observations returns every outcome of the requests served in [from,
// to), joined with its request, in one query: what the learner fits
// from. Feedback is attributed to the model that answered, with that
// attempt's cost; outcomes of requests not (yet) stored, and feedback on
// requests no model answered, are left out. Rows come oldest request
// first. to before from is a router.KindInvalid error.
func (s *Store) Observations(ctx context.Context, from, to time.Time) ([]router.Observation, error) {
	if to.Before(from) {
		return nil, router.Errorf(router.KindInvalid, "to", "%s is before from %s", to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	const q = `SELECT o.request_id, o.attempt, o.model, o.source, o.detail, o.score, o.weight,
		o.cost_micros, r.created_at AS request_time, r.complexity, r.category,
		r.model AS answer_model, r.cost_micros AS request_cost, r.propensity, r.explored,
		r.table_version, CASE WHEN o.attempt < 0 THEN r.attempts END AS attempts
	FROM outcomes o JOIN requests r ON r.id = o.request_id
	WHERE r.created_at >= ? AND r.created_at < ?
	ORDER BY r.created_at, o.request_id, o.attempt, o.source`
	var rows []observationRow
	if err := s.db.WithContext(ctx).Raw(q, dbTime(from), dbTime(to)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("observations: %w", err)
	}
	out := make([]router.Observation, 0, len(rows))
	for _, r := range rows {
		ob := router.Observation{
			RequestID:    r.RequestID,
			Time:         r.RequestTime.UTC(),
			Complexity:   router.Complexity(r.Complexity),
			Category:     r.Category,
			Bucket:       router.BucketOf(router.Complexity(r.Complexity), r.Category),
			Model:        r.Model,
			Attempt:      r.Attempt,
			Source:       r.Source,
			Detail:       r.Detail,
			Score:        r.Score,
			Weight:       r.Weight,
			Cost:         router.Micros(r.CostMicros),
			Propensity:   r.Propensity,
			Explored:     r.Explored,
			TableVersion: r.TableVersion,
		}
		if r.Attempt == router.AnswerAttempt {
			if r.AnswerModel == "" {
				continue // nothing answered: nobody to credit
			}
			if err := resolveAnswer(&ob, r); err != nil {
				return nil, fmt.Errorf("observations: %w", err)
			}
		}
		out = append(out, ob)
	}
	return out, nil
}

// resolveAnswer attributes an outcome about the answer to the attempt
// that gave it.
func resolveAnswer(ob *router.Observation, r observationRow) error {
	rec := router.Record{ID: r.RequestID, Model: r.AnswerModel}
	if r.Attempts != nil {
		if err := json.Unmarshal([]byte(*r.Attempts), &rec.Attempts); err != nil {
			return fmt.Errorf("request %s: decode attempts: %w", r.RequestID, err)
		}
	}
	ob.Model = r.AnswerModel
	if i := router.AnswerAttemptOf(rec); i >= 0 {
		ob.Attempt = i
		ob.Cost = rec.Attempts[i].Cost
		return nil
	}
	// A record without attempts (written before they were kept): the
	// request's cost is the answer's.
	ob.Cost = router.Micros(r.RequestCost)
	return nil
}
