package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/router"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestChatOpenAIClient(t *testing.T) {
	st := newStack(t, []string{"ok-a", "ok-b"}, 2*time.Second)
	defer st.close()
	client := st.openai()
	tests := []struct {
		model, wantModel, wantComplexity string
	}{
		{"auto", "ok-a", "simple"},
		{"ok-b", "ok-b", ""},
	}
	params := func(model string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{
			Model:    model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("say hi")},
		}
	}
	checkHeaders := func(t *testing.T, h http.Header, wantModel, wantComplexity string) {
		t.Helper()
		want := map[string]string{"x-switchyard-model": wantModel, "x-switchyard-complexity": wantComplexity, "x-switchyard-table-version": "3", "x-switchyard-attempts": "1"}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if !strings.HasPrefix(h.Get("x-switchyard-request-id"), "req_") {
			t.Errorf("x-switchyard-request-id = %q", h.Get("x-switchyard-request-id"))
		}
	}
	for _, tt := range tests {
		t.Run("plain "+tt.model, func(t *testing.T) {
			var raw *http.Response
			resp, err := client.Chat.Completions.New(context.Background(), params(tt.model), option.WithResponseInto(&raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Choices[0].Message.Content; got != faketest.Answer(tt.wantModel) || resp.Model != tt.wantModel {
				t.Errorf("answer %q from %q, want %q from %q", got, resp.Model, faketest.Answer(tt.wantModel), tt.wantModel)
			}
			if resp.Usage.PromptTokens != faketest.PromptTokens || resp.Usage.CompletionTokens != faketest.CompletionTokens || resp.Choices[0].FinishReason != "stop" {
				t.Errorf("usage %+v finish %q, want the upstream's 10/5 and stop", resp.Usage, resp.Choices[0].FinishReason)
			}
			checkHeaders(t, raw.Header, tt.wantModel, tt.wantComplexity)
			// 10 in x 1 + 5 out x 2 = 20 micro-dollars.
			if got := raw.Header.Get("x-switchyard-cost-usd"); got != "0.000020" {
				t.Errorf("x-switchyard-cost-usd = %q, want 0.000020", got)
			}
		})
		t.Run("stream "+tt.model, func(t *testing.T) {
			var raw *http.Response
			p := params(tt.model)
			p.StreamOptions.IncludeUsage = openai.Bool(true)
			s := client.Chat.Completions.NewStreaming(context.Background(), p, option.WithResponseInto(&raw))
			defer s.Close()
			acc := openai.ChatCompletionAccumulator{}
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if got := acc.Choices[0].Message.Content; got != faketest.Answer(tt.wantModel) || acc.Model != tt.wantModel {
				t.Errorf("answer %q from %q, want %q from %q", got, acc.Model, faketest.Answer(tt.wantModel), tt.wantModel)
			}
			if acc.Usage.CompletionTokens != faketest.CompletionTokens || acc.Choices[0].FinishReason != "stop" {
				t.Errorf("usage %+v finish %q, want 5 completion tokens and stop", acc.Usage, acc.Choices[0].FinishReason)
			}
			checkHeaders(t, raw.Header, tt.wantModel, tt.wantComplexity)
		})
	}
	recs := st.rec.wait(4)
	if len(recs) != 4 {
		t.Fatalf("records = %d, want 4", len(recs))
	}
	for _, r := range recs {
		if r.Status != router.OutcomeOK || r.Endpoint != "chat" || r.Cost != 20 || r.PromptTokens != faketest.PromptTokens {
			t.Errorf("record %s: status %q endpoint %q cost %d tokens %d, want ok chat 20 10", r.ID, r.Status, r.Endpoint, r.Cost, r.PromptTokens)
		}
	}
	for _, a := range st.up.Attempts() {
		if a.Stream && !a.IncludeUsage {
			t.Errorf("streamed attempt without include_usage upstream")
		}
	}
}

// frameRE is one server-sent event as OpenAI writes them.
var frameRE = regexp.MustCompile(`^data: [^\n]+\n\n`)

// frames splits an SSE body, failing on anything but "data: x\n\n".
func frames(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for rest := body; rest != ""; {
		m := frameRE.FindString(rest)
		if m == "" {
			t.Fatalf("not a data frame at %q (whole body %q)", rest, body)
		}
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(m, "data: "), "\n\n"))
		rest = rest[len(m):]
	}
	return out
}

