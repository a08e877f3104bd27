package faketest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestFaults(t *testing.T) {
	s := New()
	defer s.Close()
	tests := []struct {
		body       string
		wantCode   int
		want, not  string
		wantStream bool
	}{
		{`{"model":"ok-a"}`, 200, `"content":"answer from ok-a"`, "", false},
		{`{"model":"ok-a","stream":true,"stream_options":{"include_usage":true}}`, 200, `"completion_tokens":5`, "", true},
		{`{"model":"ok-a","stream":true}`, 200, "data: [DONE]\n\n", `"usage"`, true},
		{`{"model":"cut-after","stream":true}`, 200, `"content":"answer "`, "finish_reason\":\"stop", true},
		{`{"model":"error-event","stream":true}`, 200, `data: {"error":`, "[DONE]", true},
		{`{"model":"status-429"}`, 429, `"error"`, "", false},
		{`{"model":"status-"}`, 500, `"error"`, "", false},
	}
	for _, tt := range tests {
		code, body := post(t, s, tt.body)
		if code != tt.wantCode || !strings.Contains(body, tt.want) || (tt.not != "" && strings.Contains(body, tt.not)) {
			t.Errorf("%s: %d %q, want %d containing %q and not %q", tt.body, code, body, tt.wantCode, tt.want, tt.not)
		}
	}
	got := s.WaitEnded(len(tests), time.Second)
	if len(got) != len(tests) || !got[1].IncludeUsage || got[2].IncludeUsage || !got[1].Stream || got[0].Stream {
		t.Errorf("attempts = %+v", got)
	}
}

func TestOverride(t *testing.T) {
	s := New()
	defer s.Close()
	s.Set("ok-a", Override{Status: 429, Message: "slow\x00down <b>", Header: http.Header{"Retry-After": {"7"}}})
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"ok-a"}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || !strings.Contains(string(raw), `slow\u0000down \u003cb\u003e`) {
		t.Errorf("overridden: %d %v %s, want 429, Retry-After 7 and the message as JSON", resp.StatusCode, resp.Header, raw)
	}
	s.Clear("ok-a")
	if code, body := post(t, s, `{"model":"ok-a"}`); code != 200 || !strings.Contains(body, "answer from ok-a") {
		t.Errorf("cleared: %d %s, want ok-a's answer", code, body)
	}
	if code, body := post(t, s, `{"model":"huge-line","stream":true}`); code != 200 || !strings.Contains(body, strings.Repeat("x", HugeLineBytes)) {
		t.Errorf("huge-line: %d, %d bytes, want a %d-byte content chunk", code, len(body), HugeLineBytes)
	}
}
