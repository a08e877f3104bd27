package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/router"
)

// maxSpendDays bounds one Spend query, so a careless range cannot build
// millions of empty days.
const maxSpendDays = 3660

const dayLayout = "2006-01-02"

// spendGroup is one (day, model, complexity) group of requests.
type spendGroup struct {
	Day        string
	Model      string
	Complexity string
	Prompts    int64
	Cost       int64
	Baseline   int64
}

// Spend returns the cost summary of every UTC calendar day from from's day
// to to's day inclusive, oldest first. Days without requests are present
// with zeros and empty maps. ByModel leaves out requests no model
// answered and ByComplexity those sent straight to a named model (never
// classified); both still count in Total and Prompts. It returns a router.KindInvalid error when to
// is before from or the range is longer than ten years.
func (s *Store) Spend(ctx context.Context, from, to time.Time) ([]router.Spend, error) {
	return s.spend(ctx, "", from, to)
}

// KeySpend is Spend for the requests made with the key called key.
func (s *Store) KeySpend(ctx context.Context, key string, from, to time.Time) ([]router.Spend, error) {
	if key == "" {
		return nil, router.Errorf(router.KindInvalid, "key", "must not be empty")
	}
	return s.spend(ctx, key, from, to)
}

// spend is Spend, for one key's requests when key is not empty.
func (s *Store) spend(ctx context.Context, key string, from, to time.Time) ([]router.Spend, error) {
	first := utcDay(from)
	last := utcDay(to)
	if last.Before(first) {
		return nil, router.Errorf(router.KindInvalid, "to", "%s is before from %s", last.Format(dayLayout), first.Format(dayLayout))
	}
	days := int(last.Sub(first).Hours()/24) + 1
	if days > maxSpendDays {
		return nil, router.Errorf(router.KindInvalid, "from", "range of %d days is longer than %d", days, maxSpendDays)
	}

	// One grouped query: the day totals, the per-model and the
	// per-complexity sums all fold out of (day, model, complexity)
	// groups, of which there are few.
	var groups []spendGroup
	args := []any{dbTime(first), dbTime(last.AddDate(0, 0, 1))}
	keyFilter := ""
	if key != "" {
		keyFilter, args = " AND key_name = ?", append(args, key)
	}
	q := fmt.Sprintf(`SELECT %s AS day, model, complexity,
		COUNT(*) AS prompts,
		CAST(SUM(cost_micros) AS BIGINT) AS cost,
		CAST(SUM(baseline_cost_micros) AS BIGINT) AS baseline
	FROM requests
	WHERE created_at >= ? AND created_at < ?%s
	GROUP BY 1, 2, 3`, s.dayExpr(), keyFilter)
	err := s.db.WithContext(ctx).Raw(q, args...).Scan(&groups).Error
	if err != nil {
		return nil, fmt.Errorf("spend %s to %s: %w", first.Format(dayLayout), last.Format(dayLayout), err)
	}

	out := make([]router.Spend, days)
	index := make(map[string]int, days)
	for i := range out {
		d := first.AddDate(0, 0, i).Format(dayLayout)
		out[i] = router.Spend{Date: d, ByModel: map[string]router.Micros{}, ByComplexity: map[string]router.Micros{}}
		index[d] = i
	}
	for _, g := range groups {
		i, ok := index[g.Day]
		if !ok {
			// Only a row stored in another format than dbTime's could
			// land here; say so rather than lose its money silently.
			return nil, fmt.Errorf("spend: request day %q outside %s to %s", g.Day, first.Format(dayLayout), last.Format(dayLayout))
		}
		sp := &out[i]
		sp.Prompts += int(g.Prompts)
		sp.Total += router.Micros(g.Cost)
		sp.Baseline += router.Micros(g.Baseline)
		if g.Model != "" {
			sp.ByModel[g.Model] += router.Micros(g.Cost)
		}
		if g.Complexity != "" {
			sp.ByComplexity[g.Complexity] += router.Micros(g.Cost)
		}
	}
	return out, nil
}

// dayExpr is the SQL for a request's UTC day as YYYY-MM-DD.
func (s *Store) dayExpr() string {
	if s.dialect == DialectPostgres {
		return `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
	}
	return `strftime('%Y-%m-%d', created_at)`
}

// utcDay is the start of t's UTC calendar day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
