package learner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// curseBucket is one synthetic bucket of logged traffic: every request
// explored uniformly over the models (propensity 1/len(quality)), each
// model answering correctly with its true probability, all at one price.
type curseBucket struct {
	quality  []float64 // true success rate of models m0, m1, ...
	perModel int       // logged requests a model, in expectation
}

func (c curseBucket) model(i int) string { return fmt.Sprintf("m%d", i) }

// observations draws the bucket's logged traffic for one seed.
func (c curseBucket) observations(seed uint64) []router.Observation {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	M := len(c.quality)
	n := c.perModel * M
	obs := make([]router.Observation, n)
	for i := range obs {
		m := rng.IntN(M)
		obs[i] = router.Observation{
			RequestID:  strconv.FormatUint(seed<<32|uint64(i), 36),
			Complexity: router.Moderate, Bucket: string(router.Moderate),
			Model: c.model(m), Source: router.SourceFeedback, Weight: 1,
			Cost: 1000, Propensity: 1 / float64(M),
		}
		if rng.Float64() < c.quality[m] {
			obs[i].Score = 1
		}
	}
	return obs
}

// curseRun is what the gate made of one seed.
type curseRun struct {
	changed              bool    // the fit moved the bucket off the active model
	inSample, heldOut    float64 // the candidate's estimate, each way
	truthIn, truthHeld   float64 // the true quality each estimates
	promoteIn, promoteHO bool
}

// run fits the bucket as the learner does (the fit's evidence rule is the
// gate's MinSamples; an absolute target no model reaches, so the fit
// takes the strongest-looking model) and gates the fitted table against
// the active one, which sends the bucket to m0, in sample and held out.
func (c curseBucket) run(seed uint64) curseRun {
	obs := c.observations(seed)
	gopts := DefaultGateOptions()
	fopts := Options{Target: 0.99, Evidence: gopts.MinSamples}
	table, _, err := Fit(FromOutcomes(obs, nil, gopts.MaxWeight), fopts)
	if err != nil {
		panic(err)
	}
	active := router.Table{"simple": {"m0"}, "moderate": {"m0"}, "complex": {"m0"}}
	logged := LoggedFromOutcomes(obs, nil)
	folds := crossFitTables(obs, nil, gopts.MaxWeight, fopts, gateFolds)
	in := Gate(active, table, logged, nil, gopts)
	ho := GateHeldOut(active, table, folds, logged, nil, gopts)
	bucket := func(v Verdict) BucketVerdict {
		for _, b := range v.Buckets {
			if b.Bucket == string(router.Moderate) {
				return b
			}
		}
		panic("no moderate bucket in the verdict")
	}
	bi, bh := bucket(in), bucket(ho)
	r := curseRun{
		changed:  bi.CandidateModel != "m0",
		inSample: bi.Candidate.Quality, heldOut: bh.Candidate.Quality,
		truthIn:   c.quality[c.index(bi.CandidateModel)],
		promoteIn: in.Promote, promoteHO: ho.Promote,
	}
	// The held-out estimate scores each fold's requests at that fold's
	// choice: its truth is those choices' quality, folds weighted alike
	// (the hash makes them about equal).
	for _, m := range bh.FoldModels {
		r.truthHeld += c.quality[c.index(m)] / float64(len(bh.FoldModels))
	}
	return r
}

func (c curseBucket) index(model string) int {
	var i int
	if _, err := fmt.Sscanf(model, "m%d", &i); err != nil || i >= len(c.quality) {
		panic("unknown model " + model)
	}
	return i
}

func repeat(q float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = q
	}
	return out
}