var reqIDRE = regexp.MustCompile(`req_[0-9]+`)

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = reqIDRE.ReplaceAllString(got, "req_ID")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestChatStreamGolden(t *testing.T) {
	tests := []struct {
		name, model string
		usage       bool
		candidates  []string
	}{
		{"stream_usage.golden", "auto", true, []string{"ok-a"}},
		{"stream_no_usage.golden", "auto", false, []string{"ok-a"}},
		{"stream_fallover.golden", "auto", false, []string{"cut-before", "ok-a"}},
		{"stream_cut_after.golden", "auto", false, []string{"cut-after", "ok-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStack(t, tt.candidates, 2*time.Second)
			defer st.close()
			resp, body := st.post(t, chatBody(tt.model, true, tt.usage))
			frames(t, body)
			var b strings.Builder
			fmt.Fprintf(&b, "HTTP %d\n", resp.StatusCode)
			for _, h := range []string{"Content-Type", "Cache-Control", "x-switchyard-model", "x-switchyard-complexity", "x-switchyard-table-version", "x-switchyard-attempts", "x-switchyard-request-id"} {
				fmt.Fprintf(&b, "%s: %s\n", h, resp.Header.Get(h))
			}
			b.WriteString("\n" + body)
			golden(t, tt.name, b.String())
		})
	}
}

// streamed is what a raw stream request saw.
type streamed struct {
	code   int
	text   string
	done   bool
	errEvt bool
	usage  bool
}

