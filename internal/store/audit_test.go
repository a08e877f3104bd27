package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

// TestActivateAudits: an operator's promotion and rollback through
// router.Apply change the active version and write one audit row each,
// a stale or repeated change writes nothing, and the learner's own
// promotion is audited as "learner", on both databases.
func TestActivateAudits(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: seedTable}); err != nil {
			t.Fatal(err)
		}

		promote, err := router.PlanPromotion(ctx, s, 2)
		if err != nil {
			t.Fatal(err)
		}
		if promote.From.ID != 1 || promote.To.ID != 2 {
			t.Fatalf("PlanPromotion(2) = v%d -> v%d, want v1 -> v2", promote.From.ID, promote.To.ID)
		}
		e, err := router.Apply(ctx, s, promote, router.AuditEntry{Actor: "admin token 1a2b3c", Address: "192.0.2.7", Label: "ana (unverified)"})
		if err != nil {
			t.Fatalf("Apply(promote): %v", err)
		}
		want := router.AuditEntry{ID: e.ID, At: e.At, Action: router.ActionPromote, From: 1, To: 2, Actor: "admin token 1a2b3c", Address: "192.0.2.7", Label: "ana (unverified)"}
		if e != want || e.ID == 0 || e.At.IsZero() {
			t.Errorf("Apply(promote) = %+v, want %+v with an id and a time", e, want)
		}
		// The same confirmed form again: v1 is no longer active.
		if _, err := router.Apply(ctx, s, promote, router.AuditEntry{Actor: "admin token 1a2b3c", Address: "192.0.2.7"}); router.KindOf(err) != router.KindConflict {
			t.Errorf("Apply(promote) twice = %v, want a conflict", err)
		}

		rollback, err := router.PlanRollback(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := router.Apply(ctx, s, rollback, router.AuditEntry{Actor: "cli:ops"}); err != nil {
			t.Fatalf("Apply(rollback): %v", err)
		}
		if got := statuses(t, s); got[1] != router.StatusActive || got[2] != router.StatusRetired {
			t.Errorf("statuses after rollback = %v, want v1 active, v2 retired", got)
		}

		// The learner fitted v3 against v1: its promotion is audited too.
		if _, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: seedTable}); err != nil {
			t.Fatal(err)
		}
		if err := s.PromoteOver(ctx, 3, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordAudit(ctx, router.AuditEntry{Action: router.ActionLearn, From: 1, To: 3, Actor: "admin token 1a2b3c", Note: "promoted"}); err != nil {
			t.Fatalf("RecordAudit: %v", err)
		}

		tests := []struct {
			version int64
			want    []string // action from->to by actor, newest first
		}{
			{0, []string{"learn 1->3 admin token 1a2b3c", "promote 1->3 learner", "rollback 2->1 cli:ops", "promote 1->2 admin token 1a2b3c"}},
			{2, []string{"rollback 2->1 cli:ops", "promote 1->2 admin token 1a2b3c"}},
			{3, []string{"learn 1->3 admin token 1a2b3c", "promote 1->3 learner"}},
		}
		for _, tt := range tests {
			got, err := s.Audit(ctx, tt.version, 0)
			if err != nil {
				t.Fatalf("Audit(%d): %v", tt.version, err)
			}
			var lines []string
			for _, e := range got {
				lines = append(lines, e.Action+" "+fmt.Sprintf("%d->%d", e.From, e.To)+" "+e.Actor)
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("Audit(%d) = %q, want %q", tt.version, lines, tt.want)
			}
		}
	})
}

// TestActivateStale: a change planned against a version that is no
// longer active changes nothing and writes no row.
func TestActivateStale(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.SeedVersion(ctx, seedTable); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := s.CreateVersion(ctx, router.Version{ParentID: 1, Table: seedTable}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.Activate(ctx, router.AuditEntry{Action: router.ActionPromote, From: 2, To: 3, Actor: "x"})
		if router.KindOf(err) != router.KindConflict {
			t.Errorf("Activate(from v2) with v1 active = %v, want a conflict", err)
		}
		if got := statuses(t, s); got[1] != router.StatusActive || got[3] != router.StatusCandidate {
			t.Errorf("statuses = %v, want v1 still active", got)
		}
		if got, err := s.Audit(ctx, 0, 0); err != nil || len(got) != 0 {
			t.Errorf("Audit = %v, %v; want no entry", got, err)
		}
	})
}
