package learner

import (
	"errors"
	"math"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// group is a block of identical prompts for two models, weak (cost 1)
// and strong (cost 10): their predictions, and how many of the block the
// weak model answers (the strong one answers all).
type group struct {
	n            int
	pWeak, pStr  float64
	weakRight    int
	weakQualNaN  bool
	predsMissing bool
}

func twoModelData(groups ...group) PointData {
	d := PointData{K: 2}
	for _, g := range groups {
		for i := range g.n {
			pw, ps := g.pWeak, g.pStr
			if g.predsMissing {
				pw, ps = math.NaN(), math.NaN()
			}
			qw := 0.0
			if i < g.weakRight {
				qw = 1
			}
			if g.weakQualNaN {
				qw = math.NaN()
			}
			d.Pred = append(d.Pred, pw, ps)
			d.Quality = append(d.Quality, qw, 1)
			d.Cost = append(d.Cost, 1, 10)
		}
	}
	return d
}

func picker(t *testing.T, rule string) *router.Picker {
	t.Helper()
	p, err := router.NewPicker([]string{"weak", "strong"}, []float64{1, 10}, router.OperatingPoint{Rule: rule})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChoosePoint(t *testing.T) {
	// Easy prompts the weak model answers and both models are sure of;
	// hard ones it never answers and is predicted to miss.
	easyHard := twoModelData(group{n: 100, pWeak: 0.9, pStr: 0.9, weakRight: 100}, group{n: 100, pWeak: 0.2, pStr: 0.9})
	// Sure prompts, and 40 middling ones the weak model answers 36 of:
	// sending those to it keeps 96% on average, above 95%, but the
	// paired difference's standard error (about 0.02) leaves no margin.
	middling := twoModelData(group{n: 60, pWeak: 0.95, pStr: 0.95, weakRight: 60}, group{n: 40, pWeak: 0.8, pStr: 0.95, weakRight: 36})
	tests := []struct {
		name      string
		rule      string
		data      PointData
		goal      Goal
		unmet     bool
		quality   float64 // share of the baseline's
		cost      float64 // share of the baseline's
		paramLow  float64 // the chosen parameter lies in [paramLow, paramHigh)
		paramHigh float64
	}{
		{name: "hard prompts to the strong model", rule: router.RuleGap, data: easyHard,
			goal: Goal{KeepQuality: 0.95, Baseline: 1}, quality: 1, cost: 0.55, paramLow: 0, paramHigh: 0.7},
		{name: "best on average fails the margin", rule: router.RuleGap, data: middling,
			goal: Goal{KeepQuality: 0.95, Baseline: 1}, quality: 1, cost: 0.46, paramLow: 0, paramHigh: 0.15},
		{name: "a small z accepts the average", rule: router.RuleGap, data: middling,
			goal: Goal{KeepQuality: 0.95, Baseline: 1, Z: 0.1}, quality: 0.96, cost: 0.1, paramLow: 0.149, paramHigh: 1.01},
		{name: "target rule, same answer", rule: router.RuleTarget, data: middling,
			goal: Goal{KeepQuality: 0.95, Baseline: 1}, quality: 1, cost: 0.46, paramLow: 0.8 + 1e-9, paramHigh: 0.95},
		{name: "goal above the baseline is unmet", rule: router.RuleGap, data: easyHard,
			goal: Goal{KeepQuality: 1.05, Baseline: 1}, unmet: true, quality: 1, cost: 0.55, paramLow: 0, paramHigh: 1e-12},
		{name: "unmet target rule falls back to the likeliest", rule: router.RuleTarget, data: easyHard,
			goal: Goal{KeepQuality: 1.05, Baseline: 1}, unmet: true, quality: 1, cost: 0.55, paramLow: 1, paramHigh: 1.01},
		{name: "absolute target met by the mixed point", rule: router.RuleGap, data: easyHard,
			goal: Goal{Target: 0.5, Baseline: 1}, quality: 1, cost: 0.55, paramLow: 0, paramHigh: 0.7},
		{name: "lower absolute target: all to the weak model", rule: router.RuleGap, data: easyHard,
			goal: Goal{Target: 0.4, Baseline: 1}, quality: 0.5, cost: 0.1, paramLow: 0.7, paramHigh: 1.01},
		{name: "baseline the weak model", rule: router.RuleGap, data: easyHard,
			goal: Goal{KeepQuality: 1, Baseline: 0}, quality: 1, cost: 1, paramLow: 0.7, paramHigh: 1.01},
		{name: "unknown weak quality leaves the strong model", rule: router.RuleGap,
			data: twoModelData(group{n: 50, pWeak: 0.9, pStr: 0.9, weakQualNaN: true}),
			goal: Goal{KeepQuality: 0.95, Baseline: 1}, quality: 1, cost: 1, paramLow: 0, paramHigh: 1.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := ChoosePoint(picker(t, tt.rule), tt.data, tt.goal)
			if tt.unmet != errors.Is(err, ErrGoalUnmet) || (err != nil && !tt.unmet) {
				t.Fatalf("err = %v, want unmet %v", err, tt.unmet)
			}
			if math.Abs(op.QualityShare-tt.quality) > 1e-9 || math.Abs(op.CostShare-tt.cost) > 1e-9 {
				t.Errorf("quality, cost share = %v, %v; want %v, %v (point %+v)", op.QualityShare, op.CostShare, tt.quality, tt.cost, op)
			}
			if !(op.Param >= tt.paramLow && op.Param < tt.paramHigh) {
				t.Errorf("param = %v, want in [%v, %v)", op.Param, tt.paramLow, tt.paramHigh)
			}
			if op.Rule != tt.rule || op.Baseline != []string{"weak", "strong"}[tt.goal.Baseline] ||
				op.KeepQuality != tt.goal.KeepQuality || op.Target != tt.goal.Target || op.Samples != len(tt.data.Pred)/2 {
				t.Errorf("point %+v does not record its goal %+v", op, tt.goal)
			}
			if !tt.unmet && tt.goal.KeepQuality > 0 && op.QualityShare-op.Margin < tt.goal.KeepQuality-1e-12 {
				t.Errorf("quality share %v minus margin %v is under the goal %v", op.QualityShare, op.Margin, tt.goal.KeepQuality)
			}
		})
	}
}

func TestChoosePointMargin(t *testing.T) {
	d := twoModelData(group{n: 60, pWeak: 0.95, pStr: 0.95, weakRight: 60}, group{n: 40, pWeak: 0.8, pStr: 0.95, weakRight: 36})
	op, err := ChoosePoint(picker(t, router.RuleGap), d, Goal{KeepQuality: 0.9, Baseline: 1})
	if err != nil {
		t.Fatal(err)
	}
	// All to the weak model: quality 0.96; the difference q - 0.9 is
	// 0.1 on 96 prompts and -0.9 on 4: sd sqrt(0.04*0.96*100/99).
	se := math.Sqrt(0.04 * 0.96 * 100 / 99 / 100)
	if math.Abs(op.Margin-DefaultZ*se) > 1e-9 || op.CostShare != 0.1 {
		t.Errorf("point %+v: want margin %v at cost share 0.1", op, DefaultZ*se)
	}
}

func TestChoosePointRejects(t *testing.T) {
	good := twoModelData(group{n: 40, pWeak: 0.9, pStr: 0.9, weakRight: 40})
	tests := []struct {
		name string
		data PointData
		goal Goal
	}{
		{"no goal", good, Goal{Baseline: 1}},
		{"two goals", good, Goal{KeepQuality: 0.9, Target: 0.8, Baseline: 1}},
		{"baseline out of range", good, Goal{KeepQuality: 0.9, Baseline: 2}},
		{"negative z", good, Goal{KeepQuality: 0.9, Baseline: 1, Z: -1}},
		{"target above one", good, Goal{Target: 1.2, Baseline: 1}},
		{"wrong K", PointData{K: 3, Pred: good.Pred[:6], Quality: good.Quality[:6], Cost: good.Cost[:6]}, Goal{KeepQuality: 0.9, Baseline: 1}},
		{"ragged", PointData{K: 2, Pred: good.Pred, Quality: good.Quality[:4], Cost: good.Cost}, Goal{KeepQuality: 0.9, Baseline: 1}},
		{"thin evidence", twoModelData(group{n: MinPointSamples - 1, pWeak: 0.9, pStr: 0.9, weakRight: 29}), Goal{KeepQuality: 0.9, Baseline: 1}},
		{"rows without predictions do not count", twoModelData(
			group{n: 20, pWeak: 0.9, pStr: 0.9, weakRight: 20}, group{n: 40, predsMissing: true}), Goal{KeepQuality: 0.9, Baseline: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ChoosePoint(picker(t, router.RuleGap), tt.data, tt.goal); err == nil || errors.Is(err, ErrGoalUnmet) {
				t.Errorf("err = %v, want a rejection", err)
			}
		})
	}
}

func TestSweepParamsIncludesRoutingChanges(t *testing.T) {
	d := twoModelData(group{n: 10, pWeak: 0.333, pStr: 0.9})
	got := SweepParams(picker(t, router.RuleGap), d.Pred, 2)
	found := false
	for _, v := range got {
		found = found || math.Abs(v-(0.9-0.333)) < 1e-12
	}
	if !found || got[0] != 0 || got[len(got)-1] != 1 {
		t.Errorf("sweep %v: want 0, the gap 0.567 and 1", got)
	}
}

func TestMatchCost(t *testing.T) {
	// 100 prompts whose gap (strong minus weak) is i/100: the gap rule at
	// g sends the prompts with gap <= g, about 100g of them, to weak.
	d := PointData{K: 2}
	for i := range 100 {
		d.Pred = append(d.Pred, 0.5, 0.5+float64(i)/100)
		d.Quality = append(d.Quality, 0, 1)
		d.Cost = append(d.Cost, 0, 1)
	}
	p := picker(t, router.RuleGap)
	tests := []struct {
		share float64
		want  float64 // the prompts sent to strong: 1 - share
	}{
		{0.7, 0.7}, {0.25, 0.25}, {0.005, 0.01}, {1, 0.99}, // none reaches 1: the dearest, gap 0
	}
	for _, tt := range tests {
		g, err := MatchCost(p, d, 1, tt.share)
		if err != nil {
			t.Fatal(err)
		}
		strong := 0
		for i := 0; i < len(d.Pred); i += 2 {
			strong += p.WithParam(g).Choose(d.Pred[i : i+2])
		}
		if got := float64(strong) / 100; math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("cost share %v: gap %v sends %v to strong, want %v", tt.share, g, got, tt.want)
		}
	}
	if _, err := MatchCost(p, PointData{K: 2}, 1, 0.5); err == nil {
		t.Error("no prompts: no error")
	}
}