func readStream(t *testing.T, st *stack, body string) streamed {
	t.Helper()
	resp, raw := st.post(t, body)
	out := streamed{code: resp.StatusCode}
	if resp.StatusCode != 200 {
		return out
	}
	for i, f := range frames(t, raw) {
		if out.done || out.errEvt {
			t.Errorf("frame %d after the end: %q", i, f)
		}
		if f == "[DONE]" {
			out.done = true
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Usage *usage          `json:"usage"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(f), &c); err != nil {
			t.Fatalf("frame %q: %v", f, err)
		}
		if c.Error != nil {
			out.errEvt = true
			continue
		}
		out.usage = out.usage || c.Usage != nil
		for _, ch := range c.Choices {
			out.text += ch.Delta.Content
		}
	}
	return out
}

// TestChatStreamFaults is FAULTS.md F3-F7 against the real stack.
func TestChatStreamFaults(t *testing.T) {
	tests := []struct {
		name         string
		candidates   []string
		timeout      time.Duration
		wantCode     int
		wantText     string
		wantDone     bool
		wantErrEvent bool
		wantCalls    []string
		wantStatus   string   // the record's
		wantAttempts []string // the record's attempt statuses
	}{
		{name: "cut before first byte falls over (F4)", candidates: []string{"cut-before", "ok-a"}, wantCode: 200, wantText: "answer from ok-a", wantDone: true,
			wantCalls: []string{"cut-before", "ok-a"}, wantStatus: "ok", wantAttempts: []string{"error", "ok"}},
		// A 5xx is retried twice on the same model (FAULTS.md F2), then falls over.
		{name: "upstream 503 falls over", candidates: []string{"status-503", "ok-a"}, wantCode: 200, wantText: "answer from ok-a", wantDone: true,
			wantCalls: []string{"status-503", "status-503", "status-503", "ok-a"}, wantStatus: "ok", wantAttempts: []string{"error", "error", "error", "ok"}},
		{name: "silent upstream falls over (F3)", candidates: []string{"silent", "ok-a"}, timeout: 300 * time.Millisecond, wantCode: 200, wantText: "answer from ok-a", wantDone: true,
			wantCalls: []string{"silent", "ok-a"}, wantStatus: "ok", wantAttempts: []string{"timeout", "ok"}},
		{name: "cut after first chunk ends with an error event (F4)", candidates: []string{"cut-after", "ok-a"}, wantCode: 200, wantText: "answer ", wantErrEvent: true,
			wantCalls: []string{"cut-after"}, wantStatus: "error", wantAttempts: []string{"error"}},
		{name: "in-band error event after chunks (F6)", candidates: []string{"error-event", "ok-a"}, wantCode: 200, wantText: "answer ", wantErrEvent: true,
			wantCalls: []string{"error-event"}, wantStatus: "error", wantAttempts: []string{"error"}},
		{name: "malformed chunk before content falls over (F6)", candidates: []string{"malformed", "ok-a"}, wantCode: 200, wantText: "answer from ok-a", wantDone: true,
			wantCalls: []string{"malformed", "ok-a"}, wantStatus: "ok", wantAttempts: []string{"error", "ok"}},
		// The router's timeout (10s) is the request's too: only the usage
		// grace can end this stream before the client's deadline.
		{name: "finish_reason without [DONE] is a success (F7)", candidates: []string{"no-done"}, timeout: 10 * time.Second, wantCode: 200, wantText: "answer from no-done", wantDone: true,
			wantCalls: []string{"no-done"}, wantStatus: "ok", wantAttempts: []string{"ok"}},
		{name: "stall mid-stream ends by the idle timer (F5)", candidates: []string{"stall", "ok-a"}, timeout: 300 * time.Millisecond, wantCode: 200, wantText: "answer ", wantErrEvent: true,
			wantCalls: []string{"stall"}, wantStatus: "error", wantAttempts: []string{"timeout"}},
		{name: "all fail before the first byte: a JSON error", candidates: []string{"status-503", "cut-before"}, wantCode: 502,
			wantCalls: []string{"status-503", "status-503", "status-503", "cut-before"}, wantStatus: "error", wantAttempts: []string{"error", "error", "error", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 2 * time.Second
			}
			st := newStack(t, tt.candidates, timeout)
			defer st.close()
			// Deadline shorter than the request's 10s timeout.
			st.client.Timeout = 5 * time.Second
			got := readStream(t, st, chatBody("auto", true, true))
			if got.code != tt.wantCode || got.text != tt.wantText || got.done != tt.wantDone || got.errEvt != tt.wantErrEvent {
				t.Errorf("got %d %q done=%v error-event=%v, want %d %q done=%v error-event=%v",
					got.code, got.text, got.done, got.errEvt, tt.wantCode, tt.wantText, tt.wantDone, tt.wantErrEvent)
			}
			if got.done && !got.usage {
				t.Errorf("no usage chunk although the client asked for it")
			}
			if calls := st.up.Models(); fmt.Sprint(calls) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("upstream calls = %v, want %v", calls, tt.wantCalls)
			}
			recs := st.rec.wait(1)
			if len(recs) != 1 {
				t.Fatalf("records = %d, want 1", len(recs))
			}
			var statuses []string
			for _, a := range recs[0].Attempts {
				statuses = append(statuses, a.Status)
			}
			if recs[0].Status != tt.wantStatus || fmt.Sprint(statuses) != fmt.Sprint(tt.wantAttempts) {
				t.Errorf("record status %q attempts %v, want %q %v", recs[0].Status, statuses, tt.wantStatus, tt.wantAttempts)
			}
			// The server stays healthy: the next request is served.
			if resp, _ := st.post(t, `{"model":"ok-b","messages":[{"role":"user","content":"again"}]}`); resp.StatusCode != 200 {
				t.Errorf("next request: status %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestChatPlainFaults(t *testing.T) {
	st := newStack(t, []string{"cut-before", "ok-a"}, 2*time.Second)
	resp, body := st.post(t, chatBody("auto", false, false))
	if resp.StatusCode != 200 || resp.Header.Get("x-switchyard-model") != "ok-a" || resp.Header.Get("x-switchyard-attempts") != "2" {
		t.Errorf("dropped connection: %d model %q attempts %q, want 200 from ok-a after 2 attempts (%s)",
			resp.StatusCode, resp.Header.Get("x-switchyard-model"), resp.Header.Get("x-switchyard-attempts"), body)
	}
	st.close()

	st = newStack(t, []string{"status-503"}, 2*time.Second)
	defer st.close()
	resp, body = st.post(t, chatBody("auto", false, false))
	var env struct {
		Error struct {
			Message, Type, Code string
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if resp.StatusCode != 502 || resp.Header.Get("x-should-retry") != "false" || !strings.Contains(env.Error.Message, "status-503") || env.Error.Type == "" || env.Error.Code == "" {
		t.Errorf("all failed: %d x-should-retry %q body %s, want 502, false, an OpenAI error naming what was tried", resp.StatusCode, resp.Header.Get("x-should-retry"), body)
	}
	if resp.Header.Get("x-switchyard-request-id") == "" {
		t.Errorf("failed request has no x-switchyard-request-id")
	}
}

// TestChatStreamClientCancel is FAULTS.md F10: the client leaves
// mid-stream; the upstream call is cancelled, not retried, recorded as
// cancelled, and no goroutine is left behind.
func TestChatStreamClientCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	st := newStack(t, []string{"stall", "ok-a"}, 5*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", st.api.URL+"/v1/chat/completions", strings.NewReader(chatBody("auto", true, false)))
	resp, err := st.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before content: %v", err)
		}
		if strings.Contains(line, `"content":"answer `) {
			break
		}
	}
	left := time.Now()
	cancel()
	resp.Body.Close()

	atts := st.up.WaitEnded(1, 2*time.Second)
	if len(atts) != 1 || atts[0].End.IsZero() || !atts[0].Cancelled {
		t.Fatalf("upstream attempts = %+v, want one, cancelled", atts)
	}
	t.Logf("upstream cancelled %v after the client left", atts[0].End.Sub(left))
	if d := atts[0].End.Sub(left); d > time.Second {
		t.Errorf("upstream cancelled %v after the client left, want promptly (~100ms)", d)
	}
	recs := st.rec.wait(1)
	if len(recs) != 1 || recs[0].Status != router.OutcomeCancelled || recs[0].Attempts[0].Status != router.OutcomeCancelled || recs[0].CompletionTokens == 0 {
		t.Errorf("records = %+v, want one, cancelled, with partial usage", recs)
	}
	if got := st.up.Models(); len(got) != 1 {
		t.Errorf("upstream calls = %v, want no retry after the client left", got)
	}

	st.close()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestChatPinsConversation(t *testing.T) {
	st := newStack(t, []string{"ok-a", "ok-b"}, 2*time.Second)
	defer st.close()
	ask := func(body string, header ...string) string {
		t.Helper()
		resp, raw := st.post(t, body, header...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		return resp.Header.Get("x-switchyard-model")
	}
	turn := `{"model":"auto","messages":[{"role":"user","content":"hi"}]%s}`
	if got := ask(fmt.Sprintf(turn, ""), "x-switchyard-conversation", "c1"); got != "ok-a" {
		t.Fatalf("first turn = %q, want ok-a", got)
	}
	if got := ask(fmt.Sprintf(turn, `,"user":"u1"`)); got != "ok-a" {
		t.Fatalf("first turn = %q, want ok-a", got)
	}
	// A new table would send everything to ok-b.
	all := []string{"ok-b"}
	if err := st.svc.SetVersion(router.Version{ID: 4, Table: router.Table{router.Simple: all, router.Moderate: all, router.Complex: all}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body string
		header     []string
		want       string
	}{
		{"pinned by header", fmt.Sprintf(turn, ""), []string{"x-switchyard-conversation", "c1"}, "ok-a"},
		{"pinned by user", fmt.Sprintf(turn, `,"user":"u1"`), nil, "ok-a"},
		{"pinned by metadata", fmt.Sprintf(turn, `,"metadata":{"conversation_id":"c1"}`), nil, "ok-a"},
		{"other conversation routes afresh", fmt.Sprintf(turn, ""), []string{"x-switchyard-conversation", "c2"}, "ok-b"},
		{"no conversation routes afresh", fmt.Sprintf(turn, ""), nil, "ok-b"},
	}
	for _, tt := range tests {
		if got := ask(tt.body, tt.header...); got != tt.want {
			t.Errorf("%s: model %q, want %q", tt.name, got, tt.want)
		}
	}
}
