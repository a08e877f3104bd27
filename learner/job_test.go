package learner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// memStore is an in-memory store for the job: versions, observations,
// a lock, and failures to inject.
type memStore struct {
	mu       sync.Mutex
	versions []router.Version // by id - 1
	obs      []router.Observation
	locked   bool
	// failures by method name
	fail map[string]error
	// beforePromote, if set, runs at the start of PromoteOver (another
	// actor changing the versions meanwhile).
	beforePromote func()
	// onCall, if set, runs at the start of Observations, CreateVersion
	// and PromoteOver with the method's name.
	onCall func(method string)
}

func (m *memStore) called(method string) {
	if m.onCall != nil {
		m.onCall(method)
	}
}

func newMemStore(t router.Table) *memStore {
	return &memStore{versions: []router.Version{{ID: 1, Status: router.StatusActive, Source: "config", Table: t}}, fail: map[string]error{}}
}

func (m *memStore) err(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fail[name]
}

func (m *memStore) Observations(_ context.Context, from, to time.Time) ([]router.Observation, error) {
	m.called("Observations")
	if err := m.err("Observations"); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []router.Observation
	for _, o := range m.obs {
		if !o.Time.Before(from) && o.Time.Before(to) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (m *memStore) ActiveVersion(context.Context) (router.Version, error) {
	if err := m.err("ActiveVersion"); err != nil {
		return router.Version{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.versions {
		if v.Status == router.StatusActive {
			return v, nil
		}
	}
	return router.Version{}, router.Errorf(router.KindNotFound, "version", "none active")
}

func (m *memStore) ListVersions(context.Context) ([]router.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]router.Version, 0, len(m.versions))
	for i := len(m.versions) - 1; i >= 0; i-- {
		out = append(out, m.versions[i])
	}
	return out, nil
}

func (m *memStore) CreateVersion(_ context.Context, v router.Version) (router.Version, error) {
	m.called("CreateVersion")
	if err := m.err("CreateVersion"); err != nil {
		return router.Version{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v.ID = int64(len(m.versions) + 1)
	m.versions = append(m.versions, v)
	return v, nil
}

func (m *memStore) PromoteOver(_ context.Context, id, expect int64) error {
	m.called("PromoteOver")
	if err := m.err("Promote"); err != nil {
		return err
	}
	if m.beforePromote != nil {
		m.beforePromote()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.versions {
		if v.Status == router.StatusActive && v.ID != expect {
			return fmt.Errorf("active version is %d, not %d", v.ID, expect)
		}
	}
	for i := range m.versions {
		if m.versions[i].Status == router.StatusActive {
			m.versions[i].Status = router.StatusRetired
		}
	}
	m.versions[id-1].Status = router.StatusActive
	return nil
}

func (m *memStore) TryLearnerLock(context.Context) (func(), bool, error) {
	if err := m.err("TryLearnerLock"); err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locked {
		return nil, false, nil
	}
	m.locked = true
	return func() {
		m.mu.Lock()
		m.locked = false
		m.mu.Unlock()
	}, true, nil
}

func (m *memStore) snapshot() []router.Version {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]router.Version(nil), m.versions...)
}

var (
	jobNow    = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	jobModels = router.Catalog{"small": {Name: "small"}, "big": {Name: "big"}}
	// staticTable sends everything to big first.
	staticTable = router.Table{"simple": {"big", "small"}, "moderate": {"big", "small"}, "complex": {"big", "small"}}
)

// traffic makes n logged requests of a bucket first sent to model with
// propensity p, each with one feedback outcome: ok of them 1, the rest 0.
func traffic(c router.Complexity, model string, p float64, n, ok int, cost router.Micros) []router.Observation {
	out := make([]router.Observation, n)
	for i := range out {
		out[i] = router.Observation{
			RequestID: fmt.Sprintf("%s-%s-%v-%d", c, model, p, i), Time: jobNow.Add(-time.Hour),
			Complexity: c, Bucket: string(c), Model: model, Attempt: 0,
			Source: router.SourceFeedback, Weight: 1, Cost: cost, Propensity: p, TableVersion: 1,
		}
		if i < ok {
			out[i].Score = 1
		}
	}
	return out
}

// goodTraffic: small is as good as big on simple prompts at a hundredth
// of the price, and worse on the rest.
func goodTraffic() []router.Observation {
	var obs []router.Observation
	for _, part := range [][]router.Observation{
		traffic(router.Simple, "big", 0.7, 300, 297, 1000),
		traffic(router.Simple, "small", 0.3, 150, 149, 10),
		traffic(router.Moderate, "big", 0.7, 200, 190, 2000),
		traffic(router.Moderate, "small", 0.3, 100, 50, 20),
		traffic(router.Complex, "big", 0.7, 200, 180, 4000),
		traffic(router.Complex, "small", 0.3, 100, 20, 40),
	} {
		obs = append(obs, part...)
	}
	return obs
}

func newTestJob(t *testing.T, st *memStore, opts JobOptions) *Job {
	t.Helper()
	opts.Outcomes, opts.Versions, opts.Lock = st, st, st
	opts.Now = func() time.Time { return jobNow }
	if opts.Models == nil {
		opts.Models = jobModels
	}
	if opts.Gate == (GateOptions{}) {
		opts.Gate = GateOptions{MinSamples: 30, Tolerance: 0.02}
	}
	j, err := NewJob(opts)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJobPromotes(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	var promoted []int64
	j := newTestJob(t, st, JobOptions{OnPromote: func(v router.Version) { promoted = append(promoted, v.ID) }})
	rep, err := j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunPromoted {
		t.Fatalf("status = %s (%s), want promoted", rep.Status, rep.Reason)
	}
	vs := st.snapshot()
	if len(vs) != 2 || vs[0].Status != router.StatusRetired || vs[1].Status != router.StatusActive {
		t.Fatalf("versions = %+v, want v1 retired and v2 active", vs)
	}
	v2 := vs[1]
	if v2.ParentID != 1 || v2.Source != "learner" || !strings.HasPrefix(v2.Note, "promoted by the gate") {
		t.Errorf("v2 = parent %d source %q note %q", v2.ParentID, v2.Source, v2.Note)
	}
	if got := v2.Table["simple"][0]; got != "small" {
		t.Errorf("v2 simple first choice = %s, want small", got)
	}
	if got := v2.Table["complex"][0]; got != "big" {
		t.Errorf("v2 complex first choice = %s, want big", got)
	}
	p := v2.Provenance
	if !p.WindowTo.Equal(jobNow) || !p.WindowFrom.Equal(jobNow.Add(-DefaultWindow)) || p.Samples != 1050 || p.Params["gate_min_samples"] != 30 {
		t.Errorf("provenance = window %v..%v samples %d params %v", p.WindowFrom, p.WindowTo, p.Samples, p.Params)
	}
	if len(promoted) != 1 || promoted[0] != 2 {
		t.Errorf("OnPromote saw %v, want [2]", promoted)
	}
	if rep.Diff == nil || len(rep.Diff.Changed()) == 0 || rep.Verdict == nil || !rep.Verdict.Promote {
		t.Errorf("report = %+v, want a diff and a promoting verdict", rep)
	}

	// The same evidence again: the fitted table is now the active one.
	rep, err = j.Run(context.Background(), false)
	if err != nil || rep.Status != RunUnchanged || len(st.snapshot()) != 2 {
		t.Errorf("second run = %s, %v with %d versions; want unchanged, still 2", rep.Status, err, len(st.snapshot()))
	}
}

// badTraffic: small looks cheap and adequate at a lenient target, but
// worse than big by more than the tolerance.
func badTraffic() []router.Observation {
	var obs []router.Observation
	for _, part := range [][]router.Observation{
		traffic(router.Simple, "big", 0.7, 300, 297, 1000),
		traffic(router.Simple, "small", 0.3, 150, 135, 10),
		traffic(router.Moderate, "big", 0.7, 100, 95, 2000),
		traffic(router.Complex, "big", 0.7, 100, 95, 4000),
	} {
		obs = append(obs, part...)
	}
	return obs
}

func TestJobKeepsRefusedCandidate(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = badTraffic()
	j := newTestJob(t, st, JobOptions{Fit: Options{Target: 0.8}})
	rep, err := j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunKept {
		t.Fatalf("status = %s (%s), want kept", rep.Status, rep.Reason)
	}
	vs := st.snapshot()
	if len(vs) != 2 || vs[0].Status != router.StatusActive || vs[1].Status != router.StatusCandidate {
		t.Fatalf("versions = %+v, want v1 still active and v2 a candidate", vs)
	}
	if !strings.Contains(vs[1].Note, "quality drops") || !strings.Contains(vs[1].Note, "simple") {
		t.Errorf("v2 note = %q, want the bucket whose quality drops", vs[1].Note)
	}
	// The stored version says why in one sentence, and its diff from
	// its parent carries it.
	if g := vs[1].Provenance.Gate; !strings.HasPrefix(g, "Kept: in simple quality would drop") {
		t.Errorf("v2 gate sentence = %q, want the dropping bucket", g)
	}
	if why := router.Diff(vs[0], vs[1]).Why; why != vs[1].Provenance.Gate {
		t.Errorf("diff v1 -> v2 why = %q, want the gate's sentence", why)
	}
	// Refused again on the same table: no second candidate.
	rep, err = j.Run(context.Background(), false)
	if err != nil || rep.Status != RunUnchanged || len(st.snapshot()) != 2 {
		t.Errorf("second run = %s (%s), %v with %d versions; want unchanged, still 2", rep.Status, rep.Reason, err, len(st.snapshot()))
	}
}

func TestJobDryRunWritesNothing(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	st.locked = true // a dry run takes no lock either
	j := newTestJob(t, st, JobOptions{})
	rep, err := j.Run(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunPromoted || !rep.DryRun || rep.Candidate == nil || rep.Candidate.ID != 0 {
		t.Errorf("dry run = %s dry %v candidate %+v; want a would-promote, unstored", rep.Status, rep.DryRun, rep.Candidate)
	}
	if n := len(st.snapshot()); n != 1 {
		t.Errorf("versions after a dry run = %d, want 1", n)
	}
	if rep.Diff == nil || !strings.HasPrefix(rep.Diff.Why, "Promoted: in simple") {
		t.Errorf("dry run diff = %+v, want why the gate would promote", rep.Diff)
	}
}

// TestJobDatabaseDown is FAULTS.md F12 and F15 for the learner: a failing
// database changes nothing, and a promotion that fails leaves the
// candidate written whole and the active version active.
func TestJobDatabaseDown(t *testing.T) {
	down := errors.New("connection refused")
	for _, method := range []string{"TryLearnerLock", "ActiveVersion", "Observations", "CreateVersion", "Promote"} {
		t.Run(method, func(t *testing.T) {
			st := newMemStore(staticTable)
			st.obs = goodTraffic()
			st.fail[method] = down
			promoted := false
			j := newTestJob(t, st, JobOptions{OnPromote: func(router.Version) { promoted = true }})
			_, err := j.Run(context.Background(), false)
			if !errors.Is(err, down) {
				t.Fatalf("Run = %v, want the database error", err)
			}
			vs := st.snapshot()
			if vs[0].Status != router.StatusActive || promoted {
				t.Errorf("v1 = %s, promoted %v; want v1 still active and nothing swapped in", vs[0].Status, promoted)
			}
			wantVersions := 1
			if method == "Promote" {
				wantVersions = 2
			}
			if len(vs) != wantVersions || vs[len(vs)-1].Status != vs[len(vs)-1].Status {
				t.Errorf("versions = %d, want %d", len(vs), wantVersions)
			}
			if method == "Promote" && vs[1].Status != router.StatusCandidate {
				t.Errorf("v2 = %s after a failed promotion, want candidate", vs[1].Status)
			}
			if st.locked {
				t.Error("the lock is still held after the run")
			}
		})
	}
}

// A run whose context ends part-way (serve's SIGTERM) stops before its
// next step and never begins a write, even against a store that would
// still take one: cancelled while reading, nothing is written; cancelled
// while the candidate was being written (the store took it whole), it is
// not promoted. Either way nothing is swapped in and the lock is
// released. The store ignores the context here, as one that had already
// taken the call would.
func TestJobStopsWhenCancelled(t *testing.T) {
	shutdown := errors.New("shutting down")
	tests := []struct {
		during       string
		wantVersions int
	}{
		{"Observations", 1},
		{"CreateVersion", 2},
	}
	for _, tt := range tests {
		t.Run(tt.during, func(t *testing.T) {
			st := newMemStore(staticTable)
			st.obs = goodTraffic()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			st.onCall = func(method string) {
				if method == tt.during {
					cancel(shutdown)
				}
			}
			promoted := false
			j := newTestJob(t, st, JobOptions{OnPromote: func(router.Version) { promoted = true }})
			rep, err := j.Run(ctx, false)
			if !errors.Is(err, shutdown) {
				t.Fatalf("Run = %s, %v; want stopped with the cancellation's cause", rep.Status, err)
			}
			vs := st.snapshot()
			if len(vs) != tt.wantVersions || vs[0].Status != router.StatusActive || promoted {
				t.Errorf("versions = %d, v1 %s, promoted %v; want %d, v1 still active, nothing swapped in", len(vs), vs[0].Status, promoted, tt.wantVersions)
			}
			if len(vs) == 2 && (vs[1].Status != router.StatusCandidate || rep.Status != RunKept) {
				t.Errorf("v2 = %s, run %s; want a candidate kept whole", vs[1].Status, rep.Status)
			}
			if st.locked {
				t.Error("the lock is still held after the run")
			}
		})
	}
}

func TestJobLockedAndNoData(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	st.locked = true
	j := newTestJob(t, st, JobOptions{})
	if rep, err := j.Run(context.Background(), false); err != nil || rep.Status != RunLocked {
		t.Errorf("run while locked = %s, %v; want locked", rep.Status, err)
	}
	st.locked = false
	// Only unrouted requests (a named model: no complexity) and a model
	// that is not configured: nothing usable.
	unrouted := traffic(router.Simple, "big", 1, 50, 50, 10)
	for i := range unrouted {
		unrouted[i].Complexity = ""
	}
	st.obs = append(unrouted, traffic(router.Simple, "gone", 1, 50, 50, 10)...)
	if rep, err := j.Run(context.Background(), false); err != nil || rep.Status != RunNoData {
		t.Errorf("run without usable data = %s, %v; want no_data", rep.Status, err)
	}
	if n := len(st.snapshot()); n != 1 {
		t.Errorf("versions = %d, want 1", n)
	}
}

func TestJobLabeledDatasetVetoes(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	j := newTestJob(t, st, JobOptions{Labeled: func(context.Context) (LabeledSet, error) {
		return fakeLabeled{"big": {0.95, 1000}, "small": {0.5, 10}}, nil
	}})
	rep, err := j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunKept || !strings.Contains(rep.Reason, "labeled dataset") {
		t.Errorf("run = %s (%s), want kept by the labeled dataset", rep.Status, rep.Reason)
	}
	if vs := st.snapshot(); vs[0].Status != router.StatusActive {
		t.Errorf("v1 = %s, want still active", vs[0].Status)
	}
}

func TestFromOutcomesWeights(t *testing.T) {
	obs := []router.Observation{
		{Complexity: router.Simple, Model: "small", Attempt: 0, Weight: 1, Propensity: 0.25, Score: 1},
		{Complexity: router.Simple, Model: "small", Attempt: 0, Weight: 0.5, Propensity: 0.001, Score: 0}, // capped
		{Complexity: router.Simple, Model: "big", Attempt: 1, Weight: 0.5, Propensity: 0.25, Score: 1},    // escalated: no 1/p
		{Complexity: "", Model: "big", Attempt: 0, Weight: 1, Propensity: 1, Score: 1},                    // unrouted
	}
	got := FromOutcomes(obs, nil, 20)
	want := []float64{4, 10, 0.5}
	if len(got) != len(want) {
		t.Fatalf("FromOutcomes kept %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Weight != want[i] {
			t.Errorf("observation %d weight = %v, want %v", i, got[i].Weight, want[i])
		}
	}
	l := LoggedFromOutcomes(append(obs, router.Observation{Complexity: router.Simple, Model: "small", Attempt: 0, Weight: 0.4, Score: 0, RequestID: ""}), nil)
	// The first two and the added one share the empty request id: one
	// request, its score the source-weighted mean (1*1 + 0.5*0 + 0.4*0)/1.9.
	if len(l) != 1 || l[0].Model != "small" || l[0].Propensity != 0.25 || l[0].Score != 1/1.9 {
		t.Errorf("LoggedFromOutcomes = %+v, want one small request scored 1/1.9", l)
	}
}

// TestJobHoldsBackThinBuckets: a bucket whose new first choice rests on
// too few samples keeps the active table's models when the rest of the
// candidate is promoted.
func TestJobHoldsBackThinBuckets(t *testing.T) {
	st := newMemStore(staticTable)
	var obs []router.Observation
	for _, part := range [][]router.Observation{
		traffic(router.Simple, "big", 0.7, 300, 297, 1000),
		traffic(router.Simple, "small", 0.3, 150, 149, 10),
		traffic(router.Moderate, "big", 0.7, 200, 190, 2000),
		traffic(router.Complex, "big", 0.7, 100, 60, 4000),
		traffic(router.Complex, "small", 0.3, 10, 10, 40), // adequate at 0.5, but thin
	} {
		obs = append(obs, part...)
	}
	st.obs = obs
	// With the fit's own evidence rule (the gate's 30 samples) the thin
	// bucket is never proposed.
	rep, err := newTestJob(t, st, JobOptions{Fit: Options{Target: 0.5}}).Run(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Candidate.Table["complex"][0]; got != "big" {
		t.Errorf("fit on 10 samples moved complex to %s, want it kept on big", got)
	}
	// A fit that asks for less evidence than the gate: the gate holds
	// the thin bucket back.
	j := newTestJob(t, st, JobOptions{Fit: Options{Target: 0.5, Evidence: 5}})
	rep, err = j.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != RunPromoted {
		t.Fatalf("status = %s (%s), want promoted", rep.Status, rep.Reason)
	}
	v := st.snapshot()[1]
	if v.Table["simple"][0] != "small" || v.Table["complex"][0] != "big" {
		t.Errorf("promoted table = %v, want simple to small and complex held on big", v.Table)
	}
	if !strings.Contains(v.Note, "held back on too few samples: complex") {
		t.Errorf("note = %q, want the held-back bucket named", v.Note)
	}
}

func TestHoldBackRefinedBucket(t *testing.T) {
	active := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}
	candidate := router.Table{"simple": {"small"}, "simple/math": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	v := Verdict{Buckets: []BucketVerdict{
		{Bucket: "simple", ActiveModel: "big", CandidateModel: "small", Counts: true},
		{Bucket: "simple/math", ActiveModel: "big", CandidateModel: "small"},
	}}
	got, held := HoldBack(active, candidate, v)
	if got["simple/math"][0] != "big" || got["simple"][0] != "small" || len(held) != 1 || held[0] != "simple/math" {
		t.Errorf("HoldBack = %v, %v; want simple/math back on big, simple kept", got, held)
	}
	if candidate["simple/math"][0] != "small" {
		t.Error("HoldBack modified its argument")
	}
}

// An operator's promotion between the learner reading the active version
// and promoting its candidate wins: the candidate is kept.
func TestJobDoesNotOverrideAManualPromotion(t *testing.T) {
	st := newMemStore(staticTable)
	st.obs = goodTraffic()
	j := newTestJob(t, st, JobOptions{})
	st.beforePromote = func() {
		// The operator promotes another version meanwhile.
		st.versions = append(st.versions, router.Version{ID: int64(len(st.versions) + 1), Status: router.StatusCandidate, Table: st.versions[0].Table})
		for i := range st.versions {
			st.versions[i].Status = router.StatusRetired
		}
		st.versions[len(st.versions)-1].Status = router.StatusActive
	}
	rep, err := j.Run(context.Background(), false)
	if err == nil || rep.Status == RunPromoted {
		t.Fatalf("Run = %s, %v; want the promotion refused", rep.Status, err)
	}
	vs := st.snapshot()
	if last := vs[len(vs)-1]; last.Status != router.StatusActive || last.Source == "learner" {
		t.Errorf("versions = %+v, want the operator's version still active", vs)
	}
}
