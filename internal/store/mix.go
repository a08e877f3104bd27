package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/switchyard/switchyard/internal/textmodel"
)

// BucketMix is how the routed requests of one UTC day fell into buckets.
type BucketMix struct {
	// Complexity counts requests by complexity (simple, moderate,
	// complex).
	Complexity map[string]int64
	// Tier counts requests by the classifier tier that answered (cache,
	// local, llm, heuristic).
	Tier map[string]int64
}

// BucketMix returns the bucket mix of the routed requests served on the
// UTC day of day: what the day-over-day drift index compares.
func (s *Store) BucketMix(ctx context.Context, day time.Time) (BucketMix, error) {
	from := day.UTC().Truncate(24 * time.Hour)
	to := from.Add(24 * time.Hour)
	tier := "json_extract(analysis, '$.tier')"
	if s.dialect == DialectPostgres {
		tier = "analysis->>'tier'"
	}
	q := `SELECT complexity, COALESCE(` + tier + `, '') AS tier, COUNT(*) AS n FROM requests
	WHERE created_at >= ? AND created_at < ? AND complexity <> ''
	GROUP BY complexity, ` + tier
	var rows []struct {
		Complexity string
		Tier       string
		N          int64
	}
	if err := s.db.WithContext(ctx).Raw(q, dbTime(from), dbTime(to)).Scan(&rows).Error; err != nil {
		return BucketMix{}, fmt.Errorf("bucket mix of %s: %w", from.Format(time.DateOnly), err)
	}
	m := BucketMix{Complexity: map[string]int64{}, Tier: map[string]int64{}}
	for _, r := range rows {
		m.Complexity[r.Complexity] += r.N
		m.Tier[r.Tier] += r.N
	}
	return m, nil
}

// BucketPSI returns the day-over-day drift of the bucket mix: the
// population stability index (textmodel.PSI) of day's mix against the
// day before's, by "complexity" and by classifier "tier". A mix is left
// out when either day has no routed request.
func (s *Store) BucketPSI(ctx context.Context, day time.Time) (map[string]float64, error) {
	cur, err := s.BucketMix(ctx, day)
	if err != nil {
		return nil, err
	}
	prev, err := s.BucketMix(ctx, day.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	if v := mixPSI(prev.Complexity, cur.Complexity); !math.IsNaN(v) {
		out["complexity"] = v
	}
	if v := mixPSI(prev.Tier, cur.Tier); !math.IsNaN(v) {
		out["tier"] = v
	}
	return out, nil
}

// mixPSI is the PSI of actual against expected over the union of their
// bins; NaN when either is empty.
func mixPSI(expected, actual map[string]int64) float64 {
	var bins []string
	for k := range expected {
		bins = append(bins, k)
	}
	for k := range actual {
		if _, ok := expected[k]; !ok {
			bins = append(bins, k)
		}
	}
	slices.Sort(bins)
	e := make([]float64, len(bins))
	a := make([]float64, len(bins))
	for i, b := range bins {
		e[i], a[i] = float64(expected[b]), float64(actual[b])
	}
	return textmodel.PSI(e, a)
}
