package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

const testToken = "s3cret-admin-token"

const xssNote = "<script>alert(1)</script>"

// fakeData serves fixed versions, spend and eval runs, counting every
// call so tests can show a refused request touched nothing.
type fakeData struct {
	versions []router.Version // newest first
	spend    []router.Spend
	evals    []router.EvalRun
	calls    atomic.Int64
}

func (f *fakeData) ListVersions(context.Context) ([]router.Version, error) {
	f.calls.Add(1)
	return f.versions, nil
}

func (f *fakeData) GetVersion(_ context.Context, id int64) (router.Version, error) {
	f.calls.Add(1)
	for _, v := range f.versions {
		if v.ID == id {
			return v, nil
		}
	}
	return router.Version{}, router.Errorf(router.KindNotFound, "version", "no routing-table version %d", id)
}

func (f *fakeData) ActiveVersion(context.Context) (router.Version, error) {
	f.calls.Add(1)
	for _, v := range f.versions {
		if v.Status == router.StatusActive {
			return v, nil
		}
	}
	return router.Version{}, router.Errorf(router.KindNotFound, "version", "no active version")
}

func (f *fakeData) Spend(context.Context, time.Time, time.Time) ([]router.Spend, error) {
	f.calls.Add(1)
	return f.spend, nil
}

func (f *fakeData) ListEvalRuns(context.Context, int) ([]router.EvalRun, error) {
	f.calls.Add(1)
	return f.evals, nil
}

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newFake() *fakeData {
	created := testNow.Add(-time.Hour)
	return &fakeData{
		versions: []router.Version{
			{ID: 2, ParentID: 1, Status: router.StatusActive, Source: "learner", CreatedAt: created, Note: xssNote,
				Table: router.Table{"simple": {"gpt-4o-mini", "llama-3.1-8b-instant"}, "complex": {"gpt-4o"}},
				Provenance: router.Provenance{Samples: 120, Stats: map[string]map[string]router.ModelStat{
					"simple": {"gpt-4o-mini": {Samples: 60, SuccessRate: 0.95, MeanCost: 40}, "llama-3.1-8b-instant": {Samples: 60, SuccessRate: 0.7, MeanCost: 5}},
				}, Params: map[string]float64{"target": 0.9}, LocalModel: "0123456789abcdef0123",
					Gate: "Kept: in simple the estimate rises from 0.700 to 0.950, but its margin of ±0.300 (llama-3.1-8b-instant n=60 vs gpt-4o-mini n=60) is too wide to rule out a drop of more than 0.010."},
				Policy: &router.PromptPolicy{Models: []string{"llama-3.1-8b-instant", "gpt-4o-mini", "gpt-4o"}, Point: router.OperatingPoint{
					Rule: router.RuleGap, Param: 0.12, KeepQuality: 0.95, Baseline: "gpt-4o", QualityShare: 0.962, CostShare: 0.41, Margin: 0.012, Samples: 800}}},
			{ID: 1, Status: router.StatusRetired, Source: "config", CreatedAt: created.Add(-time.Hour),
				Table: router.Table{"simple": {"llama-3.1-8b-instant", "gpt-4o-mini"}, "complex": {"gpt-4o"}}},
		},
		spend: []router.Spend{
			{Date: "2026-11-26", Total: 1000, Prompts: 3, Baseline: 5000},
			{Date: "2026-11-27", Total: 1234, Prompts: 7, Baseline: 10000, ByModel: map[string]router.Micros{"gpt-4o-mini": 1234}},
		},
		evals: []router.EvalRun{{ID: 3, CreatedAt: created, Dataset: "<b>demo</b>.jsonl", Params: json.RawMessage(`{"policy":"learned"}`)}},
	}
}

func newTestHandler(f *fakeData, token string) http.Handler {
	return New(Options{
		Token: token, Versions: f, Spend: f, Evals: f, Baseline: "gpt-4o",
		Providers: func() []router.ProviderHealth { return []router.ProviderHealth{{Provider: "openai", State: "ok"}} },
		Now:       func() time.Time { return testNow },
	})
}

func get(t *testing.T, h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
