package learner

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// splitTraffic is one bucket whose prompts the text tells apart: on
// arithmetic small is as good as big, on proofs it mostly fails. The
// table sends every prompt to big (propensity 0.7), exploration to small
// (0.3), so only a per-prompt policy can save anything.
func splitTraffic(n int) ([]router.Observation, *memLocal) {
	local := &memLocal{texts: map[string]string{}, analyses: map[string]router.Analysis{}}
	var obs []router.Observation
	for i := range n {
		easy := i%2 == 0
		model, p, cost := "big", 0.7, router.Micros(2000)
		if i%10 >= 7 {
			model, p, cost = "small", 0.3, 20
		}
		ok := true
		switch {
		case model == "big":
			ok = i%20 != 1
		case !easy:
			ok = i%5 == 0
		}
		o := router.Observation{
			RequestID: fmt.Sprintf("r%d", i), Time: jobNow.Add(-time.Hour),
			Complexity: router.Moderate, Bucket: "moderate", Model: model,
			Source: router.SourceFeedback, Weight: 1, Cost: cost, Propensity: p, TableVersion: 1,
		}
		if ok {
			o.Score = 1
		}
		obs = append(obs, o)
		text := fmt.Sprintf("what is %d plus %d?", i, i+1)
		if !easy {
			text = fmt.Sprintf("prove that the sequence a_%d converges and bound its limit rigorously", i)
		}
		local.texts[o.RequestID] = text
	}
	return obs, local
}

func TestJobPromotesPerPromptPolicy(t *testing.T) {
	st := newMemStore(staticTable)
	obs, local := splitTraffic(1600)
	st.obs = obs
	j := newTestJob(t, st, JobOptions{
		Fit: Options{KeepQuality: 0.98, Baseline: "big"},
		// The service orders a policy's models by these prices.
		Models: router.Catalog{
			"small": {Name: "small", InputPerMTok: 0.1, OutputPerMTok: 0.1},
			"big":   {Name: "big", InputPerMTok: 10, OutputPerMTok: 10},
		},
		Local: LocalOptions{Store: local, MinSamples: 500},
	})
	rep, err := j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunPromoted || rep.Policy == nil || rep.Policy.Status != PolicyProposed || !rep.Policy.Verdict.Promote {
		t.Fatalf("run = %s (%s), policy %+v; want a promoted per-prompt policy", rep.Status, rep.Reason, rep.Policy)
	}
	v := st.snapshot()[1]
	if v.Status != router.StatusActive || v.Policy == nil || !slices.Equal(v.Policy.Models, []string{"small", "big"}) {
		t.Fatalf("version = %+v, want active with a policy over [small big]", v)
	}
	pt := v.Policy.Point
	if pt.Rule != router.RuleGap || pt.KeepQuality != 0.98 || pt.Baseline != "big" || !(pt.CostShare < 0.8) || !(pt.QualityShare-pt.Margin >= 0.98) {
		t.Errorf("point = %+v, want gap toward 98%% of big, cost share well under 1, quality share less margin >= 0.95", pt)
	}
	if v.Provenance.LocalModel == "" || v.Provenance.LocalModel != rep.Local.Digest {
		t.Errorf("version's local model %q, want the trained %q", v.Provenance.LocalModel, rep.Local.Digest)
	}
	pv := rep.Policy.Verdict
	// Half the prompts are arithmetic: sending (most of) them to small
	// saves much of the cost at about the same quality, on held-out
	// folds.
	if !(pv.CandidateCost < 0.8*pv.ActiveCost) || pv.CandidateQuality < pv.ActiveQuality-0.02 || pv.Samples != 1600 {
		t.Errorf("verdict = %+v, want cost down by more than 20%% at quality within 0.02 over 1600 prompts", pv)
	}
	if !strings.Contains(rep.Reason, "per-prompt policy: quality") || !strings.Contains(rep.Reason, "±") {
		t.Errorf("reason = %q, want the policy's estimate with its margin", rep.Reason)
	}
	// The version keeps the held-out verdict, not the point's own
	// figures: its why and its replay prediction.
	if g := v.Provenance.Gate; !strings.HasPrefix(g, "Promoted: per-prompt policy: quality") || !strings.Contains(g, "held-out") {
		t.Errorf("version's gate = %q, want the held-out verdict", g)
	}
	if q := v.Provenance.Params[router.ParamReplayQuality]; q != pv.CandidateQuality || v.Provenance.Params[router.ParamReplaySamples] != 1600 {
		t.Errorf("replay quality %v on %v prompts, want the verdict's %v on 1600", q, v.Provenance.Params[router.ParamReplaySamples], pv.CandidateQuality)
	}

	// Again with a little more of the same traffic: the local model
	// retrains to another digest, but the policy chosen routes as the
	// active one does, so nothing is promoted, and the active policy
	// keeps the model its point was chosen for (it is not re-promoted
	// with the new model as a "retrained local model").
	more, moreLocal := splitTraffic(1700)
	st.obs = more
	for id, text := range moreLocal.texts {
		local.texts[id] = text
	}
	rep, err = j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Local == nil || rep.Local.Digest == "" || rep.Local.Digest == v.Provenance.LocalModel {
		t.Fatalf("second run's local model %+v, want one retrained to a new digest", rep.Local)
	}
	vs := st.snapshot()
	active := vs[0]
	for _, x := range vs {
		if x.Status == router.StatusActive {
			active = x
		}
	}
	if rep.Status == RunPromoted || active.ID != v.ID {
		t.Errorf("second run = %s (%s), active v%d; want the active policy v%d kept", rep.Status, rep.Reason, active.ID, v.ID)
	}
}

func TestDoublyRobust(t *testing.T) {
	rows := []LoggedPrompt{
		{Model: "a", Propensity: 0.5, Score: 1, Cost: 10},
		{Model: "b", Propensity: 0.25, Score: 0, Cost: 100},
	}
	pred := []float64{0.6, 0.8, 0.4, math.NaN()}
	d := doublyRobust(rows, pred, []string{"a", "b"}, []float64{12, 90}, 20)
	want := PointData{K: 2, Pred: pred,
		// a on row 0: 0.6 + 2*(1-0.6); b on row 1 has no prediction.
		Quality: []float64{1.4, 0.8, 0.4, math.NaN()},
		// a on row 0: 12 + 2*(10-12); b on row 1: 90 + 4*(100-90).
		Cost: []float64{8, 90, 12, 130},
	}
	for i := range want.Quality {
		q, wq := d.Quality[i], want.Quality[i]
		if math.IsNaN(wq) != math.IsNaN(q) || !math.IsNaN(wq) && math.Abs(q-wq) > 1e-12 || math.Abs(d.Cost[i]-want.Cost[i]) > 1e-12 {
			t.Errorf("cell %d: quality %v cost %v, want %v %v", i, q, d.Cost[i], wq, want.Cost[i])
		}
	}
}
