package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestClassificationCache(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		key := router.HashPrompt("Prove Fermat's last theorem")
		if _, ok, err := s.GetClassification(ctx, key); err != nil || ok {
			t.Fatalf("GetClassification(empty cache) = ok %v, err %v; want a miss", ok, err)
		}
		first := router.Analysis{Complexity: router.Moderate, Category: "math", Tier: router.TierLLM}
		second := router.Analysis{Complexity: router.Complex, ReasoningRequired: true, MultiStep: true, EstimatedTokens: 4000, Category: "math", Reason: "proof", Tier: router.TierLLM}
		for _, a := range []router.Analysis{first, second} {
			if err := s.PutClassification(ctx, key, a); err != nil {
				t.Fatalf("PutClassification: %v", err)
			}
			got, ok, err := s.GetClassification(ctx, key)
			if err != nil || !ok {
				t.Fatalf("GetClassification = ok %v, err %v; want a hit", ok, err)
			}
			if got != a {
				t.Errorf("GetClassification = %+v, want %+v (the latest put)", got, a)
			}
		}
		// Concurrent hits on one key must not fail (each is one
		// UPDATE ... RETURNING).
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, ok, err := s.GetClassification(ctx, key); err != nil || !ok {
					t.Errorf("concurrent GetClassification = ok %v, err %v", ok, err)
				}
			})
		}
		wg.Wait()
	})
}
