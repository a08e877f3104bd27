package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

// escalated is a record whose cheap model timed out and whose second
// model errored before the third answered, cut off at the token limit.
func escalated(id string, at time.Time) router.Record {
	return router.Record{
		ID: id, Time: at, Endpoint: "ask",
		Complexity: router.Complex, Category: "math",
		Model: "gpt-4o", Provider: "openai", TableVersion: 2,
		Cost: 900, Status: router.OutcomeOK, Propensity: 0.97,
		Attempts: []router.Attempt{
			{Model: "llama-3-8b", Status: router.OutcomeTimeout, Cost: 0},
			{Model: "gpt-4o-mini", Status: router.OutcomeError, Cost: 3},
			{Model: "gpt-4o", Status: router.OutcomeOK, FinishReason: "length", Cost: 897},
		},
	}
}

func TestInsertRequestsWritesAutoOutcomes(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	w := router.DefaultOutcomeWeights()
	want := []router.Outcome{
		{RequestID: "req_esc", Attempt: 0, Model: "llama-3-8b", Source: router.SourceEscalation, Detail: router.OutcomeTimeout, Weight: w.Escalation, Time: at},
		{RequestID: "req_esc", Attempt: 1, Model: "gpt-4o-mini", Source: router.SourceEscalation, Detail: router.OutcomeError, Weight: w.Escalation, Cost: 3, Time: at},
		{RequestID: "req_esc", Attempt: 2, Model: "gpt-4o", Source: router.SourceLength, Weight: w.Length, Cost: 897, Time: at},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rec := escalated("req_esc", at)
		// Written twice, as the recorder does after an ambiguous failure.
		for range 2 {
			if err := s.InsertRequests(ctx, []router.Record{rec, {ID: "req_plain", Time: at, Status: router.OutcomeOK}}); err != nil {
				t.Fatalf("InsertRequests: %v", err)
			}
		}
		got, err := s.Outcomes(ctx, "req_esc")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Outcomes(req_esc) =\n%+v\nwant\n%+v", got, want)
		}
		plain, err := s.Outcomes(ctx, "req_plain")
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) != 0 {
			t.Errorf("Outcomes(req_plain) = %+v, want none", plain)
		}
	})
}

func TestPutOutcomeReplacesFeedback(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, score := range []float64{1, 0.25} {
			fb := router.Outcome{RequestID: "req_a", Attempt: router.AnswerAttempt, Source: router.SourceFeedback, Score: score, Weight: 1, Time: at.Add(time.Duration(i) * time.Minute)}
			if err := s.PutOutcome(ctx, fb); err != nil {
				t.Fatalf("PutOutcome(%v): %v", score, err)
			}
		}
		got, err := s.Outcomes(ctx, "req_a")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Score != 0.25 || !got[0].Time.Equal(at.Add(time.Minute)) {
			t.Errorf("Outcomes after two feedbacks = %+v, want one with score 0.25 at %v", got, at.Add(time.Minute))
		}
	})
}

func TestPutOutcomeRejects(t *testing.T) {
	tests := []struct {
		name  string
		o     router.Outcome
		field string
	}{
		{"no id", router.Outcome{Source: router.SourceFeedback, Score: 1}, "id"},
		{"no source", router.Outcome{RequestID: "r", Score: 1}, "source"},
		{"score above 1", router.Outcome{RequestID: "r", Source: router.SourceFeedback, Score: 1.5}, "score"},
		{"negative weight", router.Outcome{RequestID: "r", Source: router.SourceFeedback, Weight: -1}, "weight"},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		for _, tt := range tests {
			err := s.PutOutcome(context.Background(), tt.o)
			var e *router.Error
			if !errors.As(err, &e) || e.Kind != router.KindInvalid || e.Field != tt.field {
				t.Errorf("%s: PutOutcome = %v, want invalid %s", tt.name, err, tt.field)
			}
		}
	})
}

func TestHasRequest(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, []router.Record{{ID: "req_here", Time: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"req_here": true, "req_gone": false} {
			got, err := s.HasRequest(ctx, id)
			if err != nil || got != want {
				t.Errorf("HasRequest(%s) = %v, %v; want %v", id, got, err, want)
			}
		}
	})
}

func TestObservations(t *testing.T) {
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	w := router.DefaultOutcomeWeights()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		simple := router.Record{
			ID: "req_simple", Time: t0.Add(time.Hour), Complexity: router.Simple,
			Model: "llama-3-8b", Cost: 7, Status: router.OutcomeOK, Propensity: 0.03, Explored: true, TableVersion: 1,
			Attempts: []router.Attempt{{Model: "llama-3-8b", Status: router.OutcomeOK, Cost: 7}},
		}
		failed := router.Record{
			ID: "req_failed", Time: t0.Add(3 * time.Hour), Complexity: router.Moderate, Status: router.OutcomeError, Propensity: 1,
			Attempts: []router.Attempt{{Model: "gpt-4o-mini", Status: router.OutcomeEmpty, Cost: 1}},
		}
		outside := escalated("req_outside", t0.Add(48*time.Hour))
		recs := []router.Record{escalated("req_esc", t0.Add(2*time.Hour)), simple, failed, outside}
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"req_esc", "req_simple", "req_failed", "req_outside", "req_never_written"} {
			fb := router.Outcome{RequestID: id, Attempt: router.AnswerAttempt, Source: router.SourceFeedback, Score: 1, Weight: w.Feedback, Time: t0.Add(5 * time.Hour)}
			if err := s.PutOutcome(ctx, fb); err != nil {
				t.Fatal(err)
			}
		}

		got, err := s.Observations(ctx, t0, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatalf("Observations: %v", err)
		}
		esc := func(attempt int, model, source, detail string, weight float64, cost router.Micros, score float64) router.Observation {
			return router.Observation{
				RequestID: "req_esc", Time: t0.Add(2 * time.Hour), Complexity: router.Complex, Category: "math",
				Bucket: "complex/math", Model: model, Attempt: attempt, Source: source, Detail: detail,
				Score: score, Weight: weight, Cost: cost, Propensity: 0.97, TableVersion: 2,
			}
		}
		want := []router.Observation{
			{RequestID: "req_simple", Time: t0.Add(time.Hour), Complexity: router.Simple, Bucket: "simple", Model: "llama-3-8b",
				Attempt: 0, Source: router.SourceFeedback, Score: 1, Weight: w.Feedback, Cost: 7, Propensity: 0.03, Explored: true, TableVersion: 1},
			// Feedback is about the answer: credited to gpt-4o, attempt 2.
			esc(2, "gpt-4o", router.SourceFeedback, "", w.Feedback, 897, 1),
			esc(0, "llama-3-8b", router.SourceEscalation, router.OutcomeTimeout, w.Escalation, 0, 0),
			esc(1, "gpt-4o-mini", router.SourceEscalation, router.OutcomeError, w.Escalation, 3, 0),
			esc(2, "gpt-4o", router.SourceLength, "", w.Length, 897, 0),
			// The failed request: its empty attempt counts, the feedback
			// (nobody answered) does not.
			{RequestID: "req_failed", Time: t0.Add(3 * time.Hour), Complexity: router.Moderate, Bucket: "moderate", Model: "gpt-4o-mini",
				Attempt: 0, Source: router.SourceEmpty, Weight: w.Empty, Cost: 1, Propensity: 1},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Observations =\n%+v\nwant\n%+v", got, want)
		}

		if _, err := s.Observations(ctx, t0, t0.Add(-time.Hour)); router.KindOf(err) != router.KindInvalid {
			t.Errorf("Observations(to before from) = %v, want invalid", err)
		}
	})
}
