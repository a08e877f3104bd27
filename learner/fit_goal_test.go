package learner

import (
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// TestFitNeverMovesOnThinEvidence is the demo's case: simple/factual has
// 107 samples of the parent's cheap choice, which does badly there, and
// one lucky sample of the big model. The category's big model looks
// adequate on its parent's prior alone; the fit must not refine on it.
func TestFitNeverMovesOnThinEvidence(t *testing.T) {
	base := concat(
		outcomes(router.Simple, "", "cheap", 990, 10, 10),
		outcomes(router.Simple, "", "big", 495, 5, 1000),
		outcomes(router.Simple, "factual", "cheap", 80, 27, 10),
	)
	for _, tt := range []struct {
		name string
		big  []Sample
		want []string // the refined bucket; nil: none
	}{
		{"one sample", outcomes(router.Simple, "factual", "big", 1, 0, 1000), nil},
		{"29 samples", outcomes(router.Simple, "factual", "big", 29, 0, 1000), nil},
		{"enough samples", outcomes(router.Simple, "factual", "big", 60, 0, 1000), []string{"big", "cheap"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, opts := range []Options{{Target: 0.9, Evidence: 30}, {KeepQuality: 0.95, Baseline: "big", Evidence: 30}} {
				tbl, _, err := Fit(concat(base, tt.big), opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := tbl["simple/factual"]; !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%+v: simple/factual = %v, want %v (table %v)", opts, got, tt.want, tbl)
				}
				if got := tbl[router.Simple][0]; got != "cheap" {
					t.Errorf("%+v: simple leads with %s, want cheap", opts, got)
				}
			}
		})
	}
}

// TestFitRelativeGoal: on data whose best model scores 0.70, an absolute
// 0.9 finds no adequate model and keeps the strongest everywhere; the
// relative goal (95% of the baseline's quality) finds the cheaper model
// that keeps it, and keeps the baseline where none does.
func TestFitRelativeGoal(t *testing.T) {
	obs := concat(
		// simple: mid keeps 0.69 of big's 0.70 on plenty of samples.
		outcomes(router.Simple, "", "cheap", 400, 600, 10),
		outcomes(router.Simple, "", "mid", 1380, 620, 100),
		outcomes(router.Simple, "", "big", 1400, 600, 1000),
		// moderate: nothing cheaper comes close; the baseline stays.
		outcomes(router.Moderate, "", "cheap", 300, 700, 10),
		outcomes(router.Moderate, "", "mid", 500, 500, 100),
		outcomes(router.Moderate, "", "big", 700, 300, 1000),
		// complex: mid looks best, but on 10 samples only; a model
		// never leads on a handful of samples, the baseline stays.
		outcomes(router.Complex, "", "mid", 10, 0, 100),
		outcomes(router.Complex, "", "big", 600, 400, 1000),
		outcomes(router.Complex, "", "cheap", 100, 900, 10),
	)
	abs, _, err := Fit(obs, Options{Target: 0.9, Evidence: 30})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"simple", "moderate", "complex"} {
		if abs[c][0] != "big" {
			t.Errorf("absolute 0.9: %s = %v, want big first", c, abs[c])
		}
	}
	rel, prov, err := Fit(obs, Options{KeepQuality: 0.95, Baseline: "big", Evidence: 30})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"simple": "mid", "moderate": "big", "complex": "big"}
	for c, m := range want {
		if rel[c][0] != m {
			t.Errorf("keep 0.95 of big: %s = %v, want %s first", c, rel[c], m)
		}
	}
	if prov.Params["keep_quality"] != 0.95 || prov.Params["target"] != 0 {
		t.Errorf("params = %v, want keep_quality 0.95 and no absolute target", prov.Params)
	}
	// Without a named baseline each bucket's strongest well-sampled
	// model is the reference: the same choices here.
	noBase, _, err := Fit(obs, Options{KeepQuality: 0.95, Evidence: 30})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(noBase, rel) {
		t.Errorf("keep 0.95 of each bucket's strongest = %v, want %v", noBase, rel)
	}
	if _, _, err := Fit(obs, Options{KeepQuality: 1.2}); err == nil {
		t.Error("keep quality 1.2 accepted")
	}
}
