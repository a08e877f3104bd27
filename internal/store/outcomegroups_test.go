package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestOutcomeGroups(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	w := router.DefaultOutcomeWeights()
	plain := func(id string, c router.Complexity, model string) router.Record {
		return router.Record{ID: id, Time: at, Complexity: c, Model: model, Status: router.OutcomeOK,
			Attempts: []router.Attempt{{Model: model, Status: router.OutcomeOK}}}
	}
	recs := []router.Record{
		escalated("esc", at), // complex/math: two failed attempts, gpt-4o's answer cut at the limit
		plain("a", router.Simple, "mini"),
		plain("b", router.Simple, "mini"),
		plain("c", router.Simple, "big"),
		plain("named", "", "big"), // routed by name: left out
		{ID: "old", Time: at.Add(-2 * time.Hour), Complexity: router.Simple, Model: "mini", Status: router.OutcomeOK},
	}
	feedback := map[string]float64{"a": 1, "b": 0.5, "c": 0, "esc": 1, "named": 1, "old": 1}
	want := []router.OutcomeGroup{
		{Complexity: router.Complex, Category: "math", Model: "gpt-4o", Samples: w.Length + w.Feedback, Score: w.Feedback},
		{Complexity: router.Complex, Category: "math", Model: "gpt-4o-mini", Samples: w.Escalation},
		{Complexity: router.Complex, Category: "math", Model: "llama-3-8b", Samples: w.Escalation},
		{Complexity: router.Simple, Model: "big", Samples: w.Feedback},
		{Complexity: router.Simple, Model: "mini", Samples: 2 * w.Feedback, Score: 1.5 * w.Feedback},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for id, score := range feedback {
			if err := s.PutOutcome(ctx, router.Outcome{RequestID: id, Attempt: router.AnswerAttempt, Source: router.SourceFeedback,
				Score: score, Weight: w.Feedback, Time: at}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.OutcomeGroups(ctx, at.Add(-time.Hour))
		if err != nil {
			t.Fatalf("OutcomeGroups: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("OutcomeGroups =\n%+v\nwant\n%+v", got, want)
		}
	})
}
