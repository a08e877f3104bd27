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
