package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// seedVersions makes v1 (active, config), v2 (a learner candidate with
// evidence, parent 1) and v3 (a candidate built on v2, parent 2).
func seedVersions(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	st := openTestStore(t, dbURL)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	base := router.Table{"simple": {"gpt-4o"}, "moderate": {"gpt-4o"}, "complex": {"gpt-4o", "claude-sonnet-4-5"}}
	if _, err := st.SeedVersion(ctx, base); err != nil {
		t.Fatal(err)
	}
	v2 := router.Version{
		ParentID: 1, Source: "learner", Note: "cheaper simple bucket",
		Table: router.Table{"simple": {"gpt-4o-mini", "gpt-4o"}, "moderate": {"gpt-4o"}, "complex": {"gpt-4o", "claude-sonnet-4-5"}},
		Provenance: router.Provenance{Samples: 300, Stats: map[string]map[string]router.ModelStat{
			"simple": {
				"gpt-4o-mini": {Samples: 200, SuccessRate: 0.9, MeanCost: 120},
				"gpt-4o":      {Samples: 100, SuccessRate: 0.93, MeanCost: 2000},
			},
		}},
	}
	if _, err := st.CreateVersion(ctx, v2); err != nil {
		t.Fatal(err)
	}
	v3 := v2
	v3.ParentID = 2
	v3.Table = router.Table{"simple": {"gpt-4o-mini"}, "moderate": {"gpt-4o-mini", "gpt-4o"}, "complex": {"gpt-4o"}}
	if _, err := st.CreateVersion(ctx, v3); err != nil {
		t.Fatal(err)
	}
}

func runTable(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbURL, "USER": "ops"}
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"table"}, args...), func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

