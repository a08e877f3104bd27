package router

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDiffBuckets(t *testing.T) {
	tests := []struct {
		name   string
		before Table
		after  Table
		want   []BucketDiff
	}{
		{
			name:   "unchanged",
			before: Table{"simple": {"a", "b"}},
			after:  Table{"simple": {"a", "b"}},
			want:   []BucketDiff{{Bucket: "simple", Before: []string{"a", "b"}, After: []string{"a", "b"}, Models: []ModelEvidence{}}},
		},
		{
			name:   "added and removed, first choice kept",
			before: Table{"simple": {"a", "b"}},
			after:  Table{"simple": {"a", "c"}},
			want: []BucketDiff{{Bucket: "simple", Before: []string{"a", "b"}, After: []string{"a", "c"},
				Added: []string{"c"}, Removed: []string{"b"}, Models: []ModelEvidence{}}},
		},
		{
			name:   "reordered: first choice changed",
			before: Table{"moderate": {"a", "b", "c"}},
			after:  Table{"moderate": {"b", "a", "c"}},
			want: []BucketDiff{{Bucket: "moderate", Before: []string{"a", "b", "c"}, After: []string{"b", "a", "c"},
				Reordered: true, FirstChanged: true, Models: []ModelEvidence{}}},
		},
		{
			name:   "first choice replaced without reordering",
			before: Table{"complex": {"a", "b"}},
			after:  Table{"complex": {"c", "b"}},
			want: []BucketDiff{{Bucket: "complex", Before: []string{"a", "b"}, After: []string{"c", "b"},
				Added: []string{"c"}, Removed: []string{"a"}, FirstChanged: true, Models: []ModelEvidence{}}},
		},
		{
			name:   "new refined bucket inherits from its complexity",
			before: Table{"complex": {"a", "b"}},
			after:  Table{"complex": {"a", "b"}, "complex/math": {"b"}},
			want: []BucketDiff{
				{Bucket: "complex", Before: []string{"a", "b"}, After: []string{"a", "b"}, Models: []ModelEvidence{}},
				{Bucket: "complex/math", Before: []string{"a", "b"}, BeforeFrom: "complex", After: []string{"b"},
					Removed: []string{"a"}, FirstChanged: true, Models: []ModelEvidence{}},
			},
		},
		{
			name:   "dropped complexity falls back to complex",
			before: Table{"complex": {"b"}, "simple": {"a"}},
			after:  Table{"complex": {"b"}},
			want: []BucketDiff{
				{Bucket: "complex", Before: []string{"b"}, After: []string{"b"}, Models: []ModelEvidence{}},
				{Bucket: "simple", Before: []string{"a"}, After: []string{"b"}, AfterFrom: "complex",
					Added: []string{"b"}, Removed: []string{"a"}, FirstChanged: true, Models: []ModelEvidence{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(Version{ID: 1, Table: tt.before}, Version{ID: 2, Table: tt.after})
			if got.From != 1 || got.To != 2 {
				t.Errorf("Diff from/to = %d/%d, want 1/2", got.From, got.To)
			}
			if !reflect.DeepEqual(got.Buckets, tt.want) {
				t.Errorf("Diff buckets =\n%+v\nwant\n%+v", got.Buckets, tt.want)
			}
		})
	}
}

func TestDiffEvidenceAndPrediction(t *testing.T) {
	a := Version{ID: 1, Table: Table{"simple": {"big"}}, Provenance: Provenance{Stats: map[string]map[string]ModelStat{
		"simple": {"big": {Samples: 50, SuccessRate: 0.9, MeanCost: 1000}},
	}}}
	b := Version{ID: 2, Table: Table{"simple": {"small", "big"}}, Provenance: Provenance{Stats: map[string]map[string]ModelStat{
		"simple": {
			"small": {Samples: 200, SuccessRate: 0.88, MeanCost: 100},
			"big":   {Samples: 80, SuccessRate: 0.92, MeanCost: 1100},
		},
	}}}
	d := Diff(a, b)
	if len(d.Buckets) != 1 {
		t.Fatalf("buckets = %d, want 1", len(d.Buckets))
	}
	bd := d.Buckets[0]
	wantModels := []ModelEvidence{
		{Model: "big", Before: &ModelStat{Samples: 50, SuccessRate: 0.9, MeanCost: 1000}, After: &ModelStat{Samples: 80, SuccessRate: 0.92, MeanCost: 1100}},
		{Model: "small", After: &ModelStat{Samples: 200, SuccessRate: 0.88, MeanCost: 100}},
	}
	if !reflect.DeepEqual(bd.Models, wantModels) {
		t.Errorf("models = %+v, want %+v", bd.Models, wantModels)
	}
	// The newer evidence about "big" (b's) is the baseline of the
	// prediction, not the older.
	wantPred := &Prediction{QualityBefore: 0.92, QualityAfter: 0.88, CostBefore: 1100, CostAfter: 100, CostKnown: true, Samples: 80}
	if !reflect.DeepEqual(bd.Prediction, wantPred) {
		t.Errorf("prediction = %+v, want %+v", bd.Prediction, wantPred)
	}

	// Without evidence about the new first choice there is no prediction.
	b.Provenance.Stats["simple"] = map[string]ModelStat{"big": {Samples: 80, SuccessRate: 0.92}}
	if p := Diff(a, b).Buckets[0].Prediction; p != nil {
		t.Errorf("prediction without evidence about small = %+v, want nil", p)
	}
}

func TestDiffWriteText(t *testing.T) {
	a := Version{ID: 1, Table: Table{"simple": {"big"}, "complex": {"big"}}}
	b := Version{ID: 3, Table: Table{"simple": {"small", "big"}, "complex": {"big"}}, Provenance: Provenance{Stats: map[string]map[string]ModelStat{
		"simple": {"small": {Samples: 200, SuccessRate: 0.88, MeanCost: 100}, "big": {Samples: 80, SuccessRate: 0.92, MeanCost: 1100}},
	}}}
	var buf bytes.Buffer
	if err := Diff(a, b).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"routing table v1 -> v3: 1 of 2 buckets changed",
		"before:", "after:", "small > big", "added:", "first choice:", "big -> small",
		"predicted quality:", "0.920 -> 0.880", "predicted cost:", "(-91%)",
		"unchanged: complex",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\ncomplex\n") {
		t.Errorf("text diff lists the unchanged bucket as changed:\n%s", out)
	}
}

func TestDiffJSON(t *testing.T) {
	d := Diff(Version{ID: 1, Table: Table{"simple": {"a"}}}, Version{ID: 2, Table: Table{"simple": {"b"}}})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"from":1`, `"to":2`, `"bucket":"simple"`, `"added":["b"]`, `"removed":["a"]`, `"first_changed":true`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON diff lacks %s: %s", key, b)
		}
	}
}

func TestRollbackTarget(t *testing.T) {
	versions := []Version{
		{ID: 1, Status: StatusRetired},
		{ID: 2, ParentID: 1, Status: StatusCandidate}, // the gate refused it
		{ID: 3, ParentID: 2, Status: StatusActive},
		{ID: 4, ParentID: 1, Status: StatusActive},
		{ID: 5, Status: StatusActive},
		{ID: 6, ParentID: 7, Status: StatusActive},
		{ID: 7, ParentID: 6, Status: StatusCandidate}, // a cycle must end
	}
	tests := []struct {
		active  int64
		want    int64
		wantErr bool
	}{
		{active: 4, want: 1},
		{active: 3, want: 1}, // skips the never-active candidate 2
		{active: 5, wantErr: true},
		{active: 6, wantErr: true},
	}
	for _, tt := range tests {
		var active Version
		for _, v := range versions {
			if v.ID == tt.active {
				active = v
			}
		}
		got, err := RollbackTarget(active, versions)
		if tt.wantErr {
			if KindOf(err) != KindNotFound {
				t.Errorf("RollbackTarget(v%d) = v%d, %v; want not_found", tt.active, got.ID, err)
			}
			continue
		}
		if err != nil || got.ID != tt.want {
			t.Errorf("RollbackTarget(v%d) = v%d, %v; want v%d", tt.active, got.ID, err, tt.want)
		}
	}
}
