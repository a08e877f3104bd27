package learner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// memLocal is an in-memory LocalStore.
type memLocal struct {
	mu       sync.Mutex
	texts    map[string]string
	analyses map[string]router.Analysis
	models   map[string][]byte
	pruned   []time.Time
	putErr   error
}

func (m *memLocal) KeptPrompts(context.Context, time.Time, time.Time) (map[string]string, map[string]router.Analysis, error) {
	return m.texts, m.analyses, nil
}

func (m *memLocal) PrunePrompts(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruned = append(m.pruned, before)
	return 0, nil
}

func (m *memLocal) PutLocalModel(_ context.Context, digest string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.putErr != nil {
		return m.putErr
	}
	if m.models == nil {
		m.models = map[string][]byte{}
	}
	m.models[digest] = data
	return nil
}

// keptTexts gives each request of obs a prompt text telling its bucket:
// arithmetic for simple requests, proofs for the rest; every third
// request also has an LLM analysis.
func keptTexts(obs []router.Observation) *memLocal {
	m := &memLocal{texts: map[string]string{}, analyses: map[string]router.Analysis{}}
	for i, o := range obs {
		text := fmt.Sprintf("prove that the sequence a_%d converges and bound its limit rigorously", i)
		if o.Complexity == router.Simple {
			text = fmt.Sprintf("what is %d plus %d?", i, i+1)
		}
		m.texts[o.RequestID] = text
		if i%3 == 0 {
			m.analyses[o.RequestID] = router.Analysis{Complexity: o.Complexity, Category: "math", Tier: router.TierLLM}
		}
	}
	return m
}

func TestJobTrainsLocalModel(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	local := keptTexts(st.obs)
	j := newTestJob(t, st, JobOptions{Local: LocalOptions{Store: local, MinSamples: 500}})
	rep, err := j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunPromoted || rep.Local == nil || rep.Local.Status != LocalTrained {
		t.Fatalf("run = %s (%s), local %+v; want promoted with a trained local model", rep.Status, rep.Reason, rep.Local)
	}
	if len(local.pruned) != 1 || !local.pruned[0].Equal(jobNow.Add(-DefaultWindow)) {
		t.Errorf("pruned before %v, want once before the window's start %v", local.pruned, jobNow.Add(-DefaultWindow))
	}
	v2 := st.snapshot()[1]
	p := v2.Provenance
	data, ok := local.models[p.LocalModel]
	if p.LocalModel == "" || !ok || p.LocalModel != rep.Local.Digest {
		t.Fatalf("v2 local model %q, report %q, stored %v; want the stored model's digest", p.LocalModel, rep.Local.Digest, ok)
	}
	if p.Params["local_prompts"] != 1050 || p.Params["local_samples:big"] == 0 || p.Params["local_samples:small"] == 0 {
		t.Errorf("provenance params = %v, want local_prompts 1050 and samples per head", p.Params)
	}
	m, err := textmodel.UnmarshalBinary(data)
	if err != nil {
		t.Fatal(err)
	}
	// The model learnt what the outcomes say: small answers arithmetic,
	// not proofs.
	small := m.Head(textmodel.KindModel, "small")
	easy := m.Predict("what is 7 plus 8?", nil)[small]
	hard := m.Predict("prove that the sequence a_7 converges and bound its limit rigorously", nil)[small]
	if !(easy > 0.8 && hard < 0.6) {
		t.Errorf("P(small succeeds) = %.2f on arithmetic, %.2f on a proof; want > 0.8 and < 0.6", easy, hard)
	}
	for _, h := range rep.Local.Heads {
		if h.Held == 0 || !(h.LogLoss > 0 && h.LogLoss < 0.69) || !(h.ECE >= 0 && h.ECE < 0.2) {
			t.Errorf("head %+v: want held-out log loss below chance and ECE < 0.2", h)
		}
	}

	// The same evidence again trains the same model: nothing to write.
	rep, err = j.Run(context.Background(), false)
	if err != nil || rep.Status != RunUnchanged || len(st.snapshot()) != 2 {
		t.Fatalf("second run = %s (%s), %v; want unchanged with 2 versions", rep.Status, rep.Reason, err)
	}

	// More prompts, same table: a version with the retrained model.
	extra := traffic(router.Simple, "small", 0.3, 40, 40, 10)
	for i := range extra {
		extra[i].RequestID = "extra-" + extra[i].RequestID
		local.texts[extra[i].RequestID] = fmt.Sprintf("what is %d times 3?", i)
	}
	st.obs = append(st.obs, extra...)
	var promoted []int64
	j = newTestJob(t, st, JobOptions{Local: LocalOptions{Store: local, MinSamples: 500}, OnPromote: func(v router.Version) { promoted = append(promoted, v.ID) }})
	rep, err = j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	vs := st.snapshot()
	if rep.Status != RunPromoted || len(vs) != 3 || vs[2].Status != router.StatusActive || !strings.Contains(vs[2].Note, "local classifier was retrained") {
		t.Fatalf("third run = %s (%s), versions %d; want v3 promoted for the retrained model", rep.Status, rep.Reason, len(vs))
	}
	if vs[2].Provenance.LocalModel == p.LocalModel || len(promoted) != 1 || promoted[0] != 3 {
		t.Errorf("v3 local model %q (v2 %q), OnPromote %v; want a new model and [3]", vs[2].Provenance.LocalModel, p.LocalModel, promoted)
	}
}

