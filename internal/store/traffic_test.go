package store_test

import (
	"cmp"
	"context"
	"reflect"
	"slices"
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
	// A stream that broke after mini began: a request of mini's, not an
	// answer delivered.
	broken := rec("e", day(1, 4), router.Simple, "", "mini", 1, 5)
	broken.Status = router.OutcomeError
	recs = append(recs, broken)
	want := []router.TrafficGroup{
		{Day: "2025-06-01", Model: "big", Bucket: "complex/math", TableVersion: 2, Requests: 1, Answered: 1, Cost: 500, Baseline: 1000},
		{Day: "2025-06-01", Model: "mini", Bucket: "simple", TableVersion: 1, Requests: 3, Answered: 2, Cost: 35, Baseline: 70},
		{Day: "2025-06-02", Model: "big", Bucket: "", TableVersion: 2, Requests: 1, Answered: 1, Cost: 40, Baseline: 80},
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

// foldObservations counts observations as SignalCounts does in SQL: the
// definition the grouped query must agree with.
func foldObservations(obs []router.Observation) []router.SignalCount {
	type key struct {
		bucket, model, source string
		version               int64
	}
	by := map[key]*router.SignalCount{}
	for _, o := range obs {
		k := key{o.Bucket, o.Model, o.Source, o.TableVersion}
		if by[k] == nil {
			by[k] = &router.SignalCount{Bucket: o.Bucket, Model: o.Model, Source: o.Source, TableVersion: o.TableVersion}
		}
		by[k].N++
		by[k].Score += o.Score
	}
	out := make([]router.SignalCount, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	sortCounts(out)
	return out
}

func sortCounts(cs []router.SignalCount) {
	slices.SortFunc(cs, func(a, b router.SignalCount) int {
		return cmp.Or(cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Source, b.Source), cmp.Compare(a.TableVersion, b.TableVersion))
	})
}

func TestSignalCounts(t *testing.T) {
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	w := router.DefaultOutcomeWeights()
	answered := func(id string, at time.Time, v int64) router.Record {
		return router.Record{ID: id, Time: at, Complexity: router.Simple, Model: "mini", TableVersion: v, Status: router.OutcomeOK,
			Attempts: []router.Attempt{{Model: "mini", Status: router.OutcomeOK}}}
	}
	failed := router.Record{ID: "req_failed", Time: t0.Add(3 * time.Hour), Complexity: router.Moderate, Status: router.OutcomeError, TableVersion: 1,
		Attempts: []router.Attempt{{Model: "mini", Status: router.OutcomeEmpty}}}
	recs := []router.Record{
		escalated("req_esc", t0.Add(2*time.Hour)), failed,
		answered("req_a", t0.Add(time.Hour), 1), answered("req_b", t0.Add(time.Hour), 1), answered("req_c", t0.Add(4*time.Hour), 2),
		escalated("req_outside", t0.Add(48*time.Hour)),
	}
	feedback := map[string]float64{"req_esc": 1, "req_a": 1, "req_b": 0.25, "req_c": 0, "req_failed": 1, "req_outside": 1, "req_never_written": 1}
	want := []router.SignalCount{
		{Bucket: "complex/math", Model: "gpt-4o", Source: router.SourceLength, TableVersion: 2, N: 1},
		{Bucket: "complex/math", Model: "gpt-4o", Source: router.SourceFeedback, TableVersion: 2, N: 1, Score: 1},
		{Bucket: "complex/math", Model: "gpt-4o-mini", Source: router.SourceEscalation, TableVersion: 2, N: 1},
		{Bucket: "complex/math", Model: "llama-3-8b", Source: router.SourceEscalation, TableVersion: 2, N: 1},
		// Nobody answered req_failed: its empty attempt counts, its
		// feedback does not.
		{Bucket: "moderate", Model: "mini", Source: router.SourceEmpty, TableVersion: 1, N: 1},
		{Bucket: "simple", Model: "mini", Source: router.SourceFeedback, TableVersion: 1, N: 2, Score: 1.25},
		{Bucket: "simple", Model: "mini", Source: router.SourceFeedback, TableVersion: 2, N: 1, Score: 0},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for id, score := range feedback {
			fb := router.Outcome{RequestID: id, Attempt: router.AnswerAttempt, Source: router.SourceFeedback, Score: score, Weight: w.Feedback, Time: t0.Add(5 * time.Hour)}
			if err := s.PutOutcome(ctx, fb); err != nil {
				t.Fatal(err)
			}
		}
		from, to := t0, t0.Add(24*time.Hour)
		got, err := s.SignalCounts(ctx, from, to)
		if err != nil {
			t.Fatalf("SignalCounts: %v", err)
		}
		sortCounts(got) // the database's collation orders text its own way
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SignalCounts =\n%+v\nwant\n%+v", got, want)
		}
		obs, err := s.Observations(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if folded := foldObservations(obs); !reflect.DeepEqual(got, folded) {
			t.Errorf("SignalCounts =\n%+v\nObservations folded =\n%+v", got, folded)
		}
		if _, err := s.SignalCounts(ctx, to, from); router.KindOf(err) != router.KindInvalid {
			t.Errorf("SignalCounts(to before from) = %v, want a KindInvalid error", err)
		}
	})
}
