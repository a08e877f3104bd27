package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/logtest"
	"github.com/switchyard/switchyard/router"
)

// echoRouter answers every request with its prompt, or with err.
type echoRouter struct {
	mu   sync.Mutex
	reqs []router.Request
	err  error
}

func (e *echoRouter) Serve(ctx context.Context, req router.Request) (router.Result, error) {
	e.mu.Lock()
	e.reqs = append(e.reqs, req)
	e.mu.Unlock()
	if e.err != nil {
		return router.Result{ID: "req_1"}, e.err
	}
	return router.Result{
		ID:            "req_1",
		Content:       "echo: " + router.LastUserPrompt(req.Messages),
		Analysis:      router.Analysis{Complexity: router.Simple, Tier: router.TierLLM},
		Model:         "cheap",
		EstimatedCost: 12,
		Cost:          30,
		TableVersion:  3,
		Attempts:      []router.Attempt{{Model: "cheap", Status: router.OutcomeOK}},
	}, nil
}

type fixedSpend []router.Spend

func (f fixedSpend) Spend(ctx context.Context, from, to time.Time) ([]router.Spend, error) {
	var out []router.Spend
	for _, d := range f {
		day, _ := time.Parse(time.DateOnly, d.Date)
		if !day.Before(from) && !day.After(to) {
			out = append(out, d)
		}
	}
	return out, nil
}

func newTestServer(t *testing.T, r Router, sp SpendReader, checks map[string]Check) (*Server, *httptest.Server) {
	t.Helper()
	s := New(Options{
		Router:       r,
		Spend:        sp,
		Baseline:     "strong",
		MaxBodyBytes: 1024,
		Checks:       checks,
		Now:          func() time.Time { return time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC) },
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func do(t *testing.T, method, url, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %q", method, url, raw)
	}
	return resp.StatusCode, out, resp.Header
}

func TestAsk(t *testing.T) {
	r := &echoRouter{}
	_, ts := newTestServer(t, r, fixedSpend{}, nil)
	code, body, _ := do(t, "POST", ts.URL+"/ask", `{"prompt":"What is 2+2?","metadata":{"user":"u1"}}`)
	if code != 200 {
		t.Fatalf("status = %d, body %v", code, body)
	}
	if body["id"] != "req_1" || body["response"] != "echo: What is 2+2?" {
		t.Errorf("body = %v", body)
	}
	md := body["metadata"].(map[string]any)
	want := map[string]any{"complexity": "simple", "model_used": "cheap", "estimated_cost": 0.000012, "actual_cost": 0.00003, "table_version": 3.0}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata.%s = %v, want %v", k, md[k], v)
		}
	}
	for _, k := range []string{"latency_ms", "analysis", "attempts"} {
		if _, ok := md[k]; !ok {
			t.Errorf("metadata.%s missing", k)
		}
	}
	if len(r.reqs) != 1 || r.reqs[0].Endpoint != "ask" {
		t.Errorf("router requests = %+v", r.reqs)
	}
}

