package store_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

var seedTable = router.Table{
	router.Simple:   {"mini", "big"},
	router.Moderate: {"mid", "big"},
	router.Complex:  {"big"},
}

// statuses maps version id to status.
func statuses(t *testing.T, s *store.Store) map[int64]router.Status {
	t.Helper()
	vs, err := s.ListVersions(context.Background())
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	out := map[int64]router.Status{}
	for _, v := range vs {
		out[v.ID] = v.Status
	}
	return out
}

func TestSeedVersion(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.ActiveVersion(ctx); router.KindOf(err) != router.KindNotFound {
			t.Errorf("ActiveVersion on an empty store: %v, want not_found", err)
		}
		v, err := s.SeedVersion(ctx, seedTable)
		if err != nil {
			t.Fatalf("SeedVersion: %v", err)
		}
		if v.ID != 1 || v.Status != router.StatusActive || v.Source != "config" || v.ParentID != 0 {
			t.Errorf("SeedVersion = id %d status %s source %q parent %d; want 1 active config 0", v.ID, v.Status, v.Source, v.ParentID)
		}
		if !reflect.DeepEqual(v.Table, seedTable) {
			t.Errorf("seeded table = %v, want %v", v.Table, seedTable)
		}
		// Seeding again returns the active version and ignores the table.
		other := router.Table{router.Simple: {"x"}, router.Moderate: {"x"}, router.Complex: {"x"}}
		again, err := s.SeedVersion(ctx, other)
		if err != nil {
			t.Fatalf("second SeedVersion: %v", err)
		}
		if again.ID != 1 || !reflect.DeepEqual(again.Table, seedTable) {
			t.Errorf("second SeedVersion = %d %v, want version 1 with the first table", again.ID, again.Table)
		}
		// The sequence moved past the seed's explicit id.
		c, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: other})
		if err != nil {
			t.Fatalf("CreateVersion after seed: %v", err)
		}
		if c.ID != 2 {
			t.Errorf("CreateVersion after seed: id %d, want 2", c.ID)
		}
	})
}

func TestSeedVersionConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		const seeders = 8
		ids := make([]int64, seeders)
		var wg sync.WaitGroup
		for i := range seeders {
			wg.Go(func() {
				v, err := s.SeedVersion(context.Background(), seedTable)
				if err != nil {
					t.Errorf("SeedVersion: %v", err)
				}
				ids[i] = v.ID
			})
		}
		wg.Wait()
		for i, id := range ids {
			if id != 1 {
				t.Errorf("seeder %d got version %d, want 1", i, id)
			}
		}
		if got, want := statuses(t, s), map[int64]router.Status{1: router.StatusActive}; !reflect.DeepEqual(got, want) {
			t.Errorf("versions = %v, want %v", got, want)
		}
	})
}

