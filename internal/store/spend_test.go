package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestSpend(t *testing.T) {
	day := func(d, h, m int) time.Time { return time.Date(2025, 6, d, h, m, 0, 0, time.UTC) }
	rec := func(id string, at time.Time, c router.Complexity, model string, cost, baseline router.Micros) router.Record {
		return router.Record{ID: id, Time: at, Complexity: c, Model: model, Cost: cost, BaselineCost: baseline, Status: router.OutcomeOK}
	}
	recs := []router.Record{
		rec("a", day(1, 0, 0), router.Simple, "mini", 10, 100),    // first instant of June 1
		rec("b", day(1, 23, 59), router.Complex, "big", 500, 500), // last minute of June 1
		rec("c", day(1, 12, 0), router.Simple, "mini", 15, 150),
		rec("d", day(3, 8, 0), router.Moderate, "", 7, 0), // no model answered
		rec("e", day(3, 9, 0), "", "big", 40, 40),         // named model, never classified
		// Late on June 3 in New York is June 4 in UTC.
		rec("f", time.Date(2025, 6, 3, 22, 0, 0, 0, time.FixedZone("EDT", -4*3600)), router.Simple, "mini", 1, 10),
		rec("out-before", day(1, 0, 0).Add(-time.Microsecond), router.Simple, "mini", 1000, 1000),
		rec("out-after", day(5, 0, 0), router.Simple, "mini", 1000, 1000),
	}
	empty := func(d string) router.Spend {
		return router.Spend{Date: d, ByModel: map[string]router.Micros{}, ByComplexity: map[string]router.Micros{}}
	}
	want := []router.Spend{
		{Date: "2025-06-01", Total: 525, Prompts: 3, Baseline: 750,
			ByModel:      map[string]router.Micros{"mini": 25, "big": 500},
			ByComplexity: map[string]router.Micros{"simple": 25, "complex": 500}},
		empty("2025-06-02"),
		{Date: "2025-06-03", Total: 47, Prompts: 2, Baseline: 40,
			ByModel:      map[string]router.Micros{"big": 40},
			ByComplexity: map[string]router.Micros{"moderate": 7}},
		{Date: "2025-06-04", Total: 1, Prompts: 1, Baseline: 10,
			ByModel:      map[string]router.Micros{"mini": 1},
			ByComplexity: map[string]router.Micros{"simple": 1}},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// from and to are any instants in the first and last days.
		got, err := s.Spend(ctx, day(1, 15, 0), day(4, 23, 59))
		if err != nil {
			t.Fatalf("Spend: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Spend =\n%+v\nwant\n%+v", got, want)
		}
		if got := want[0].Savings(); got != 225 {
			t.Errorf("Savings = %d, want 225", got)
		}

		one, err := s.Spend(ctx, day(2, 0, 0), day(2, 0, 0))
		if err != nil {
			t.Fatalf("Spend one day: %v", err)
		}
		if w := []router.Spend{empty("2025-06-02")}; !reflect.DeepEqual(one, w) {
			t.Errorf("Spend(empty day) = %+v, want %+v", one, w)
		}
	})
}

func TestSpendInvalidRange(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to time.Time
	}{
		{"to before from", now, now.AddDate(0, 0, -1)},
		{"too long", now.AddDate(-20, 0, 0), now},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		for _, tt := range tests {
			_, err := s.Spend(context.Background(), tt.from, tt.to)
			if got := router.KindOf(err); got != router.KindInvalid {
				t.Errorf("%s: kind %q (%v), want invalid", tt.name, got, err)
			}
		}
	})
}
