package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestFindRequestsFilters(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	mk := func(id string, min int, model string, c router.Complexity, category, status, key string) router.Record {
		return router.Record{ID: id, Time: at.Add(time.Duration(min) * time.Minute), Model: model, Complexity: c,
			Category: category, Status: status, Key: key, Propensity: 1}
	}
	recs := []router.Record{
		mk("r1", 0, "gpt-4o-mini", router.Simple, "", router.OutcomeOK, ""),
		mk("r2", 1, "gpt-4o", router.Complex, "math", router.OutcomeOK, "team-a"),
		mk("r3", 2, "gpt-4o", router.Complex, "code", router.OutcomeError, "team-a"),
		mk("r4", 3, "gpt-4o-mini", router.Simple, "", router.OutcomeOK, "team-b"),
	}
	tests := []struct {
		name string
		q    router.RequestQuery
		want []string
	}{
		{"all, newest first", router.RequestQuery{}, []string{"r4", "r3", "r2", "r1"}},
		{"limit", router.RequestQuery{Limit: 2}, []string{"r4", "r3"}},
		{"model", router.RequestQuery{Model: "gpt-4o"}, []string{"r3", "r2"}},
		{"complexity bucket", router.RequestQuery{Bucket: "complex"}, []string{"r3", "r2"}},
		{"refined bucket", router.RequestQuery{Bucket: "complex/math"}, []string{"r2"}},
		{"status", router.RequestQuery{Status: router.OutcomeError}, []string{"r3"}},
		{"key", router.RequestQuery{Key: "team-a", Status: router.OutcomeOK}, []string{"r2"}},
		{"time range, to exclusive", router.RequestQuery{From: at.Add(time.Minute), To: at.Add(3 * time.Minute)}, []string{"r3", "r2"}},
		{"nothing matches", router.RequestQuery{Model: "nope"}, nil},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatalf("InsertRequests: %v", err)
		}
		for _, tt := range tests {
			got, err := s.FindRequests(ctx, tt.q)
			if err != nil {
				t.Fatalf("%s: FindRequests: %v", tt.name, err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(tt.want) {
				t.Errorf("%s: ids = %v, want %v", tt.name, ids, tt.want)
				continue
			}
			for i := range ids {
				if ids[i] != tt.want[i] {
					t.Errorf("%s: ids = %v, want %v", tt.name, ids, tt.want)
					break
				}
			}
		}
	})
}

func TestPromptText(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const prompt = "<b>What</b> is 2+2?"
		if err := s.KeepPrompts(ctx, []router.Prompt{router.PreparePrompt(prompt)}, time.Now()); err != nil {
			t.Fatalf("KeepPrompts: %v", err)
		}
		text, ok, err := s.PromptText(ctx, router.HashPrompt(prompt))
		if err != nil || !ok || text != router.NormalizePrompt(prompt) {
			t.Errorf("PromptText(kept) = %q, %v, %v; want %q", text, ok, err, router.NormalizePrompt(prompt))
		}
		if _, ok, err := s.PromptText(ctx, router.HashPrompt("never kept")); ok || err != nil {
			t.Errorf("PromptText(unknown) ok=%v err=%v, want false, nil", ok, err)
		}
	})
}
