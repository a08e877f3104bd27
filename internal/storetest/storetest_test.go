package storetest_test

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

var testAnalysis = router.Analysis{Complexity: router.Simple, Category: "chat"}

func TestOpenIsFreshAndMigrated(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a, b := storetest.Open(t, d), storetest.Open(t, d)
			if a.Dialect() != d {
				t.Errorf("Dialect() = %q, want %q", a.Dialect(), d)
			}
			ctx := context.Background()
			if err := a.PutClassification(ctx, "k", testAnalysis); err != nil {
				t.Fatalf("PutClassification: %v", err)
			}
			// Two stores from Open are separate databases.
			if _, ok, err := b.GetClassification(ctx, "k"); err != nil || ok {
				t.Errorf("second store sees the first's data: ok %v, err %v", ok, err)
			}
		})
	}
}

func TestURLSharedByReplicas(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			u := storetest.URL(t, d)
			a, b := storetest.OpenURL(t, u), storetest.OpenURL(t, u)
			ctx := context.Background()
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := a.PutClassification(ctx, "k", testAnalysis); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := b.GetClassification(ctx, "k"); err != nil || !ok {
				t.Errorf("replica does not see the row: ok %v, err %v", ok, err)
			}
		})
	}
}
