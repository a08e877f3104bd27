package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/router"
)

// trafficRow is one (day, model, complexity, category, version) group.
type trafficRow struct {
	Day          string
	Model        string
	Complexity   string
	Category     string
	TableVersion int64
	Requests     int64
	Cost         int64
	Baseline     int64
}

// Traffic returns the requests of the UTC days from from's day to to's
// day inclusive, grouped by day, answering model, bucket and table
// version, in one grouped query (the groups are few: a handful of models
// and buckets a day). Groups come by day, then model, bucket and version.
// It returns a router.KindInvalid error when to is before from or the
// range is longer than ten years.
func (s *Store) Traffic(ctx context.Context, from, to time.Time) ([]router.TrafficGroup, error) {
	first, last := utcDay(from), utcDay(to)
	if last.Before(first) {
		return nil, router.Errorf(router.KindInvalid, "to", "%s is before from %s", last.Format(dayLayout), first.Format(dayLayout))
	}
	if days := int(last.Sub(first).Hours()/24) + 1; days > maxSpendDays {
		return nil, router.Errorf(router.KindInvalid, "from", "range of %d days is longer than %d", days, maxSpendDays)
	}
	q := fmt.Sprintf(`SELECT %s AS day, model, complexity, category, table_version,
		COUNT(*) AS requests,
		CAST(SUM(cost_micros) AS BIGINT) AS cost,
		CAST(SUM(baseline_cost_micros) AS BIGINT) AS baseline
	FROM requests
	WHERE created_at >= ? AND created_at < ?
	GROUP BY 1, 2, 3, 4, 5
	ORDER BY 1, 2, 3, 4, 5`, s.dayExpr())
	var rows []trafficRow
	if err := s.db.WithContext(ctx).Raw(q, dbTime(first), dbTime(last.AddDate(0, 0, 1))).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("traffic %s to %s: %w", first.Format(dayLayout), last.Format(dayLayout), err)
	}
	out := make([]router.TrafficGroup, len(rows))
	for i, r := range rows {
		g := router.TrafficGroup{Day: r.Day, Model: r.Model, TableVersion: r.TableVersion,
			Requests: int(r.Requests), Cost: router.Micros(r.Cost), Baseline: router.Micros(r.Baseline)}
		if r.Complexity != "" {
			g.Bucket = router.BucketOf(router.Complexity(r.Complexity), r.Category)
		}
		out[i] = g
	}
	return out, nil
}