// TestBadInput covers FAULTS.md B1 and B2 on /ask: a 4xx with a JSON
// error body naming the field, and nothing reaches the router.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name, body string
		wantCode   int
		wantParam  string
	}{
		{"missing prompt", `{}`, 400, "prompt"},
		{"empty prompt", `{"prompt":""}`, 400, "prompt"},
		{"blank prompt", `{"prompt":"  \n\t"}`, 400, "prompt"},
		{"null prompt", `{"prompt":null}`, 400, "prompt"},
		{"prompt wrong type", `{"prompt":42}`, 400, "prompt"},
		{"metadata wrong type", `{"prompt":"hi","metadata":"x"}`, 400, "metadata"},
		{"invalid json", `{"prompt":`, 400, "body"},
		{"not json", `hello`, 400, "body"},
		{"empty body", ``, 400, "body"},
		{"array body", `["hi"]`, 400, "body"},
		{"two objects", `{"prompt":"a"}{"prompt":"b"}`, 400, "body"},
		{"too large", `{"prompt":"` + strings.Repeat("x", 2000) + `"}`, 413, "body"},
		// FAULTS.md B4 on /ask as on /v1 (issue 12, item 4).
		{"api_base", `{"prompt":"hi","api_base":"http://169.254.169.254"}`, 400, "api_base"},
		{"base_url", `{"prompt":"hi","base_url":"http://evil"}`, 400, "base_url"},
		{"null api_key", `{"prompt":"hi","api_key":null}`, 400, "api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &echoRouter{}
			_, ts := newTestServer(t, r, fixedSpend{}, nil)
			code, body, _ := do(t, "POST", ts.URL+"/ask", tt.body)
			if code != tt.wantCode {
				t.Errorf("status = %d, want %d (body %v)", code, tt.wantCode, body)
			}
			e, ok := body["error"].(map[string]any)
			if !ok {
				t.Fatalf("body = %v, want an error object", body)
			}
			if e["param"] != tt.wantParam || !strings.Contains(e["message"].(string), tt.wantParam) {
				t.Errorf("error = %v, want it to name %q", e, tt.wantParam)
			}
			if len(r.reqs) != 0 {
				t.Errorf("bad input reached the router")
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		err        error
		wantCode   int
		wantRetry  string
		wantNoLeak string
		// wantLogged: a line per request only for a broken server; a
		// request no candidate answered is the router's upstream
		// tracker's to log, once per outage (issue 12, item 5).
		wantLogged int
	}{
		{router.Errorf(router.KindUnavailable, "", "every candidate model failed (tried a, b)"), 502, "false", "", 0},
		{router.Errorf(router.KindNotFound, "model", "model %q is not configured", "x"), 404, "", "", 0},
		{errors.New("pq: password authentication failed for user secret-user"), 500, "false", "secret-user", 1},
	}
	for _, tt := range tests {
		h, log := logtest.New()
		ts := httptest.NewServer(New(Options{Router: &echoRouter{err: tt.err}, Spend: fixedSpend{}, Baseline: "strong", Logger: log}).Handler())
		code, body, hdr := do(t, "POST", ts.URL+"/ask", `{"prompt":"hi"}`)
		ts.Close()
		if code != tt.wantCode || hdr.Get("x-should-retry") != tt.wantRetry {
			t.Errorf("%v: status %d x-should-retry %q, want %d %q", tt.err, code, hdr.Get("x-should-retry"), tt.wantCode, tt.wantRetry)
		}
		raw, _ := json.Marshal(body)
		if tt.wantNoLeak != "" && strings.Contains(string(raw), tt.wantNoLeak) {
			t.Errorf("internal error text reached the client: %s", raw)
		}
		if got := h.Count(slog.LevelWarn); got != tt.wantLogged {
			t.Errorf("%v: %d lines at WARN or above, want %d:\n%s", tt.err, got, tt.wantLogged, h)
		}
	}
}

func TestCosts(t *testing.T) {
	sp := fixedSpend{
		{Date: "2026-11-26", Total: 1_000_000, Prompts: 4, Baseline: 3_000_000, ByModel: map[string]router.Micros{"cheap": 1_000_000}, ByComplexity: map[string]router.Micros{"simple": 1_000_000}},
		{Date: "2026-11-27", Total: 500_000, Prompts: 2, Baseline: 400_000, ByModel: map[string]router.Micros{"strong": 500_000}, ByComplexity: map[string]router.Micros{"complex": 500_000}},
	}
	_, ts := newTestServer(t, &echoRouter{}, sp, nil)

	code, today, _ := do(t, "GET", ts.URL+"/costs/today", "")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	want := map[string]any{"date": "2026-11-27", "total_spend": 0.5, "total_prompts": 2.0, "baseline_model": "strong", "baseline_cost": 0.4, "savings_vs_baseline": -0.1}
	for k, v := range want {
		if got := today[k]; got != v {
			t.Errorf("today.%s = %v, want %v", k, got, v)
		}
	}

	code, rng, _ := do(t, "GET", ts.URL+"/costs?from=2026-11-20&to=2026-11-27", "")
	if code != 200 {
		t.Fatalf("status %d: %v", code, rng)
	}
	total := rng["total"].(map[string]any)
	if total["total_spend"] != 1.5 || total["total_prompts"] != 6.0 || total["savings_vs_baseline"] != 1.9 {
		t.Errorf("range total = %v, want spend 1.5, prompts 6, savings 1.9", total)
	}
	if days := rng["days"].([]any); len(days) != 2 {
		t.Errorf("days = %d, want 2", len(days))
	}

	for _, q := range []string{"from=yesterday", "from=2026-11-27&to=2026-11-01", "from=2020-01-01&to=2026-01-01"} {
		code, body, _ := do(t, "GET", ts.URL+"/costs?"+q, "")
		if code != 400 {
			t.Errorf("/costs?%s: status %d, want 400 (%v)", q, code, body)
		}
	}
}

func TestReadiness(t *testing.T) {
	var dbDown bool
	checks := map[string]Check{"database": func(context.Context) error {
		if dbDown {
			return errors.New("unreachable")
		}
		return nil
	}}
	s, ts := newTestServer(t, &echoRouter{}, fixedSpend{}, checks)
	if code, body, _ := do(t, "GET", ts.URL+"/readyz", ""); code != 200 || body["status"] != "ready" {
		t.Errorf("healthy: %d %v", code, body)
	}
	dbDown = true
	if code, body, _ := do(t, "GET", ts.URL+"/readyz", ""); code != 503 || body["status"] != "degraded" {
		t.Errorf("database down: %d %v, want 503 degraded", code, body)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/healthz", ""); code != 200 {
		t.Errorf("healthz while degraded = %d, want 200 (the process is alive)", code)
	}
	s.Drain()
	if code, body, _ := do(t, "GET", ts.URL+"/readyz", ""); code != 503 || body["status"] != "draining" {
		t.Errorf("draining: %d %v", code, body)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	_, ts := newTestServer(t, &echoRouter{}, fixedSpend{}, nil)
	if code, body, _ := do(t, "GET", ts.URL+"/nope", ""); code != 404 || body["error"] == nil {
		t.Errorf("unknown route: %d %v", code, body)
	}
	if code, body, _ := do(t, "GET", ts.URL+"/ask", ""); code != 405 || body["error"] == nil {
		t.Errorf("GET /ask: %d %v", code, body)
	}
}
