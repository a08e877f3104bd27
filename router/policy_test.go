package router

import (
	"math"
	"slices"
	"testing"
)

func TestPickerChoose(t *testing.T) {
	nan := math.NaN()
	models := []string{"cheap", "mid", "strong"}
	tests := []struct {
		name  string
		costs []float64
		point OperatingPoint
		pred  []float64
		want  int
	}{
		{"gap: cheap within gap", []float64{1, 5, 10}, OperatingPoint{Rule: RuleGap, Param: 0.1}, []float64{0.75, 0.8, 0.82}, 0},
		{"gap: only strong close", []float64{1, 5, 10}, OperatingPoint{Rule: RuleGap, Param: 0.05}, []float64{0.5, 0.7, 0.9}, 2},
		{"gap zero: likeliest", []float64{1, 5, 10}, OperatingPoint{Rule: RuleGap, Param: 0}, []float64{0.5, 0.95, 0.9}, 1},
		{"target: cheapest reaching", []float64{1, 5, 10}, OperatingPoint{Rule: RuleTarget, Param: 0.8}, []float64{0.5, 0.85, 0.9}, 1},
		{"target: none reaches, likeliest", []float64{1, 5, 10}, OperatingPoint{Rule: RuleTarget, Param: 0.99}, []float64{0.5, 0.85, 0.7}, 1},
		{"target: tie prefers cheaper", []float64{1, 5, 10}, OperatingPoint{Rule: RuleTarget, Param: 0.99}, []float64{0.6, 0.6, 0.6}, 0},
		{"same tier: likelier wins", []float64{1, 1, 10}, OperatingPoint{Rule: RuleTarget, Param: 0.5}, []float64{0.6, 0.7, 0.9}, 1},
		{"NaN is unavailable", []float64{1, 5, 10}, OperatingPoint{Rule: RuleTarget, Param: 0.5}, []float64{nan, 0.7, 0.9}, 1},
		{"NaN ignored by the gap's best", []float64{1, 5, 10}, OperatingPoint{Rule: RuleGap, Param: 0.05}, []float64{0.7, 0.72, nan}, 0},
		{"all NaN", []float64{1, 5, 10}, OperatingPoint{Rule: RuleGap, Param: 0.05}, []float64{nan, nan, nan}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPicker(models, tt.costs, tt.point)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Choose(tt.pred); got != tt.want {
				t.Errorf("Choose(%v) = %d, want %d", tt.pred, got, tt.want)
			}
		})
	}
}

func TestPickerOrder(t *testing.T) {
	models := []string{"a", "b", "c", "d"}
	p, err := NewPicker(models, []float64{1, 2, 3, 4}, OperatingPoint{Rule: RuleTarget, Param: 0.6})
	if err != nil {
		t.Fatal(err)
	}
	// b is the cheapest reaching 0.6; c and d are likelier (escalation,
	// cheapest first); a is the rest.
	got := p.Order([]float64{0.4, 0.65, 0.9, 0.7}, nil)
	if want := []string{"b", "c", "d", "a"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	// The rest falls by predicted success; NaN models are left out.
	got = p.Order([]float64{0.3, math.NaN(), 0.5, 0.99}, nil)
	if want := []string{"d", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
}

func TestNewPickerRefuses(t *testing.T) {
	tests := []struct {
		name   string
		models []string
		costs  []float64
		point  OperatingPoint
	}{
		{"no models", nil, nil, OperatingPoint{Rule: RuleGap}},
		{"cost count", []string{"a"}, []float64{1, 2}, OperatingPoint{Rule: RuleGap}},
		{"not cheapest first", []string{"a", "b"}, []float64{2, 1}, OperatingPoint{Rule: RuleGap}},
		{"rule", []string{"a"}, []float64{1}, OperatingPoint{Rule: "best"}},
		{"param", []string{"a"}, []float64{1}, OperatingPoint{Rule: RuleGap, Param: 1.5}},
		{"param NaN", []string{"a"}, []float64{1}, OperatingPoint{Rule: RuleGap, Param: math.NaN()}},
	}
	for _, tt := range tests {
		if _, err := NewPicker(tt.models, tt.costs, tt.point); err == nil {
			t.Errorf("%s: NewPicker succeeded, want an error", tt.name)
		}
	}
}

func TestPromptPolicyValidate(t *testing.T) {
	cat := Catalog{"a": {Name: "a"}, "b": {Name: "b"}}
	ok := PromptPolicy{Models: []string{"a", "b"}, Point: OperatingPoint{Rule: RuleGap, Param: 0.1}}
	if err := ok.Validate(cat); err != nil {
		t.Errorf("valid policy: %v", err)
	}
	for _, bad := range []PromptPolicy{
		{Point: ok.Point},
		{Models: []string{"a", "x"}, Point: ok.Point},
		{Models: []string{"a", "a"}, Point: ok.Point},
		{Models: []string{"a"}, Point: OperatingPoint{Rule: "x"}},
	} {
		if err := bad.Validate(cat); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
}
