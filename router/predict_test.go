package router

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// fakePredictor predicts fixed success per policy model and counts calls.
type fakePredictor struct {
	success []float64
	err     error
	mu      sync.Mutex
	prompts []string
}

func (f *fakePredictor) Predict(_ context.Context, prompt string) (PromptPrediction, error) {
	f.mu.Lock()
	f.prompts = append(f.prompts, prompt)
	f.mu.Unlock()
	if f.err != nil {
		return PromptPrediction{}, f.err
	}
	return PromptPrediction{
		Success:    f.success,
		Analysis:   Analysis{Complexity: Moderate, Reason: "local", Tier: TierLocal},
		Confidence: 0.4,
	}, nil
}

// answerSeer is a Classifier that reports the LocalAnswer it was handed.
type answerSeer struct {
	mu   sync.Mutex
	seen []LocalAnswer
	none int
}

func (a *answerSeer) Classify(ctx context.Context, prompt Prompt) (Analysis, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	la, ok := LocalAnswerFrom(ctx)
	if !ok {
		a.none++
		return Analysis{Complexity: Simple, Tier: TierHeuristic}, nil
	}
	a.seen = append(a.seen, la)
	return la.Analysis, nil
}

var testPolicy = &PromptPolicy{Models: []string{"cheap", "mid", "strong"}, Point: OperatingPoint{Rule: RuleGap, Param: 0.05}}

func TestServePolicy(t *testing.T) {
	tests := []struct {
		name      string
		policy    *PromptPolicy
		pred      *fakePredictor // nil: no local model loaded
		wantCalls []string
		wantBy    string
	}{
		// gap 0.05: strong 0.9, mid 0.88 within the gap -> mid first,
		// then the likelier strong, then cheap.
		{"policy orders the candidates", testPolicy, &fakePredictor{success: []float64{0.5, 0.88, 0.9}}, []string{"mid"}, RoutedByPolicy},
		{"cheap reaches the gap", testPolicy, &fakePredictor{success: []float64{0.89, 0.88, 0.9}}, []string{"cheap"}, RoutedByPolicy},
		{"NaN model left out", testPolicy, &fakePredictor{success: []float64{math.NaN(), 0.5, 0.9}}, []string{"strong"}, RoutedByPolicy},
		{"every model NaN: the table", testPolicy, &fakePredictor{success: []float64{math.NaN(), math.NaN(), math.NaN()}}, []string{"cheap"}, RoutedByTable},
		{"prediction fails: the table", testPolicy, &fakePredictor{err: errors.New("boom")}, []string{"cheap"}, RoutedByTable},
		{"prediction of the wrong length: the table", testPolicy, &fakePredictor{success: []float64{0.9}}, []string{"cheap"}, RoutedByTable},
		{"no local model: the table", testPolicy, nil, []string{"cheap"}, RoutedByTable},
		{"no policy: the table", nil, &fakePredictor{success: []float64{0.5, 0.88, 0.9}}, []string{"cheap"}, RoutedByTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{}
			cls := &answerSeer{}
			svc, rec := newTestService(t, c, cls)
			var p Predictor
			if tt.pred != nil {
				p = tt.pred
			}
			v := Version{ID: 9, Table: testTable, Policy: tt.policy}
			if err := svc.Activate(v, p); err != nil {
				t.Fatal(err)
			}
			if got, want := svc.PolicyActive(), tt.policy != nil && tt.pred != nil; got != want {
				t.Errorf("PolicyActive = %v, want %v", got, want)
			}
			res, err := svc.Serve(context.Background(), Request{Messages: userMsg("  Prove   IT ")})
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if !equal(c.calls, tt.wantCalls) || res.Analysis.RoutedBy != tt.wantBy || rec.recs[0].Analysis.RoutedBy != tt.wantBy {
				t.Errorf("calls %v routed by %q (recorded %q), want %v by %q", c.calls, res.Analysis.RoutedBy, rec.recs[0].Analysis.RoutedBy, tt.wantCalls, tt.wantBy)
			}
			if tt.pred != nil && tt.policy != nil && (len(tt.pred.prompts) != 1 || tt.pred.prompts[0] != "prove it") {
				t.Errorf("predictor saw %q, want one normalised prompt", tt.pred.prompts)
			}
			if tt.wantBy == RoutedByPolicy {
				// The classifier got the local answer and need not ask
				// the LLM (no label share configured).
				if len(cls.seen) != 1 || !cls.seen[0].Enough || cls.seen[0].Analysis.Reason != "local" || res.Analysis.Tier != TierLocal {
					t.Errorf("classifier saw %+v, analysis %+v; want the local answer, enough", cls.seen, res.Analysis)
				}
			} else if len(cls.seen) != 0 {
				t.Errorf("table routing handed the classifier a local answer: %+v", cls.seen)
			}
		})
	}
}

