package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

// busyRequests and busyFeedback make a busy fortnight: every request
// draws two automatic signals (a timed-out first attempt, then an answer
// cut off), and some draw feedback, 100,000 outcome rows in all.
const (
	busyRequests = 49_000
	busyFeedback = 2_000
)

// seedBusy makes an active version and writes busyRequests requests spread over the chartDays ending
// at now, across four buckets, three models and two versions, with their
// automatic signals and busyFeedback feedback.
func seedBusy(ctx context.Context, b *testing.B, st *store.Store, now time.Time) {
	b.Helper()
	if _, err := st.SeedVersion(ctx, router.Table{"simple": {"gpt-4o-mini"}, "complex": {"gpt-4o"}}); err != nil {
		b.Fatal(err)
	}
	buckets := []struct {
		c   router.Complexity
		cat string
	}{{router.Simple, ""}, {router.Moderate, ""}, {router.Complex, "math"}, {router.Complex, "code"}}
	models := []string{"gpt-4o", "gpt-4o-mini", "llama-3.1-8b-instant"}
	span := time.Duration(chartDays-1) * 24 * time.Hour
	const batch = 1000
	recs := make([]router.Record, 0, batch)
	for i := range busyRequests {
		bk, m := buckets[i%len(buckets)], models[i%len(models)]
		recs = append(recs, router.Record{
			ID: fmt.Sprintf("req_%06d", i), Time: now.Add(-span * time.Duration(i) / busyRequests),
			Complexity: bk.c, Category: bk.cat, Model: m, TableVersion: int64(1 + i%2), Status: router.OutcomeOK,
			Cost: 100, BaselineCost: 400, Propensity: 1,
			Attempts: []router.Attempt{
				{Model: "llama-3.1-8b-instant", Status: router.OutcomeTimeout},
				{Model: m, Status: router.OutcomeOK, FinishReason: router.FinishLength, Cost: 100},
			},
		})
		if len(recs) == batch {
			if err := st.InsertRequests(ctx, recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	if err := st.InsertRequests(ctx, recs); err != nil {
		b.Fatal(err)
	}
	for i := range busyFeedback {
		fb := router.Outcome{RequestID: fmt.Sprintf("req_%06d", i*(busyRequests/busyFeedback)), Attempt: router.AnswerAttempt,
			Source: router.SourceFeedback, Score: float64(i % 2), Weight: 1, Time: now}
		if err := st.PutOutcome(ctx, fb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverviewBusy is the cost of the overview page, and of its
// charts' JSON twin, over a busy fortnight (seedBusy: 100,000 outcome
// rows) on the real store, on each dialect. BENCHMARKS.md has its figures
// before and after the quality chart read grouped counts
// (Store.SignalCounts) instead of every outcome.
func BenchmarkOverviewBusy(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, dialect)
			now := time.Now().UTC()
			seedBusy(ctx, b, st, now)
			h := New(Options{Token: testToken, Versions: st, Spend: st, Evals: st, Traffic: st, Signals: st,
				Baseline: "gpt-4o", Now: func() time.Time { return now }})
			for _, path := range []string{"/admin", "/admin/api/charts"} {
				b.Run(path[1:], func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						req := httptest.NewRequest(http.MethodGet, path, nil)
						req.Header.Set("Authorization", "Bearer "+testToken)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Fatalf("GET %s = %d: %s", path, rec.Code, rec.Body)
						}
					}
				})
			}
		})
	}
}