// TestGateWinnersCurse: the fit picks the best-looking of nine models on
// the logged requests; estimated on the same requests, the pick looks
// better than it is (the winner's curse), and the gate promotes on noise.
// The held-out estimate scores each fold's requests at the choice fitted
// without them, so it is unbiased, and the gate promotes a change that
// truly loses more than its tolerance no more often than its margin of
// one standard error allows (one-sided, 15.9% at a drop of exactly the
// tolerance; less beyond it). A truly better model is still promoted.
func TestGateWinnersCurse(t *testing.T) {
	const q = 0.7
	tests := []struct {
		name   string
		bucket curseBucket
		seeds  int
		// Each check runs only when its bound is set.
		wantInBiasAbove    float64 // mean in-sample bias over changed seeds, at least
		wantHeldBiasBelow  float64 // |mean held-out bias| over changed seeds, at most (in its standard errors)
		wantInPromoteAbove float64
		wantHOPromoteBelow float64
		wantHOPromoteAbove float64
	}{{
		// Nine models of equal quality and price, m0 the active one: any
		// promotion is a move on noise.
		name:              "nine equal models",
		bucket:            curseBucket{quality: repeat(q, 9), perModel: 100},
		seeds:             100,
		wantInBiasAbove:   0.02,
		wantHeldBiasBelow: 3,
	}, {
		// The active model is truly better by twice the tolerance than
		// nine equal alternatives: every promotion loses 0.02 > 0.01.
		name:               "nine equal models, active better by twice the tolerance",
		bucket:             curseBucket{quality: append([]float64{q + 0.02}, repeat(q, 9)...), perModel: 200},
		seeds:              100,
		wantInBiasAbove:    0.02,
		wantHeldBiasBelow:  3,
		wantInPromoteAbove: 0.159,
		wantHOPromoteBelow: 0.159,
	}, {
		// One of nine alternatives is truly better by 0.08 at the same
		// price: with 600 requests a model the fix must still promote it.
		name:               "one truly better model",
		bucket:             curseBucket{quality: append(repeat(q, 5), q+0.08, q, q, q), perModel: 600},
		seeds:              20,
		wantHOPromoteAbove: 0.9,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var changed, promIn, promHO int
			var biasIn, biasHO, biasHO2 float64
			for s := range tt.seeds {
				r := tt.bucket.run(uint64(s + 1))
				if r.promoteIn {
					promIn++
				}
				if r.promoteHO {
					promHO++
				}
				if !r.changed {
					continue
				}
				changed++
				biasIn += r.inSample - r.truthIn
				d := r.heldOut - r.truthHeld
				biasHO += d
				biasHO2 += d * d
			}
			n := float64(tt.seeds)
			meanIn, meanHO := biasIn/float64(changed), biasHO/float64(changed)
			seHO := math.Sqrt(max(0, biasHO2/float64(changed)-meanHO*meanHO) / float64(changed))
			rateIn, rateHO := float64(promIn)/n, float64(promHO)/n
			t.Logf("%d seeds, %d changed: mean bias in-sample %+.4f, held-out %+.4f (se %.4f); promoted in-sample %.1f%%, held-out %.1f%%",
				tt.seeds, changed, meanIn, meanHO, seHO, 100*rateIn, 100*rateHO)
			if tt.wantInBiasAbove > 0 && !(meanIn >= tt.wantInBiasAbove) {
				t.Errorf("in-sample bias %+.4f, want at least %+.4f (the test no longer shows the curse)", meanIn, tt.wantInBiasAbove)
			}
			if tt.wantHeldBiasBelow > 0 && !(math.Abs(meanHO) <= tt.wantHeldBiasBelow*seHO) {
				t.Errorf("held-out bias %+.4f, want within %g standard errors (%.4f) of zero", meanHO, tt.wantHeldBiasBelow, seHO)
			}
			if tt.wantInPromoteAbove > 0 && !(rateIn > tt.wantInPromoteAbove) {
				t.Errorf("in-sample promotion rate %.3f, want above %.3f (the test no longer shows the curse)", rateIn, tt.wantInPromoteAbove)
			}
			if tt.wantHOPromoteBelow > 0 && !(rateHO <= tt.wantHOPromoteBelow) {
				t.Errorf("held-out promotion rate %.3f, want at most %.3f", rateHO, tt.wantHOPromoteBelow)
			}
			if tt.wantHOPromoteAbove > 0 && !(rateHO >= tt.wantHOPromoteAbove) {
				t.Errorf("held-out promotion rate %.3f, want at least %.3f", rateHO, tt.wantHOPromoteAbove)
			}
		})
	}
}

