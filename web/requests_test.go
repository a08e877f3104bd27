package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

const hostilePrompt = `<img src=x onerror=alert(1)><script>alert(2)</script>`

// fakeRequests serves one stored request, counting calls so a refused
// request can be shown to have read nothing.
type fakeRequests struct {
	rec   router.Record
	outs  []router.Outcome
	query router.RequestQuery
	calls atomic.Int64
}

func (f *fakeRequests) FindRequests(_ context.Context, q router.RequestQuery) ([]router.Record, error) {
	f.calls.Add(1)
	f.query = q
	if q.Model != "" && q.Model != f.rec.Model {
		return nil, nil
	}
	return []router.Record{f.rec}, nil
}

func (f *fakeRequests) GetRequest(_ context.Context, id string) (router.Record, error) {
	f.calls.Add(1)
	if id != f.rec.ID {
		return router.Record{}, router.Errorf(router.KindNotFound, "id", "no request %q", id)
	}
	return f.rec, nil
}

func (f *fakeRequests) Outcomes(context.Context, string) ([]router.Outcome, error) {
	f.calls.Add(1)
	return f.outs, nil
}

type fakePrompts map[string]string

func (f fakePrompts) PromptText(_ context.Context, hash string) (string, bool, error) {
	t, ok := f[hash]
	return t, ok, nil
}

func newFakeRequests() *fakeRequests {
	return &fakeRequests{
		rec: router.Record{ID: "req_abc", Time: testNow, Endpoint: "chat", PromptHash: "h1", Complexity: router.Simple,
			Analysis: router.Analysis{Complexity: router.Simple, Tier: router.TierLLM, Reason: "short <b>fact</b>", RoutedBy: router.RoutedByTable},
			Model:    "gpt-4o-mini", Provider: "openai", TableVersion: 2, Status: router.OutcomeOK, Cost: 1234, BaselineCost: 9000, LatencyMS: 812,
			Attempts: []router.Attempt{
				{Model: "llama-3.1-8b-instant", Provider: "groq", Status: router.OutcomeTimeout, Error: "no answer within 30s", LatencyMS: 30000},
				{Model: "gpt-4o-mini", Provider: "openai", Status: router.OutcomeOK, LatencyMS: 800, Cost: 1234},
			}, Key: "team-a", Propensity: 1},
		outs: []router.Outcome{{RequestID: "req_abc", Attempt: router.AnswerAttempt, Source: "feedback", Score: 0, Weight: 1, Time: testNow}},
	}
}

func requestsHandler(reqs *fakeRequests, prompts PromptReader) http.Handler {
	opts := Options{Token: testToken, Versions: newFake(), Spend: newFake(), Baseline: "gpt-4o", Requests: reqs,
		Now: func() time.Time { return testNow }}
	if prompts != nil {
		opts.Prompts = prompts
	}
	return New(opts)
}

func TestRequestsNeedToken(t *testing.T) {
	reqs := newFakeRequests()
	h := requestsHandler(reqs, nil)
	for _, path := range []string{"/admin/requests", "/admin/requests/req_abc", "/admin/api/requests", "/admin/api/requests/req_abc"} {
		for _, hdr := range []map[string]string{nil, bearer("wrong")} {
			if rec := get(t, h, path, hdr); rec.Code != http.StatusUnauthorized {
				t.Errorf("%s with %v = %d, want 401", path, hdr, rec.Code)
			}
		}
	}
	if n := reqs.calls.Load(); n != 0 {
		t.Errorf("refused requests read the store %d times, want 0", n)
	}
}

func TestRequestPageEscapesPrompt(t *testing.T) {
	h := requestsHandler(newFakeRequests(), fakePrompts{"h1": hostilePrompt})
	rec := get(t, h, "/admin/requests/req_abc", bearer(testToken))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, body %s", rec.Code, rec.Body)
	}
	body := withoutOwnScript(rec.Body.String())
	for _, bad := range []string{"<img", "<script", "<b>fact"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	for _, want := range []string{
		`&lt;img src=x onerror=alert(1)&gt;`, // the prompt, escaped
		`id="prompt"`,
		"timeout: no answer within 30s", // the failed attempt and why
		"answered",
		"30000 ms",
		"<td>answer</td><td>gpt-4o-mini</td>", // an answer's signal names the answering model
		"llm",                                 // the classification tier
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestRequestPageWithoutKeptPrompts(t *testing.T) {
	h := requestsHandler(newFakeRequests(), nil)
	rec := get(t, h, "/admin/requests/req_abc", bearer(testToken))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `id="prompt"`) {
		t.Errorf("status %d; prompt section shown without kept prompts", rec.Code)
	}
	var got map[string]any
	rec = get(t, h, "/admin/api/requests/req_abc", bearer(testToken))
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("api: %d %v %s", rec.Code, err, rec.Body)
	}
	if _, ok := got["prompt"]; ok {
		t.Errorf("api shows a prompt without kept prompts: %v", got["prompt"])
	}
}

func TestRequestsRoutes(t *testing.T) {
	tests := []struct {
		name, path string
		status     int
		want       string
	}{
		{"list", "/admin/requests?model=gpt-4o-mini", http.StatusOK, `href="/admin/requests/req_abc"`},
		{"list filtered out", "/admin/requests?model=gpt-4o", http.StatusOK, `id="no-requests"`},
		{"search by id redirects", "/admin/requests?id=req_abc", http.StatusSeeOther, ""},
		{"bad from", "/admin/requests?from=yesterday", http.StatusBadRequest, "from: want YYYY-MM-DD"},
		{"to before from", "/admin/api/requests?from=2026-11-27&to=2026-11-26", http.StatusBadRequest, `"message": "to: want a time after from"`},
		{"bad limit", "/admin/api/requests?limit=0", http.StatusBadRequest, "limit: want 1 to"},
		{"unknown id", "/admin/api/requests/req_nope", http.StatusNotFound, `no request \"req_nope\"`},
		{"api list", "/admin/api/requests?status=ok&key=team-a", http.StatusOK, `"id": "req_abc"`},
		{"api one", "/admin/api/requests/req_abc", http.StatusOK, `"fate": "timeout: no answer within 30s"`},
		{"api one, table bucket", "/admin/api/requests/req_abc", http.StatusOK, `"table_bucket": "simple"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := requestsHandler(newFakeRequests(), nil)
			rec := get(t, h, tt.path, bearer(testToken))
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("body lacks %q:\n%s", tt.want, rec.Body)
			}
			if tt.status == http.StatusSeeOther && rec.Header().Get("Location") != "/admin/requests/req_abc" {
				t.Errorf("Location = %q", rec.Header().Get("Location"))
			}
		})
	}
}

func TestRequestsFiltersReachStore(t *testing.T) {
	reqs := newFakeRequests()
	h := requestsHandler(reqs, nil)
	get(t, h, "/admin/api/requests?model=m&bucket=complex/math&status=error&key=k&from=2026-11-26&to=2026-11-26&limit=7", bearer(testToken))
	want := router.RequestQuery{Model: "m", Bucket: "complex/math", Status: "error", Key: "k",
		From: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Limit: 7}
	if reqs.query != want {
		t.Errorf("query = %+v, want %+v", reqs.query, want)
	}
}

func TestRequestsDisabledWithoutReader(t *testing.T) {
	rec := get(t, newTestHandler(newFake(), testToken), "/admin/api/requests", bearer(testToken))
	if rec.Code != http.StatusNotFound {
		t.Errorf("status = %d, want 404 without a request reader", rec.Code)
	}
}
