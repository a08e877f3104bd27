package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestKeptPrompts(t *testing.T) {
	day := time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Kept twice (different case and spacing): one row, last_seen moved.
		if err := s.KeepPrompts(ctx, prepared("What is  2+2?", "what is 2+2?", "Old prompt", "  "), day); err != nil {
			t.Fatalf("KeepPrompts: %v", err)
		}
		if err := s.KeepPrompts(ctx, prepared("WHAT IS 2+2?"), day.Add(48*time.Hour)); err != nil {
			t.Fatalf("KeepPrompts again: %v", err)
		}
		if n, err := s.CountPrompts(ctx); err != nil || n != 2 {
			t.Fatalf("CountPrompts = %d, %v; want 2", n, err)
		}

		routed := fullRecord("req_a", day.Add(time.Hour)) // prompt "What is 2+2?", cached LLM analysis below
		other := fullRecord("req_b", day.Add(2*time.Hour))
		other.PromptHash = router.HashPrompt("not kept")
		unrouted := fullRecord("req_c", day.Add(3*time.Hour))
		unrouted.Complexity = ""
		late := fullRecord("req_d", day.Add(30*time.Hour))
		if err := s.InsertRequests(ctx, []router.Record{routed, other, unrouted, late}); err != nil {
			t.Fatal(err)
		}
		llm := router.Analysis{Complexity: router.Simple, Category: "math", Tier: router.TierLLM}
		if err := s.PutClassification(ctx, router.HashPrompt("What is 2+2?"), llm); err != nil {
			t.Fatal(err)
		}
		texts, analyses, err := s.KeptPrompts(ctx, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatalf("KeptPrompts: %v", err)
		}
		if len(texts) != 1 || texts["req_a"] != "what is 2+2?" {
			t.Errorf("KeptPrompts texts = %v, want only req_a's normalised prompt", texts)
		}
		if len(analyses) != 1 || analyses["req_a"] != llm {
			t.Errorf("KeptPrompts analyses = %v, want req_a's cached LLM analysis", analyses)
		}

		// Pruning keeps the prompt seen since.
		n, err := s.PrunePrompts(ctx, day.Add(24*time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("PrunePrompts = %d, %v; want 1 (\"old prompt\")", n, err)
		}
		if n, err := s.CountPrompts(ctx); err != nil || n != 1 {
			t.Errorf("CountPrompts after prune = %d, %v; want 1", n, err)
		}
	})
}

func TestLocalModels(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.LocalModel(ctx, "abc"); router.KindOf(err) != router.KindNotFound {
			t.Fatalf("LocalModel(unknown) err = %v, want not found", err)
		}
		data := []byte{0, 1, 2, 255, 'x'}
		for range 2 { // storing twice is a no-op
			if err := s.PutLocalModel(ctx, "abc", data); err != nil {
				t.Fatalf("PutLocalModel: %v", err)
			}
		}
		got, err := s.LocalModel(ctx, "abc")
		if err != nil || string(got) != string(data) {
			t.Errorf("LocalModel = %v, %v; want %v", got, err, data)
		}
		var rerr *router.Error
		if err := s.PutLocalModel(ctx, "", data); !errors.As(err, &rerr) {
			t.Errorf("PutLocalModel(no digest) = %v, want a router error", err)
		}
	})
}

func TestBucketMix(t *testing.T) {
	day := time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rec := func(id string, at time.Time, c router.Complexity, tier router.Tier) router.Record {
			r := fullRecord(id, at)
			r.Complexity, r.Analysis.Complexity, r.Analysis.Tier = c, c, tier
			return r
		}
		recs := []router.Record{
			rec("r1", day.Add(time.Hour), router.Simple, router.TierLLM),
			rec("r2", day.Add(2*time.Hour), router.Simple, router.TierLocal),
			rec("r3", day.Add(23*time.Hour), router.Complex, router.TierLocal),
			rec("r4", day.Add(25*time.Hour), router.Complex, router.TierLocal), // next day
			rec("r5", day.Add(-time.Hour), router.Simple, router.TierLocal),    // day before
		}
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		m, err := s.BucketMix(ctx, day.Add(12*time.Hour))
		if err != nil {
			t.Fatalf("BucketMix: %v", err)
		}
		if m.Complexity["simple"] != 2 || m.Complexity["complex"] != 1 || len(m.Complexity) != 2 {
			t.Errorf("BucketMix complexity = %v, want simple 2, complex 1", m.Complexity)
		}
		if m.Tier["local"] != 2 || m.Tier["llm"] != 1 || len(m.Tier) != 2 {
			t.Errorf("BucketMix tier = %v, want local 2, llm 1", m.Tier)
		}
		// Against the day before (one simple, local request): complexity
		// and tier both shifted.
		psi, err := s.BucketPSI(ctx, day)
		if err != nil {
			t.Fatalf("BucketPSI: %v", err)
		}
		if len(psi) != 2 || !(psi["complexity"] > 0.25) || !(psi["tier"] > 0.25) {
			t.Errorf("BucketPSI = %v, want complexity and tier above 0.25", psi)
		}
		// Two days later nothing was served the day before: no index.
		if psi, err := s.BucketPSI(ctx, day.Add(48*time.Hour)); err != nil || len(psi) != 0 {
			t.Errorf("BucketPSI(no previous day) = %v, %v; want empty", psi, err)
		}
	})
}

// A prompt or a classifier's reason with a NUL is kept with U+FFFD in
// its place on both dialects, rather than failing its batch on
// PostgreSQL (see TestInsertRequestsNUL).
func TestKeepPromptsNUL(t *testing.T) {
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	prompt := "what is\x00 2+2?"
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.KeepPrompts(ctx, prepared(prompt, "fine"), day); err != nil {
			t.Fatalf("KeepPrompts: %v", err)
		}
		got, ok, err := s.PromptText(ctx, router.HashPrompt(prompt))
		if err != nil || !ok || got != "what is\uFFFD 2+2?" {
			t.Errorf("PromptText = %q, %v, %v; want the prompt with U+FFFD for the NUL", got, ok, err)
		}
		a := router.Analysis{Complexity: router.Simple, Reason: "looks\x00easy", Tier: router.TierLLM}
		if err := s.PutClassification(ctx, "k", a); err != nil {
			t.Fatalf("PutClassification: %v", err)
		}
		back, ok, err := s.GetClassification(ctx, "k")
		if err != nil || !ok || back.Reason != "looks\uFFFDeasy" {
			t.Errorf("GetClassification = %+v, %v, %v; want the reason with U+FFFD", back, ok, err)
		}
	})
}

// prepared prepares each raw prompt, as the service does once per request.
func prepared(raw ...string) []router.Prompt {
	out := make([]router.Prompt, len(raw))
	for i, r := range raw {
		out[i] = router.PreparePrompt(r)
	}
	return out
}