func TestJobLocalModelFailuresLeaveTheTable(t *testing.T) {
	tests := []struct {
		name       string
		minSamples int
		putErr     error
		wantStatus string
	}{
		{"too few prompts", 5000, nil, LocalTooFew},
		{"store refuses the model", 100, errors.New("disk full"), LocalFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore(staticTable)
			st.obs = goodTraffic()
			// The active version has a model: it is carried over.
			st.versions[0].Provenance.LocalModel = "previous"
			local := keptTexts(st.obs)
			local.putErr = tt.putErr
			j := newTestJob(t, st, JobOptions{Local: LocalOptions{Store: local, MinSamples: tt.minSamples}})
			rep, err := j.Run(context.Background(), false)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != RunPromoted || rep.Local == nil || rep.Local.Status != tt.wantStatus {
				t.Fatalf("run = %s, local %+v; want promoted, local %s", rep.Status, rep.Local, tt.wantStatus)
			}
			v2 := st.snapshot()[1]
			if v2.Provenance.LocalModel != "previous" || v2.Provenance.Params["local_prompts"] != 0 {
				t.Errorf("v2 provenance = %+v, want the active version's model carried over, no local figures", v2.Provenance)
			}
		})
	}
}

func TestLocalExamples(t *testing.T) {
	obs := []router.Observation{
		{RequestID: "a", Complexity: router.Simple, Model: "small", Score: 1, Weight: 1, Source: router.SourceFeedback, Propensity: 0.25},
		{RequestID: "b", Complexity: router.Simple, Model: "small", Score: 0, Weight: 0.5, Source: router.SourceEscalation, Propensity: 0.5},
		{RequestID: "b", Complexity: router.Simple, Model: "big", Score: 1, Weight: 1, Source: router.SourceFeedback, Attempt: 1, Propensity: 0.5},
		{RequestID: "c", Complexity: router.Simple, Model: "small", Score: 1, Weight: 1},   // no kept text
		{RequestID: "a", Complexity: router.Simple, Model: "unknown", Score: 1, Weight: 1}, // not in the catalog
	}
	texts := map[string]string{"a": "same prompt", "b": "same prompt"}
	analyses := map[string]router.Analysis{"b": {Complexity: router.Moderate, Category: "math"}}
	got := localExamples(obs, texts, analyses, jobModels, 20)
	if len(got) != 1 {
		t.Fatalf("examples = %+v, want one (two requests of one prompt)", got)
	}
	ex := got[0]
	if ex.Prompt != "same prompt" || len(ex.Scores) != 2 || ex.Scores["big"] != 1 || ex.Scores["small"] != 1/1.5 {
		t.Errorf("example = %+v, want big 1, small weighted mean 1/1.5", ex)
	}
	// small: first attempts at propensities 0.25 and 0.5, source weights
	// 1 and 0.5: (1*4 + 0.5*2)/1.5. big: an escalation, weight 1.
	if ex.Weights["small"] != 5/1.5 || ex.Weights["big"] != 1 {
		t.Errorf("weights = %v, want small %v (inverse propensities), big 1 (an escalation)", ex.Weights, 5/1.5)
	}
	if plain := localExamples(obs, texts, analyses, jobModels, 0); plain[0].Weights != nil {
		t.Errorf("weights without importance weighting: %v, want none", plain[0].Weights)
	}
	if ex.Category != "math" || ex.Topic != "moderate" || ex.Analysis != nil {
		t.Errorf("labels = category %q topic %q analysis %v; want math, moderate, no analysis feature", ex.Category, ex.Topic, ex.Analysis)
	}
}

