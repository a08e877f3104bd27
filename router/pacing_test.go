package router

import (
	"context"
	"slices"
	"testing"
)

func TestServePacing(t *testing.T) {
	tests := []struct {
		name      string
		bucket    Complexity
		pacing    Pacing
		wantCalls []string // the candidates, in the order tried when each fails
		wantPaced bool
		wantKind  Kind
	}{
		{"no pacing", Complex, Pacing{}, []string{"strong"}, false, ""},
		{"one step: complex from moderate's candidates", Complex, Pacing{Step: 1}, []string{"mid", "strong"}, true, ""},
		{"two steps: complex from simple's", Complex, Pacing{Step: 2}, []string{"cheap", "mid", "strong"}, true, ""},
		{"steps past the cheapest bucket stop there", Moderate, Pacing{Step: 5}, []string{"cheap", "mid", "strong"}, true, ""},
		{"simple has nothing cheaper", Simple, Pacing{Step: 1}, []string{"cheap", "mid", "strong"}, false, ""},
		// 100 prompt tokens at most, 50 completion: cheap costs 25, mid 200, strong 2500 micros.
		{"max cost skips dear candidates", Moderate, Pacing{MaxCost: 300}, []string{"mid"}, false, ""},
		{"max cost below every candidate is refused", Complex, Pacing{MaxCost: 10}, nil, false, KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail := func() (Reply, error) {
				return Reply{}, &CallError{Outcome: OutcomeError, StatusCode: 400, Message: "bad"}
			}
			c := &scripted{reply: map[string]func() (Reply, error){"cheap": fail, "mid": fail, "strong": fail}}
			svc, rec := newTestService(t, c, fixedClassifier(tt.bucket))
			res, err := svc.Serve(context.Background(), Request{Endpoint: "ask", Messages: userMsg("hi"), Key: "team-a", Pacing: tt.pacing})
			if tt.wantKind != "" {
				if KindOf(err) != tt.wantKind {
					t.Fatalf("err = %v, want kind %s", err, tt.wantKind)
				}
				if len(c.calls) != 0 {
					t.Errorf("calls = %v, want none", c.calls)
				}
				return
			}
			if !slices.Equal(c.calls, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", c.calls, tt.wantCalls)
			}
			if res.Paced != tt.wantPaced {
				t.Errorf("Paced = %v, want %v", res.Paced, tt.wantPaced)
			}
			if len(rec.recs) != 1 {
				t.Fatalf("records = %d, want 1", len(rec.recs))
			}
			r := rec.recs[0]
			if r.Key != "team-a" {
				t.Errorf("record key = %q, want team-a", r.Key)
			}
			if want := map[bool]string{true: BudgetPacing}[tt.wantPaced]; r.Budget != want {
				t.Errorf("record budget = %q, want %q", r.Budget, want)
			}
		})
	}
}

func TestRelaxPolicy(t *testing.T) {
	picker, err := NewPicker([]string{"cheap", "mid", "strong"}, []float64{1, 2, 30}, OperatingPoint{Rule: RuleTarget, Param: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	pred := PromptPrediction{Success: []float64{0.6, 0.75, 0.9}}
	order := picker.Order(pred.Success, nil)
	if order[0] != "strong" {
		t.Fatalf("usual first choice %v, want strong", order)
	}
	tests := []struct {
		name      string
		pacing    Pacing
		wantFirst string
		wantPaced bool
	}{
		{"not relaxed", Pacing{}, "strong", false},
		{"relaxed to 0.9 of the goal: threshold 0.72", Pacing{Step: 1, Relax: 0.9}, "mid", true},
		{"relaxed to 0.7: threshold 0.56", Pacing{Step: 2, Relax: 0.7}, "cheap", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, paced := relaxPolicy(picker, pred, order, tt.pacing, testModels, Analysis{EstimatedTokens: 50}, 100)
			if got[0] != tt.wantFirst || paced != tt.wantPaced || len(got) != len(order) {
				t.Errorf("relaxPolicy = %v paced %v, want %s first, paced %v, every model kept", got, paced, tt.wantFirst, tt.wantPaced)
			}
		})
	}
}
