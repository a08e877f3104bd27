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
	Answered     int64
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
		SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS answered,
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
			Requests: int(r.Requests), Answered: int(r.Answered), Cost: router.Micros(r.Cost), Baseline: router.Micros(r.Baseline)}
		if r.Complexity != "" {
			g.Bucket = router.BucketOf(router.Complexity(r.Complexity), r.Category)
		}
		out[i] = g
	}
	return out, nil
}

// signalRow is one group of SignalCounts' query.
type signalRow struct {
	Complexity   string
	Category     string
	Model        string
	Source       string
	TableVersion int64
	N            int64
	Score        float64
}

// SignalCounts returns the outcomes of the requests served in [from, to)
// counted by bucket, model, source and table version, with their score
// sums, in one grouped query: the same outcomes Observations returns
// (feedback credited to the answering model, feedback on requests no
// model answered left out), summed in the database, so the admin page's
// quality charts read a few dozen rows however busy the window was.
// Groups come by complexity, category, model, source and version. to
// before from is a router.KindInvalid error.
func (s *Store) SignalCounts(ctx context.Context, from, to time.Time) ([]router.SignalCount, error) {
	if to.Before(from) {
		return nil, router.Errorf(router.KindInvalid, "to", "%s is before from %s", to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	// attempt -1 is the answer (router.AnswerAttempt), whoever gave it.
	const q = `SELECT r.complexity, r.category,
		CASE WHEN o.attempt = -1 THEN r.model ELSE o.model END AS model,
		o.source, r.table_version,
		COUNT(*) AS n, SUM(CAST(o.score AS DOUBLE PRECISION)) AS score
	FROM outcomes o JOIN requests r ON r.id = o.request_id
	WHERE r.created_at >= ? AND r.created_at < ? AND (o.attempt <> -1 OR r.model <> '')
	GROUP BY 1, 2, 3, 4, 5
	ORDER BY 1, 2, 3, 4, 5`
	var rows []signalRow
	if err := s.db.WithContext(ctx).Raw(q, dbTime(from), dbTime(to)).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("signal counts: %w", err)
	}
	out := make([]router.SignalCount, len(rows))
	for i, r := range rows {
		out[i] = router.SignalCount{Bucket: router.BucketOf(router.Complexity(r.Complexity), r.Category), Model: r.Model,
			Source: r.Source, TableVersion: r.TableVersion, N: int(r.N), Score: r.Score}
	}
	return out, nil
}