func TestCreateAndPromote(t *testing.T) {
	created := time.Date(2025, 6, 2, 3, 4, 5, 0, time.UTC)
	prov := router.Provenance{
		WindowFrom: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
		WindowTo:   time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		Samples:    1200,
		Stats: map[string]map[string]router.ModelStat{
			"simple": {"mini": {Samples: 800, SuccessRate: 0.93, LowerBound: 0.91, MeanCost: 12}},
		},
	}
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		learned := router.Table{router.Simple: {"mini"}, router.Moderate: {"mini", "big"}, router.Complex: {"big"}}
		in := router.Version{ID: 99, ParentID: 1, Source: "learner", Note: "nightly", CreatedAt: created, Table: learned, Provenance: prov}
		v2, err := s.CreateVersion(ctx, in)
		if err != nil {
			t.Fatalf("CreateVersion: %v", err)
		}
		want := in
		want.ID, want.Status = 2, router.StatusCandidate
		if !reflect.DeepEqual(v2, want) {
			t.Errorf("CreateVersion =\n%+v\nwant\n%+v", v2, want)
		}
		got, err := s.GetVersion(ctx, 2)
		if err != nil {
			t.Fatalf("GetVersion: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("GetVersion =\n%+v\nwant\n%+v", got, want)
		}

		if err := s.Promote(ctx, 2); err != nil {
			t.Fatalf("Promote(2): %v", err)
		}
		if got, want := statuses(t, s), map[int64]router.Status{1: router.StatusRetired, 2: router.StatusActive}; !reflect.DeepEqual(got, want) {
			t.Errorf("after Promote(2): %v, want %v", got, want)
		}
		if a, err := s.ActiveVersion(ctx); err != nil || a.ID != 2 {
			t.Errorf("ActiveVersion = %d, %v; want 2", a.ID, err)
		}
		// Promoting the active version changes nothing; rolling back to a
		// retired one works.
		if err := s.Promote(ctx, 2); err != nil {
			t.Errorf("Promote(active): %v", err)
		}
		if err := s.Promote(ctx, 1); err != nil {
			t.Fatalf("Promote(1): %v", err)
		}
		// An active version created directly retires the old one.
		v3, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Status: router.StatusActive, Source: "manual", Table: seedTable})
		if err != nil {
			t.Fatalf("CreateVersion(active): %v", err)
		}
		if v3.ID != 3 || v3.CreatedAt.IsZero() {
			t.Errorf("CreateVersion(active) = id %d created %v, want id 3 and a time", v3.ID, v3.CreatedAt)
		}
		wantStatus := map[int64]router.Status{1: router.StatusRetired, 2: router.StatusRetired, 3: router.StatusActive}
		if got := statuses(t, s); !reflect.DeepEqual(got, wantStatus) {
			t.Errorf("after CreateVersion(active): %v, want %v", got, wantStatus)
		}
		list, err := s.ListVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var order []int64
		for _, v := range list {
			order = append(order, v.ID)
		}
		if want := []int64{3, 2, 1}; !reflect.DeepEqual(order, want) {
			t.Errorf("ListVersions order = %v, want newest first %v", order, want)
		}
	})
}

func TestVersionErrors(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			err  error
			want router.Kind
		}{
			{"GetVersion unknown", func() error { _, err := s.GetVersion(ctx, 42); return err }(), router.KindNotFound},
			{"Promote unknown", s.Promote(ctx, 42), router.KindNotFound},
			{"CreateVersion bad status", func() error {
				_, err := s.CreateVersion(ctx, router.Version{Status: "shadow", Table: seedTable})
				return err
			}(), router.KindInvalid},
			{"CreateVersion unknown parent", func() error {
				_, err := s.CreateVersion(ctx, router.Version{ParentID: 42, Table: seedTable})
				return err
			}(), router.KindInvalid},
		}
		for _, tt := range tests {
			if got := router.KindOf(tt.err); got != tt.want {
				t.Errorf("%s: kind %q (%v), want %q", tt.name, got, tt.err, tt.want)
			}
		}
		// None of that changed which version is active.
		if got, want := statuses(t, s), map[int64]router.Status{1: router.StatusActive}; !reflect.DeepEqual(got, want) {
			t.Errorf("versions = %v, want %v", got, want)
		}
	})
}

func TestPromoteConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		const n = 6
		for range n {
			if _, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: seedTable}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for id := int64(2); id <= n+1; id++ {
			wg.Go(func() {
				if err := s.Promote(ctx, id); err != nil {
					t.Errorf("Promote(%d): %v", id, err)
				}
			})
		}
		wg.Wait()
		active := 0
		for _, st := range statuses(t, s) {
			if st == router.StatusActive {
				active++
			}
		}
		if active != 1 {
			t.Errorf("%d active versions after concurrent promotions, want 1", active)
		}
	})
}

// TestReplicas starts two stores on one database at once, as two
// replicas of the service would: both migrate and seed, and they end with
// one schema and one version 1.
func TestReplicas(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			u := storetest.URL(t, d)
			replicas := []*store.Store{storetest.OpenURL(t, u), storetest.OpenURL(t, u), storetest.OpenURL(t, u)}
			versions := make([]router.Version, len(replicas))
			var wg sync.WaitGroup
			for i, s := range replicas {
				wg.Go(func() {
					ctx := context.Background()
					if err := s.Migrate(ctx); err != nil {
						t.Errorf("replica %d: Migrate: %v", i, err)
						return
					}
					v, err := s.SeedVersion(ctx, seedTable)
					if err != nil {
						t.Errorf("replica %d: SeedVersion: %v", i, err)
					}
					versions[i] = v
				})
			}
			wg.Wait()
			for i, v := range versions {
				if v.ID != 1 || v.Status != router.StatusActive {
					t.Errorf("replica %d seeded version %d (%s), want 1 (active)", i, v.ID, v.Status)
				}
			}
			if got, want := statuses(t, replicas[0]), map[int64]router.Status{1: router.StatusActive}; !reflect.DeepEqual(got, want) {
				t.Errorf("versions = %v, want %v", got, want)
			}
		})
	}
}

