package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/router"
)

const secret = "sk-test-never-shown-0123456789"

// fake answers per requested model: "ok", "empty", "slow", or "status-N".
func fake(t *testing.T, calls *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if got := r.Header.Get("Authorization"); got != "Bearer "+secret {
			t.Errorf("Authorization = %q, want the configured key", got)
		}
		var body struct {
			Model     string `json:"model"`
			MaxTokens int    `json:"max_tokens"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("decode request: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case body.Model == "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		case strings.HasPrefix(body.Model, "status-"):
			var code int
			fmt.Sscanf(body.Model, "status-%d", &code)
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"error":{"message":"upstream says no for %s","type":"invalid_request_error","code":"x"}}`, secret[:6])
			return
		case body.Model == "empty":
			fmt.Fprint(w, `{"id":"c1","object":"chat.completion","created":1,"model":"empty","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}`)
			return
		}
		fmt.Fprintf(w, `{"id":"c1","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"hello (max %d)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}`, body.Model, body.MaxTokens)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestComplete(t *testing.T) {
	var calls atomic.Int64
	srv := fake(t, &calls)
	c := New(config.Provider{Name: "p", BaseURL: srv.URL + "/v1", APIKey: secret}, Options{})

	tests := []struct {
		model       string
		wantContent string
		wantOutcome string
		wantStatus  int
	}{
		{model: "ok", wantContent: "hello (max 7)"},
		{model: "empty", wantOutcome: router.OutcomeEmpty},
		{model: "status-429", wantOutcome: router.OutcomeError, wantStatus: 429},
		{model: "status-503", wantOutcome: router.OutcomeError, wantStatus: 503},
		{model: "status-401", wantOutcome: router.OutcomeError, wantStatus: 401},
		{model: "status-400", wantOutcome: router.OutcomeError, wantStatus: 400},
		{model: "slow", wantOutcome: router.OutcomeTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			before := calls.Load()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			reply, err := c.Complete(ctx, router.Call{Model: tt.model, MaxTokens: 7, Messages: []router.Message{{Role: "user", Content: "hi"}}})
			if got := calls.Load() - before; got != 1 {
				t.Errorf("provider saw %d calls, want exactly 1 (SDK retries must be off)", got)
			}
			if tt.wantOutcome == "" {
				if err != nil {
					t.Fatalf("Complete: %v", err)
				}
				if reply.Content != tt.wantContent || reply.PromptTokens != 12 || reply.CompletionTokens != 5 || reply.FinishReason != "stop" {
					t.Errorf("reply = %+v, want content %q, tokens 12/5, stop", reply, tt.wantContent)
				}
				return
			}
			var ce *router.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *router.CallError", err)
			}
			if ce.Outcome != tt.wantOutcome || ce.StatusCode != tt.wantStatus {
				t.Errorf("outcome, status = %s, %d; want %s, %d", ce.Outcome, ce.StatusCode, tt.wantOutcome, tt.wantStatus)
			}
			if strings.Contains(ce.Message, srv.URL) || strings.Contains(ce.Message, secret[:6]) && tt.wantStatus != 400 {
				t.Errorf("client-safe message leaks URL or key: %q", ce.Message)
			}
		})
	}
}

func TestThrottleEscalatesInsteadOfQueueing(t *testing.T) {
	var calls atomic.Int64
	srv := fake(t, &calls)
	// One request a minute: the second call cannot get a token within its
	// deadline and must fail at once rather than wait a minute.
	c := New(config.Provider{Name: "p", BaseURL: srv.URL + "/v1", APIKey: secret, RequestsPerMinute: 1}, Options{})
	call := router.Call{Model: "ok", Messages: []router.Message{{Role: "user", Content: "hi"}}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := c.Complete(ctx, call); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := c.Complete(ctx, call)
	var ce *router.CallError
	if !errors.As(err, &ce) || ce.Outcome != router.OutcomeSkipped {
		t.Fatalf("second call err = %v, want a skipped CallError", err)
	}
	if ctx.Err() != nil {
		t.Errorf("throttled call waited out the deadline instead of failing fast")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("provider saw %d calls, want 1", got)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	var calls atomic.Int64
	srv := fake(t, &calls)
	c := New(config.Provider{Name: "p", BaseURL: srv.URL + "/v1", APIKey: secret, MaxConcurrency: 1}, Options{})
	release, err := c.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.acquire(ctx); err == nil {
		t.Fatal("second acquire succeeded with max_concurrency 1")
	}
	release()
	r2, err := c.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	r2()
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		hdr  map[string]string
		want time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"milliseconds header wins", map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second},
		{"date in the past", map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, 0},
		{"negative", map[string]string{"Retry-After": "-5"}, 0},
		{"garbage", map[string]string{"Retry-After": "soon"}, 0},
		{"absurd stays large for the caller to refuse", map[string]string{"Retry-After": "86400"}, 24 * time.Hour},
		{"absent", nil, 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.hdr {
			h.Set(k, v)
		}
		if got := RetryAfter(h, now); got != tt.want {
			t.Errorf("%s: RetryAfter = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRetryAfterReachesCallError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit","code":"rate_limited"}}`)
	}))
	defer srv.Close()
	c := New(config.Provider{Name: "p", BaseURL: srv.URL + "/v1"}, Options{})
	_, err := c.Complete(context.Background(), router.Call{Model: "m", Messages: []router.Message{{Role: "user", Content: "hi"}}})
	var ce *router.CallError
	if !errors.As(err, &ce) || ce.StatusCode != 429 || ce.RetryAfter != 3*time.Second {
		t.Fatalf("err = %#v, want a 429 CallError with RetryAfter 3s", err)
	}
}

// TestDialects checks what each provider kind receives for the same call.
func TestDialects(t *testing.T) {
	temp := 1.6
	call := router.Call{Model: "m", Temperature: &temp, Messages: []router.Message{
		{Role: "developer", Content: "be brief"}, {Role: "user", Content: "hi"},
	}}
	tests := []struct {
		kind        string
		wantTemp    float64
		wantMax     int
		wantDevRole string
	}{
		{"openai", 1.6, 0, "developer"},
		{"anthropic", 1, anthropicMaxTokens, "system"},
		{"groq", 1.6, 0, "system"},
		{"openai-compatible", 1.6, 0, "system"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			var got struct {
				Temperature float64 `json:"temperature"`
				MaxTokens   int     `json:"max_tokens"`
				Messages    []struct {
					Role string `json:"role"`
				} `json:"messages"`
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
					t.Errorf("decode: %v", err)
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
			}))
			defer srv.Close()
			c := New(config.Provider{Name: "p", Kind: tt.kind, BaseURL: srv.URL + "/v1"}, Options{})
			if _, err := c.Complete(context.Background(), call); err != nil {
				t.Fatal(err)
			}
			if got.Temperature != tt.wantTemp || got.MaxTokens != tt.wantMax || len(got.Messages) != 2 || got.Messages[0].Role != tt.wantDevRole {
				t.Errorf("sent temperature %v max_tokens %d first role %v; want %v %d %s", got.Temperature, got.MaxTokens, got.Messages, tt.wantTemp, tt.wantMax, tt.wantDevRole)
			}
		})
	}
	if call.Messages[0].Role != "developer" {
		t.Errorf("translation modified the caller's messages")
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"},  // é is 2 bytes: cut before it, not through it
		{"a🔑b", 3, "a…"}, // 🔑 is 4 bytes
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