func TestServePolicyOrder(t *testing.T) {
	c := &scripted{reply: map[string]func() (Reply, error){
		"mid": func() (Reply, error) { return Reply{}, &CallError{Outcome: OutcomeEmpty, Message: "empty"} },
	}}
	svc, _ := newTestService(t, c, &answerSeer{})
	pred := &fakePredictor{success: []float64{0.5, 0.88, 0.9}}
	if err := svc.Activate(Version{ID: 9, Table: testTable, Policy: testPolicy}, pred); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Serve(context.Background(), Request{Messages: userMsg("x")})
	// Escalation follows Picker.Order: mid, then the likelier strong.
	if err != nil || res.Model != "strong" || !equal(c.calls, []string{"mid", "strong"}) {
		t.Errorf("model %q calls %v err %v; want mid then strong", res.Model, c.calls, err)
	}
}

func TestServePolicyLabelShare(t *testing.T) {
	cls := &answerSeer{}
	rec := &memRecorder{}
	draws := []float64{0.01, 0.5, 0.03, 0.9} // below 0.04: a label sample
	i := 0
	svc, err := NewService(Options{
		Models: testModels, Completers: map[string]Completer{"p1": &scripted{}, "p2": &scripted{}},
		Classifier: cls, Recorder: rec, Baseline: "strong",
		Version:    Version{ID: 3, Table: testTable, Policy: testPolicy},
		Predictor:  &fakePredictor{success: []float64{0.5, 0.88, 0.9}},
		LabelShare: 0.04,
		Rand:       func() float64 { x := draws[i%len(draws)]; i++; return x },
	})
	if err != nil {
		t.Fatal(err)
	}
	for range draws {
		if _, err := svc.Serve(context.Background(), Request{Messages: userMsg("x")}); err != nil {
			t.Fatal(err)
		}
	}
	var enough []bool
	for _, la := range cls.seen {
		enough = append(enough, la.Enough)
	}
	if len(enough) != 4 || enough[0] || !enough[1] || enough[2] || !enough[3] {
		t.Errorf("enough per request = %v, want [false true false true]", enough)
	}
}

func TestActivateRejectsBadPolicy(t *testing.T) {
	svc, _ := newTestService(t, &scripted{}, &answerSeer{})
	bad := Version{ID: 10, Table: testTable, Policy: &PromptPolicy{Models: []string{"cheap", "nope"}, Point: OperatingPoint{Rule: RuleGap, Param: 0.1}}}
	if err := svc.Activate(bad, &fakePredictor{}); err == nil || svc.Version().ID != 7 {
		t.Errorf("bad policy accepted (err %v, active %d)", err, svc.Version().ID)
	}
	// Models out of price order: the learned order is kept, not refused.
	swapped := Version{ID: 11, Table: testTable, Policy: &PromptPolicy{Models: []string{"strong", "cheap"}, Point: OperatingPoint{Rule: RuleTarget, Param: 0.5}}}
	if err := svc.Activate(swapped, &fakePredictor{success: []float64{0.9, 0.9}}); err != nil || !svc.PolicyActive() {
		t.Errorf("policy out of price order: err %v, active %v; want it in use", err, svc.PolicyActive())
	}
}

// normalizeSlow is NormalizePrompt's definition: trim, fold runs of
// unicode white space to one space, lower-case every rune.
func normalizeSlow(p string) string {
	var b []rune
	space := false
	for _, r := range strings.TrimSpace(p) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, unicode.ToLower(r))
	}
	return string(b)
}

func TestNormalizePromptMatchesDefinition(t *testing.T) {
	cases := []string{"", " ", "\t\n", "  Hello\n\tWorld  ", "ÄB  c", "a\u00a0b\u2003C", "\u0085x\u0085",
		"x\xffY", "\xc3", "ΣΊΣΥΦΟΣ  Ärger", "a\vb\fc\rd", "İstanbul", "1. A)\n2. B)"}
	r := rand.New(rand.NewPCG(1, 1))
	alphabet := []rune("aZ \t\n\r\v\f09.?Äß\u00a0\u2028\u0085ΣİK\uFFFD")
	for range 2000 {
		n := r.IntN(20)
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(rs))
	}
	for _, c := range cases {
		if got, want := NormalizePrompt(c), normalizeSlow(c); got != want {
			t.Errorf("NormalizePrompt(%q) = %q, want %q", c, got, want)
		}
	}
}
