package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestTraffic(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2025, 6, d, h, 0, 0, 0, time.UTC) }
	rec := func(id string, at time.Time, c router.Complexity, cat, model string, v int64, cost router.Micros) router.Record {
		return router.Record{ID: id, Time: at, Complexity: c, Category: cat, Model: model, TableVersion: v,
			Cost: cost, BaselineCost: 2 * cost, Status: router.OutcomeOK}
	}
	recs := []router.Record{
		rec("a", day(1, 1), router.Simple, "", "mini", 1, 10),
		rec("b", day(1, 2), router.Simple, "", "mini", 1, 20),
		rec("c", day(1, 3), router.Complex, "math", "big", 2, 500),
		rec("d", day(2, 4), "", "", "big", 2, 40), // a named model: no bucket
		rec("out", day(3, 0), router.Simple, "", "mini", 2, 1000),
	}
	want := []router.TrafficGroup{
		{Day: "2025-06-01", Model: "big", Bucket: "complex/math", TableVersion: 2, Requests: 1, Cost: 500, Baseline: 1000},
		{Day: "2025-06-01", Model: "mini", Bucket: "simple", TableVersion: 1, Requests: 2, Cost: 30, Baseline: 60},
		{Day: "2025-06-02", Model: "big", Bucket: "", TableVersion: 2, Requests: 1, Cost: 40, Baseline: 80},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got, err := s.Traffic(ctx, day(1, 12), day(2, 12))
		if err != nil {
			t.Fatalf("Traffic: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Traffic =\n%+v\nwant\n%+v", got, want)
		}
		if _, err := s.Traffic(ctx, day(2, 0), day(1, 0)); router.KindOf(err) != router.KindInvalid {
			t.Errorf("Traffic(to before from) = %v, want a KindInvalid error", err)
		}
	})
}
