package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/router"
)

// outcomeGroupRow is one (complexity, category, model) group of outcomes.
type outcomeGroupRow struct {
	Complexity string
	Category   string
	Model      string
	Samples    float64
	Score      float64
}

// OutcomeGroups returns the outcomes of the requests served since from,
// summed by the request's complexity and category and the model each is
// about (the answering model for feedback, the attempt's otherwise):
// their weights and weighted scores, in one grouped query (the groups are
// few: models times buckets). It is what the service's exploration aims
// by (router.WatchOutcomes); requests routed by a named model (no
// complexity) are left out.
func (s *Store) OutcomeGroups(ctx context.Context, from time.Time) ([]router.OutcomeGroup, error) {
	const q = `SELECT r.complexity, r.category,
		CASE WHEN o.attempt < 0 THEN r.model ELSE o.model END AS model,
		SUM(o.weight) AS samples, SUM(o.weight * o.score) AS score
	FROM outcomes o JOIN requests r ON r.id = o.request_id
	WHERE r.created_at >= ? AND r.complexity <> ''
	GROUP BY 1, 2, 3
	ORDER BY 1, 2, 3`
	var rows []outcomeGroupRow
	if err := s.db.WithContext(ctx).Raw(q, dbTime(from)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("outcome groups since %s: %w", from.UTC().Format(time.RFC3339), err)
	}
	out := make([]router.OutcomeGroup, 0, len(rows))
	for _, r := range rows {
		if r.Model == "" {
			continue
		}
		out = append(out, router.OutcomeGroup{Complexity: router.Complexity(r.Complexity), Category: r.Category,
			Model: r.Model, Samples: r.Samples, Score: r.Score})
	}
	return out, nil
}