// withIDs names the logged requests r0, r1, ... so that they spread over
// the folds.
func withIDs(l []Logged) []Logged {
	for i := range l {
		l[i].ID = "r" + strconv.Itoa(i)
	}
	return l
}

// TestGateHeldOutFolds: the candidate's estimate comes from each fold's
// own choice; a bucket the folds do not all choose alike is unstable and
// neither counts nor rides along, and the verdict says the estimates are
// held out.
func TestGateHeldOutFolds(t *testing.T) {
	active := router.Table{"simple": {"big", "small"}, "moderate": {"big"}, "complex": {"big"}}
	cheaper := router.Table{"simple": {"small", "big"}, "moderate": {"big"}, "complex": {"big"}}
	traffic := withIDs(joinLogged(
		logged(router.Simple, "big", 0.5, 200, 190, 1000),
		logged(router.Simple, "small", 0.5, 200, 192, 10),
		logged(router.Moderate, "big", 1, 100, 90, 2000)))
	folds := func(choices ...string) []router.Table {
		out := make([]router.Table, len(choices))
		for f, c := range choices {
			out[f] = router.Table{"simple": {c}, "moderate": {"big"}, "complex": {"big"}}
		}
		return out
	}
	opts := GateOptions{MinSamples: 30, Tolerance: 0.02, MaxWeight: 20, Margin: 1}
	tests := []struct {
		name      string
		folds     []router.Table
		promote   bool
		cause     string
		unstable  bool
		candidate int // held-out samples of the candidate in simple
		explain   string
	}{{
		name:    "every fold chose small",
		folds:   folds("small", "small", "small", "small", "small"),
		promote: true, cause: CausePromoted, candidate: 200,
		explain: "(held-out estimate ±0.",
	}, {
		name:  "one fold chose big",
		folds: folds("small", "small", "big", "small", "small"),
		cause: CauseUnstable, unstable: true,
		explain: "with each of 5 folds held out in turn, small, big, so the change rests on which requests it saw",
	}, {
		name:    "no folds: in sample",
		promote: true, cause: CausePromoted, candidate: 200,
		explain: "quality goes from 0.950 to 0.960 (±0.",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := GateHeldOut(active, cheaper, tt.folds, traffic, nil, opts)
			if v.Promote != tt.promote || v.Cause != tt.cause {
				t.Fatalf("promote %v cause %s (%s), want %v %s", v.Promote, v.Cause, v.Reason, tt.promote, tt.cause)
			}
			if v.HeldOutFolds != len(tt.folds) {
				t.Errorf("held-out folds %d, want %d", v.HeldOutFolds, len(tt.folds))
			}
			b := v.Buckets[1] // simple
			if b.Bucket != "simple" || b.Unstable != tt.unstable || b.Counts == tt.unstable {
				t.Errorf("simple: unstable %v counts %v, want unstable %v", b.Unstable, b.Counts, tt.unstable)
			}
			if tt.candidate > 0 && b.Candidate.Samples != tt.candidate {
				t.Errorf("candidate samples %d, want %d", b.Candidate.Samples, tt.candidate)
			}
			if got := v.Explain(); !strings.Contains(got, tt.explain) {
				t.Errorf("Explain() = %q, want it to contain %q", got, tt.explain)
			}
			held, names := HoldBack(active, cheaper, v)
			if tt.unstable != (len(names) == 1 && held["simple"][0] == "big") {
				t.Errorf("HoldBack = %v, %v; want simple held on big only when unstable", held, names)
			}
		})
	}
}