// TestLocalHeadJSON: a head with no held-out label (NaN figures) still
// encodes, as null, so `learn --json` does not fail on a rarely explored
// model.
func TestLocalHeadJSON(t *testing.T) {
	for _, tt := range []struct {
		head LocalHead
		want string
	}{
		{LocalHead{Model: "m", Samples: 3, LogLoss: math.NaN(), ECE: math.NaN()}, `{"model":"m","samples":3,"held":0,"log_loss":null,"ece":null}`},
		{LocalHead{Model: "m", Samples: 3, Held: 2, LogLoss: 0.5, ECE: 0.25}, `{"model":"m","samples":3,"held":2,"log_loss":0.5,"ece":0.25}`},
	} {
		got, err := json.Marshal(LocalReport{Heads: []LocalHead{tt.head}})
		if err != nil {
			t.Fatalf("%+v: %v", tt.head, err)
		}
		if !strings.Contains(string(got), tt.want) {
			t.Errorf("got %s, want it to hold %s", got, tt.want)
		}
	}
}

// TestUnfittedPrompts checks the prompts the deployed point's cost is
// matched on are exactly the ones the trained model's weights never
// fitted: the learner's held-out share and Train's calibration slice,
// less a prompt that a fitted example repeats.
func TestUnfittedPrompts(t *testing.T) {
	opts := textmodel.Options{Seed: 7}
	for _, tc := range []struct {
		name           string
		train, held    int
		wantCalibShare bool // the slice is big enough to be kept
	}{
		{"large", 1000, 100, true},
		{"slice under MinCalibration", 200, 20, false},
		{"nothing held", 600, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := func(n int, prefix string) []textmodel.Example {
				out := make([]textmodel.Example, n)
				for i := range out {
					out[i] = textmodel.Example{Prompt: fmt.Sprintf("%s %d", prefix, i)}
				}
				return out
			}
			train, held := ex(tc.train, "train"), ex(tc.held, "held")
			calib, err := textmodel.CalibrationSlice(len(train), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(calib) > 0; got != tc.wantCalibShare {
				t.Fatalf("calibration slice of %d: %d prompts", len(train), len(calib))
			}
			// One fitted example repeats the first calibration prompt's text:
			// its outcomes were fitted, so it is not unfitted.
			var repeated string
			if len(calib) > 0 {
				repeated = train[calib[0]].Prompt
				for i := range train {
					if !slices.Contains(calib, i) {
						train[i].Prompt = repeated
						break
					}
				}
			}
			got := unfittedPrompts(train, held, opts)
			want := map[string]bool{}
			for _, e := range held {
				want[e.Prompt] = true
			}
			for _, i := range calib {
				want[train[i].Prompt] = true
			}
			delete(want, repeated)
			if !maps.Equal(got, want) {
				t.Fatalf("unfitted: %d prompts, want %d", len(got), len(want))
			}
			if len(calib) > 0 && got[repeated] {
				t.Fatalf("%q is fitted by another example but listed unfitted", repeated)
			}
		})
	}
}