func TestTableCommand(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	seedVersions(t, dbURL)
	must := func(args ...string) string {
		t.Helper()
		out, err := runTable(t, dbURL, args...)
		if err != nil {
			t.Fatalf("table %v: %v", args, err)
		}
		return out
	}
	contains := func(what, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}

	out := must("list")
	contains("list", out, "VERSION", "STATUS", "cheaper simple bucket", "300")
	if lines := strings.Count(strings.TrimSpace(out), "\n"); lines != 3 {
		t.Errorf("list has %d version lines, want 3:\n%s", lines, out)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(must("list", "--json")), &listed); err != nil {
		t.Fatalf("list --json: %v", err)
	}
	if len(listed) != 3 || listed[0]["id"] != 3.0 || listed[2]["status"] != "active" {
		t.Errorf("list --json = %v, want versions 3, 2, 1 with 1 active", listed)
	}

	contains("show 2", must("show", "2"), "version 2: candidate", "parent 1", "gpt-4o-mini > gpt-4o", "0.900", "$0.000120")
	var shown map[string]any
	if err := json.Unmarshal([]byte(must("show", "active", "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	if shown["id"] != 1.0 || shown["status"] != "active" {
		t.Errorf("show active --json = %v, want version 1", shown)
	}

	contains("diff 1 2", must("diff", "1", "2"), "v1 -> v2: 1 of 3 buckets changed", "first choice:", "gpt-4o -> gpt-4o-mini", "predicted quality:")
	if got, want := must("diff", "v2"), must("diff", "1", "2"); got != want {
		t.Errorf("diff v2 (against its parent) =\n%s\nwant diff 1 2:\n%s", got, want)
	}
	var d router.TableDiff
	if err := json.Unmarshal([]byte(must("diff", "1", "3", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.From != 1 || d.To != 3 || len(d.Changed()) != 3 {
		t.Errorf("diff 1 3 --json = %+v, want 3 changed buckets from 1 to 3", d)
	}

	contains("promote 3", must("promote", "3"), "promoted version 3 (was 1)", "v1 -> v3")
	contains("promote 3 again", must("promote", "3"), "already active")
	// v3's parent, v2, was never active: rollback goes back to v1.
	contains("rollback", must("rollback"), "rolled back to version 1 (was 3)")
	shown = nil
	if err := json.Unmarshal([]byte(must("show", "active", "--json")), &shown); err != nil || shown["id"] != 1.0 {
		t.Errorf("active after rollback = %v (%v), want version 1", shown["id"], err)
	}
	if _, err := runTable(t, dbURL, "rollback"); err == nil || !strings.Contains(err.Error(), "version 1 has no earlier active version") {
		t.Errorf("rollback from the first version = %v, want a refusal", err)
	}
	// The promotion and the rollback are audited with the operator's
	// name; the repeated promotion, which changed nothing, is not.
	st, err := openConfiguredStore(context.Background(), "", func(string) string { return dbURL }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	audit, err := st.Audit(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range audit {
		got = append(got, fmt.Sprintf("%s %d->%d %s", e.Action, e.From, e.To, e.Actor))
	}
	if want := []string{"rollback 3->1 cli:ops", "promote 1->3 cli:ops"}; !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

func TestTableCommandErrors(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	seedVersions(t, dbURL)
	tests := []struct {
		args  []string
		want  string
		usage bool
	}{
		{nil, "want one of list, show, diff, promote, rollback", true},
		{[]string{"frob"}, `unknown action "frob"`, true},
		{[]string{"show"}, "wrong number of versions", true},
		{[]string{"diff", "1", "2", "3"}, "wrong number of versions", true},
		{[]string{"show", "latest"}, `version "latest"`, true},
		{[]string{"promote", "0"}, `version "0"`, true},
		{[]string{"promote", "99"}, "no routing-table version 99", false},
		{[]string{"show", "42"}, "no routing-table version 42", false},
		{[]string{"diff", "1"}, "version 1: it has no parent", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			_, err := runTable(t, dbURL, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("table %v = %v, want an error containing %q", tt.args, err, tt.want)
			}
			if _, isUsage := err.(usageError); isUsage != tt.usage {
				t.Errorf("table %v: usage error = %v, want %v", tt.args, isUsage, tt.usage)
			}
		})
	}
}

// TestTablePolicy: show, diff, promote and rollback cover a version's
// local model and per-prompt policy, not only its bucket table.
func TestTablePolicy(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	st := openTestStore(t, dbURL)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	table := router.Table{"simple": {"gpt-4o-mini", "gpt-4o"}, "moderate": {"gpt-4o"}, "complex": {"gpt-4o"}}
	if _, err := st.SeedVersion(ctx, table); err != nil {
		t.Fatal(err)
	}
	digest := strings.Repeat("ab", 32)
	v2, err := st.CreateVersion(ctx, router.Version{ParentID: 1, Source: "learner", Table: table,
		Policy: &router.PromptPolicy{Models: []string{"gpt-4o-mini", "gpt-4o"}, Point: router.OperatingPoint{
			Rule: router.RuleGap, Param: 0.12, KeepQuality: 0.95, Baseline: "gpt-4o", QualityShare: 0.962, CostShare: 0.41, Margin: 0.012, Samples: 800}},
		Provenance: router.Provenance{LocalModel: digest}})
	if err != nil {
		t.Fatal(err)
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := runTable(t, dbURL, args...)
		if err != nil {
			t.Fatalf("table %v: %v", args, err)
		}
		return out
	}
	contains := func(what, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}
	contains("list", must("list"), "ROUTING", "gap 0.120", "table")
	contains("show 2", must("show", fmt.Sprint(v2.ID)), "local model: "+digest, "per-prompt policy: gap 0.120 (keep 95% of gpt-4o; predicted quality 96.2%, cost 41.0%)",
		"gpt-4o-mini < gpt-4o", "margin 0.012 on 800 prompts")
	var d router.TableDiff
	if err := json.Unmarshal([]byte(must("diff", "1", "2", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Policy == nil || !d.Policy.ModelChanged || !d.Policy.PointChanged || d.Policy.After == nil || d.Policy.After.Point.CostShare != 0.41 {
		t.Errorf("diff 1 2 --json policy = %+v, want the model and point added with the replay's cost share", d.Policy)
	}
	contains("promote 2", must("promote", "2"), "promoted version 2 (was 1)", "per-prompt policy changed",
		"local model:     (none) -> abababababab", "replay predicted: (none) -> quality 96.2%, cost 41.0% of gpt-4o", "bucket table -> per-prompt policy")
	active, err := st.ActiveVersion(ctx)
	if err != nil || active.Policy == nil || active.Provenance.LocalModel != digest {
		t.Fatalf("active after promote = %+v (%v), want v2's policy and model", active, err)
	}
	contains("rollback", must("rollback"), "rolled back to version 1 (was 2)", "abababababab -> (none)", "per-prompt policy -> bucket table")
	if active, err = st.ActiveVersion(ctx); err != nil || active.ID != 1 || active.Policy != nil {
		t.Errorf("active after rollback = v%d policy %+v (%v), want v1 without one", active.ID, active.Policy, err)
	}
}
