package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

func fullRecord(id string, at time.Time) router.Record {
	return router.Record{
		ID:         id,
		Time:       at,
		Endpoint:   "ask",
		PromptHash: router.HashPrompt("What is 2+2?"),
		Analysis: router.Analysis{
			Complexity: router.Simple, EstimatedTokens: 12, Category: "math",
			Reason: "arithmetic", Tier: router.TierLLM,
		},
		Complexity:       router.Simple,
		Model:            "gpt-4o-mini",
		Provider:         "openai",
		TableVersion:     3,
		PromptTokens:     21,
		CompletionTokens: 5,
		Cost:             6,
		EstimatedCost:    5,
		BaselineCost:     103,
		LatencyMS:        420,
		Status:           router.OutcomeOK,
		Attempts: []router.Attempt{
			{Model: "llama-3-8b", Provider: "groq", Status: router.OutcomeTimeout, Error: "no answer within 30s", LatencyMS: 30000},
			{Model: "gpt-4o-mini", Provider: "openai", Status: router.OutcomeOK, LatencyMS: 400, PromptTokens: 21, CompletionTokens: 5, Cost: 6},
		},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	// Nanoseconds and a non-UTC zone: stored as the same instant in UTC,
	// to the microsecond, on both dialects.
	at := time.Date(2025, 3, 9, 23, 30, 1, 123456789, time.FixedZone("PST", -8*3600))
	tests := []struct {
		name string
		rec  router.Record
	}{
		{"full", fullRecord("req_full", at)},
		{"failed, no model", router.Record{ID: "req_failed", Time: at, Endpoint: "chat", Status: router.OutcomeError, Error: "every candidate model failed"}},
		{"tool traffic, filtered", withTraffic(fullRecord("req_tools", at))},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, tt := range tests {
			if err := s.InsertRequests(ctx, []router.Record{tt.rec}); err != nil {
				t.Fatalf("%s: InsertRequests: %v", tt.name, err)
			}
			got, err := s.GetRequest(ctx, tt.rec.ID)
			if err != nil {
				t.Fatalf("%s: GetRequest: %v", tt.name, err)
			}
			want := tt.rec
			want.Time = at.UTC().Truncate(time.Microsecond)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: GetRequest =\n%+v\nwant\n%+v", tt.name, got, want)
			}
		}
	})
}

func TestGetRequestNotFound(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		_, err := s.GetRequest(context.Background(), "req_missing")
		if got := router.KindOf(err); got != router.KindNotFound {
			t.Errorf("GetRequest(missing): kind %q (%v), want not_found", got, err)
		}
	})
}

func TestInsertRequestsIdempotent(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// More than one INSERT statement's worth, so chunking is covered.
		const n = 1234
		recs := make([]router.Record, n)
		for i := range recs {
			recs[i] = fullRecord(fmt.Sprintf("req_%05d", i), time.Now())
		}
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatalf("InsertRequests: %v", err)
		}
		// A retried batch, overlapping the first: nothing is duplicated
		// and the new rows are added.
		retry := append(recs[n-10:], fullRecord("req_new", time.Now()))
		if err := s.InsertRequests(ctx, retry); err != nil {
			t.Fatalf("InsertRequests (retry): %v", err)
		}
		if err := s.InsertRequests(ctx, nil); err != nil {
			t.Errorf("InsertRequests(nil): %v", err)
		}
		got, err := s.CountRequests(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(n + 1); got != want {
			t.Errorf("CountRequests = %d, want %d", got, want)
		}
	})
}

func TestInsertRequestsCancelled(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.InsertRequests(ctx, []router.Record{fullRecord("req_x", time.Now())}); err == nil {
			t.Error("InsertRequests with a cancelled ctx: got nil error, want one")
		}
		n, err := s.CountRequests(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("CountRequests = %d, want 0", n)
		}
	})
}

// withTraffic marks rec as a tool-calling, JSON, image request whose
// answer was a tool call after a capability filter.
func withTraffic(rec router.Record) router.Record {
	rec.Traffic = router.Traffic{UsesTools: true, JSONOutput: router.FormatJSONSchema, HasImages: true, ToolCallAnswer: true}
	rec.Filtered = []router.Filtered{{Model: "small", Capability: router.CapTools}, {Model: "mini", Capability: router.CapVision}}
	return rec
}

// A provider's error text is the provider's: it may hold a NUL, which
// PostgreSQL refuses in text and JSONB (22021, 22P05), or end in half a
// character when truncated. The record is
// written with the NUL replaced, on both dialects, rather than the whole
// batch failing until the recorder gives up on it.
func TestInsertRequestsNUL(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rec := fullRecord("req_nul", at)
	rec.Status, rec.Error = router.OutcomeError, "model says: bad\x00input, cut mid-rune \xc3"
	rec.Attempts[0].Error = "upstream 400: bad\x00input \\u0000 \u0000end"
	rec.Category = "cat\x00"
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, []router.Record{rec}); err != nil {
			t.Fatalf("InsertRequests: %v", err)
		}
		got, err := s.GetRequest(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := "upstream 400: bad\uFFFDinput \\u0000 \uFFFDend"; got.Attempts[0].Error != want {
			t.Errorf("attempt error = %q, want %q", got.Attempts[0].Error, want)
		}
		if want := "model says: bad\uFFFDinput, cut mid-rune \uFFFD"; got.Error != want {
			t.Errorf("error = %q, want %q", got.Error, want)
		}
	})
}

// A record the database refuses as data, whatever the cause, is a
// router.KindInvalid error, which the recorder sets apart instead of
// retrying forever (recorder TestRefusedRecordLeftOut); PostgreSQL
// refuses a timestamp past the year 294276.
func TestInsertRequestsRefusedIsInvalid(t *testing.T) {
	s := storetest.Open(t, store.DialectPostgres)
	rec := fullRecord("req_far_future", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC))
	err := s.InsertRequests(context.Background(), []router.Record{rec})
	if router.KindOf(err) != router.KindInvalid {
		t.Errorf("InsertRequests = %v (%s), want a refusal of kind invalid", err, router.KindOf(err))
	}
}
