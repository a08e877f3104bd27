package store_test

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

func TestKeysLife(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		secret, prefix, hash, err := keys.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		created := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		k, err := s.CreateKey(ctx, keys.Key{Name: "team-a", Prefix: prefix, Hash: hash, Budget: 5_000_000, Period: keys.Day, RPM: 60, KeepQuality: 0.85, CreatedAt: created})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		if k.ID == 0 || k.Hash != hash || k.Budget != 5_000_000 || !k.CreatedAt.Equal(created) || k.Revoked() {
			t.Errorf("created %+v", k)
		}
		if _, err := s.CreateKey(ctx, keys.Key{Name: "team-a", Prefix: "sy-x", Hash: "other"}); router.KindOf(err) != router.KindInvalid {
			t.Errorf("duplicate name: err = %v, want invalid", err)
		}
		if _, err := s.CreateKey(ctx, keys.Key{Name: "bad name", Prefix: "sy-x", Hash: "h2"}); router.KindOf(err) != router.KindInvalid {
			t.Errorf("bad name: err = %v, want invalid", err)
		}
		k.TPM, k.Budget = 1000, 7_000_000
		up, err := s.UpdateKey(ctx, k)
		if err != nil || up.TPM != 1000 || up.Budget != 7_000_000 || up.RPM != 60 {
			t.Errorf("UpdateKey = %+v, %v", up, err)
		}
		if _, err := s.UpdateKey(ctx, keys.Key{Name: "nobody"}); router.KindOf(err) != router.KindNotFound {
			t.Errorf("update unknown: err = %v, want not found", err)
		}
		rev, err := s.RevokeKey(ctx, "team-a", created.Add(time.Hour))
		if err != nil || !rev.Revoked() {
			t.Fatalf("RevokeKey = %+v, %v", rev, err)
		}
		again, err := s.RevokeKey(ctx, "team-a", created.Add(2*time.Hour))
		if err != nil || !again.RevokedAt.Equal(rev.RevokedAt) {
			t.Errorf("second revoke moved the time: %v -> %v (%v)", rev.RevokedAt, again.RevokedAt, err)
		}
		all, err := s.Keys(ctx)
		if err != nil || len(all) != 1 || all[0].Name != "team-a" {
			t.Errorf("Keys = %+v, %v", all, err)
		}
		// The secret itself is stored nowhere.
		if all[0].Hash == secret || all[0].Prefix == secret {
			t.Error("the secret was stored")
		}
	})
}

func TestKeySpend(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
		recs := []router.Record{
			{ID: "1", Time: at, Model: "m", Cost: 10, Status: router.OutcomeOK, Key: "a"},
			{ID: "2", Time: at, Model: "m", Cost: 20, Status: router.OutcomeOK, Key: "a", Budget: router.BudgetPacing},
			{ID: "3", Time: at, Model: "m", Cost: 400, Status: router.OutcomeOK, Key: "b"},
			{ID: "4", Time: at, Model: "m", Cost: 5000, Status: router.OutcomeOK},
		}
		if err := s.InsertRequests(ctx, recs); err != nil {
			t.Fatal(err)
		}
		got, err := s.KeySpend(ctx, "a", at, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Total != 30 || got[0].Prompts != 2 {
			t.Errorf("KeySpend(a) = %+v, want 30 over 2 prompts", got)
		}
		all, err := s.Spend(ctx, at, at)
		if err != nil || all[0].Total != 5430 {
			t.Errorf("Spend = %+v, %v, want 5430", all, err)
		}
		r, err := s.GetRequest(ctx, "2")
		if err != nil || r.Key != "a" || r.Budget != router.BudgetPacing {
			t.Errorf("request 2 = key %q budget %q (%v)", r.Key, r.Budget, err)
		}
	})
}

// Two stores on one database (two replicas) adding to the same counters
// at once lose nothing.
func TestSyncUsageConcurrent(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			a := storetest.OpenURL(t, url)
			if err := a.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			b := storetest.OpenURL(t, url)
			k, err := a.CreateKey(ctx, keys.Key{Name: "shared", Prefix: "sy-x", Hash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			const rounds = 20
			var wg sync.WaitGroup
			for _, st := range []*store.Store{a, b} {
				wg.Go(func() {
					for range rounds {
						d := []keys.Usage{{KeyID: k.ID, Window: "day:2026-11-30", Requests: 1, Tokens: 10, Cost: 100}}
						if _, err := st.SyncUsage(ctx, d, nil); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			got, err := b.SyncUsage(ctx, nil, []string{"day:2026-11-30", "m:x"})
			if err != nil {
				t.Fatal(err)
			}
			want := []keys.Usage{{KeyID: k.ID, Window: "day:2026-11-30", Requests: 2 * rounds, Tokens: 20 * rounds, Cost: 200 * rounds}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("usage = %+v, want %+v", got, want)
			}
		})
	}
}

// DeleteUsage drops the per-minute counters before a minute and nothing
// else: not later minutes, not budget periods (whose windows, "month:…",
// sort after "m:").
func TestDeleteUsage(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.OpenURL(t, storetest.URL(t, d))
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			k, err := st.CreateKey(ctx, keys.Key{Name: "team", Prefix: "sy-x", Hash: "h"})
			if err != nil {
				t.Fatal(err)
			}
			windows := []string{"m:202611301158", "m:202611301159", "m:202611301200", "m:202611301201", "day:2026-11-30", "week:2026-W48", "month:2026-11"}
			var deltas []keys.Usage
			for _, w := range windows {
				deltas = append(deltas, keys.Usage{KeyID: k.ID, Window: w, Requests: 1})
			}
			if _, err := st.SyncUsage(ctx, deltas, nil); err != nil {
				t.Fatal(err)
			}
			n, err := st.DeleteUsage(ctx, "m:", "m:202611301200")
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("deleted %d counters, want 2", n)
			}
			left, err := st.SyncUsage(ctx, nil, windows)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range left {
				got = append(got, u.Window)
			}
			slices.Sort(got)
			want := []string{"day:2026-11-30", "m:202611301200", "m:202611301201", "month:2026-11", "week:2026-W48"}
			if !slices.Equal(got, want) {
				t.Errorf("windows left = %v, want %v", got, want)
			}
			if _, err := st.DeleteUsage(ctx, "m:", "day:2026-11-30"); err == nil {
				t.Error("a cut-off of another kind of window was accepted")
			}
		})
	}
}