// A learner's candidate fitted against v1 must not be promoted over an
// operator's promotion of v2 made meanwhile.
func TestPromoteOver(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: seedTable}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Promote(ctx, 2); err != nil { // the operator
			t.Fatal(err)
		}
		err := s.PromoteOver(ctx, 3, 1) // the learner, fitted against v1
		if router.KindOf(err) != router.KindConflict {
			t.Errorf("PromoteOver(3, expect 1) with v2 active = %v, want a conflict error", err)
		}
		if got := statuses(t, s); got[2] != router.StatusActive || got[3] != router.StatusCandidate {
			t.Errorf("statuses = %v, want v2 still active and v3 a candidate", got)
		}
		if err := s.PromoteOver(ctx, 3, 2); err != nil {
			t.Fatalf("PromoteOver(3, expect 2): %v", err)
		}
		if got := statuses(t, s); got[3] != router.StatusActive || got[2] != router.StatusRetired {
			t.Errorf("statuses = %v, want v3 active and v2 retired", got)
		}
	})
}

// TestVersionPolicy: a version's per-prompt policy survives the store,
// a version without one comes back without one, and promoting or rolling
// back (promoting the earlier version again) serves the right policy.
func TestVersionPolicy(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		seed, err := s.SeedVersion(ctx, seedTable)
		if err != nil {
			t.Fatalf("SeedVersion: %v", err)
		}
		if seed.Policy != nil {
			t.Errorf("seeded version has policy %+v, want none", seed.Policy)
		}
		pol := &router.PromptPolicy{
			Models: []string{"mini", "mid", "big"},
			Point: router.OperatingPoint{
				Rule: router.RuleGap, Param: 0.125, KeepQuality: 0.95, Baseline: "big",
				QualityShare: 0.961, CostShare: 0.42, Margin: 0.011, Samples: 800,
			},
		}
		v2, err := s.CreateVersion(ctx, router.Version{
			ParentID: seed.ID, Source: "learner", Table: seedTable, Policy: pol,
			Provenance: router.Provenance{LocalModel: "abc123", Samples: 800},
		})
		if err != nil {
			t.Fatalf("CreateVersion: %v", err)
		}
		got, err := s.GetVersion(ctx, v2.ID)
		if err != nil {
			t.Fatalf("GetVersion: %v", err)
		}
		if !reflect.DeepEqual(got.Policy, pol) || got.Provenance.LocalModel != "abc123" {
			t.Errorf("policy round trip = %+v (model %q), want %+v (abc123)", got.Policy, got.Provenance.LocalModel, pol)
		}
		if err := s.Promote(ctx, v2.ID); err != nil {
			t.Fatalf("Promote: %v", err)
		}
		active, err := s.ActiveVersion(ctx)
		if err != nil || active.ID != v2.ID || !reflect.DeepEqual(active.Policy, pol) {
			t.Fatalf("active after promote = %d %+v (%v), want %d with the policy", active.ID, active.Policy, err, v2.ID)
		}
		// Rollback: the earlier version is active again, without a policy.
		if err := s.Promote(ctx, seed.ID); err != nil {
			t.Fatalf("Promote back: %v", err)
		}
		active, err = s.ActiveVersion(ctx)
		if err != nil || active.ID != seed.ID || active.Policy != nil {
			t.Fatalf("active after rollback = %d %+v (%v), want %d without a policy", active.ID, active.Policy, err, seed.ID)
		}
		vs, err := s.ListVersions(ctx)
		if err != nil || len(vs) != 2 || !reflect.DeepEqual(vs[0].Policy, pol) || vs[1].Policy != nil {
			t.Errorf("ListVersions policies = %v, want [policy, none]", vs)
		}
	})
}
