package eval

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

func poolItems(n int) []*datasets.Item {
	items := make([]*datasets.Item, n)
	for i := range items {
		items[i] = &datasets.Item{ID: fmt.Sprint("p", i), Source: []string{"math/", "code/"}[i%2],
			Prompt:   fmt.Sprintf("Question %d: what is %d plus %d?", i, i, i+1),
			Outcomes: map[string]datasets.Outcome{"a": {Score: float64(i % 2)}, "b": {Score: 1}}}
	}
	return items
}

func TestTrainingPool(t *testing.T) {
	items := poolItems(6)
	items[5].Outcomes = nil
	// The same prompt as p0 but for spacing and case: scored, so left out.
	dup := &datasets.Item{ID: "dup", Prompt: "  QUESTION 0: what is 0 plus 1?", Outcomes: items[0].Outcomes}
	tests := []struct {
		name        string
		scored      []*datasets.Item
		sources     []string
		wantKept    string
		wantDropped int
	}{
		{"nothing scored, any source", nil, nil, "p0 p1 p2 p3 p4", 0},
		{"a scored prompt is dropped", []*datasets.Item{items[1]}, nil, "p0 p2 p3 p4", 1},
		{"a scored prompt's normalised twin is dropped", []*datasets.Item{dup}, nil, "p1 p2 p3 p4", 1},
		{"one source", nil, []string{"code/"}, "p1 p3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, dropped := TrainingPool(items, tt.scored, tt.sources)
			var ids []string
			for _, it := range kept {
				ids = append(ids, it.ID)
			}
			if got := strings.Join(ids, " "); got != tt.wantKept || dropped != tt.wantDropped {
				t.Errorf("kept %q dropped %d, want %q and %d", got, dropped, tt.wantKept, tt.wantDropped)
			}
		})
	}
}

func TestCrossFit(t *testing.T) {
	items := poolItems(40)
	// A duplicate (after normalisation) goes to its twin's fold.
	twin := *items[3]
	twin.ID, twin.Prompt = "twin", strings.ToUpper(items[3].Prompt)
	items = append(items, &twin)
	order := []string{"a", "b"}
	o := CrossFitOptions{Folds: 4, Seed: 1, Target: 0.8, Analyzer: fixedAnalyzer{}}
	fp, err := CrossFit(context.Background(), items, order, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		p := fp.Probabilities(it)
		if len(p) != len(order) || math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			t.Fatalf("%s: out-of-fold predictions %v, want one number per model", it.ID, p)
		}
	}
	if a, b := fp.Probabilities(items[3]), fp.Probabilities(&twin); a[0] != b[0] || a[1] != b[1] {
		t.Errorf("twin predictions %v and %v differ: duplicates must share a fold", a, b)
	}
	if p := fp.Probabilities(&datasets.Item{Prompt: "never seen"}); !math.IsNaN(p[0]) || len(p) != 2 {
		t.Errorf("unseen prompt = %v, want NaN per model", p)
	}

	for _, tt := range []struct {
		name  string
		items []*datasets.Item
		folds int
		want  string
	}{
		{"one fold", items, 1, "at least 2 folds"},
		{"more folds than prompts", items[:2], 5, "is empty or everything"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o.Folds = tt.folds
			if _, err := CrossFit(context.Background(), tt.items, order, o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CrossFit = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
