package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

// stubGate knows one bearer; Admit answers with refusal when set.
type stubGate struct {
	refusal *keys.Refusal
	pacing  router.Pacing
}

func (g stubGate) Authenticate(header string) (keys.Key, *keys.Refusal) {
	if header != "Bearer good" {
		return keys.Key{}, &keys.Refusal{Status: 401, Type: "invalid_request_error", Code: "invalid_api_key", Message: "invalid or revoked API key"}
	}
	return keys.Key{Name: "team", RPM: 10}, nil
}

func (g stubGate) Admit(k keys.Key) (*keys.Admission, *keys.Refusal) {
	if g.refusal != nil {
		return nil, g.refusal
	}
	return &keys.Admission{Key: k, Pacing: g.pacing, RemainingRequests: 9, Reset: 30 * time.Second}, nil
}

func TestKeyMiddleware(t *testing.T) {
	limited := &keys.Refusal{Status: 429, Type: "requests", Code: "rate_limit_exceeded", Limit: "requests", Message: "limit reached on RPM", RetryAfter: 1500 * time.Millisecond}
	tests := []struct {
		name       string
		gate       stubGate
		bearer     string
		maxCost    string
		wantStatus int
		wantCode   string
		wantParam  string
	}{
		{"no key", stubGate{}, "", "", 401, "invalid_api_key", ""},
		{"bad key", stubGate{}, "Bearer nope", "", 401, "invalid_api_key", ""},
		{"rate limited", stubGate{refusal: limited}, "Bearer good", "", 429, "rate_limit_exceeded", "requests"},
		{"bad max cost", stubGate{}, "Bearer good", "lots", 400, "invalid", "x-switchyard-max-cost"},
		{"admitted, paced, capped", stubGate{pacing: router.Pacing{Step: 1}}, "Bearer good", "0.002", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &echoRouter{}
			s := New(Options{Router: r, Spend: fixedSpend{}, Keys: tt.gate, RequireKeys: true})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			req, _ := http.NewRequest("POST", ts.URL+"/ask", strings.NewReader(`{"prompt":"hi"}`))
			if tt.bearer != "" {
				req.Header.Set("Authorization", tt.bearer)
			}
			if tt.maxCost != "" {
				req.Header.Set("x-switchyard-max-cost", tt.maxCost)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d %v, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantCode != "" {
				e := body["error"]
				if e["code"] != tt.wantCode || (tt.wantParam != "" && e["param"] != tt.wantParam) {
					t.Errorf("error = %v, want code %s param %s", e, tt.wantCode, tt.wantParam)
				}
			}
			if tt.name == "rate limited" {
				if resp.Header.Get("Retry-After") != "2" || resp.Header.Get("x-ratelimit-limit-requests") != "10" {
					t.Errorf("headers %v, want Retry-After 2 and x-ratelimit-limit-requests 10", resp.Header)
				}
			}
			if tt.wantStatus == 200 {
				got := r.reqs[0]
				if got.Key != "team" || got.Pacing.Step != 1 || got.Pacing.MaxCost != 2000 {
					t.Errorf("router got key %q pacing %+v, want team, step 1, max cost 2000 micros", got.Key, got.Pacing)
				}
				if resp.Header.Get("x-ratelimit-remaining-requests") != "9" {
					t.Errorf("x-ratelimit-remaining-requests = %q, want 9", resp.Header.Get("x-ratelimit-remaining-requests"))
				}
			} else if len(r.reqs) != 0 {
				t.Errorf("a refused request reached the router")
			}
		})
	}
}
