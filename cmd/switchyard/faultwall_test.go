package main

// The fault wall (../shared/FAULTS.md) end to end: one test per row,
// each against the real `switchyard serve` (run, wired as in production),
// a fault-injecting upstream (internal/faketest) and the real openai-go
// client with its default retries, or raw HTTP where the row is about
// input an SDK cannot send. docs/FAULTWALL.md maps every row to its test
// here. Every row is bounded by a context deadline, checks after the
// server and upstream have stopped that no goroutine it started is left
// (go.uber.org/goleak), and searches everything it saw (responses,
// headers, logs, the database file) for the provider key it configured.
//
// Files: faultwall_test.go (this harness and F1-F16),
// faultwall_input_test.go (B1-B10), faultwall_db_test.go (the rows that
// need a database cut off or PostgreSQL).

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"

	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/router"
)

// wallKey is the provider key every row configures: it reaches the
// upstream and must appear nowhere else.
const wallKey = "sk-wall-canary-4e8d1f9a7c3b"

// rowTimeout bounds one row's requests.
const rowTimeout = 20 * time.Second

// spec is one row's service: the server section's body, the models (a
// name or "name@provider": each provider is a separate breaker and
// cooldown, all pointed at the one fake upstream), the routing section's
// body, and any further top-level YAML.
type spec struct {
	server  string
	models  []string
	routing string
	extra   string
	// classifier is the LLM classifier's model (one of models); empty:
	// the heuristic alone.
	classifier string
	// learner is the learner section's flow mapping; empty: disabled.
	learner string
	// dbURL is the database; empty: a fresh SQLite file.
	dbURL string
	// keyEnv names the providers' key variable; empty: no key (tests
	// outside the wall that share faultConfig).
	keyEnv string
}

// yaml renders s with its providers at url.
func (s spec) yaml(url string) string {
	var b, models strings.Builder
	b.WriteString("server:\n" + s.server + "\nproviders:\n")
	seen := map[string]bool{}
	for _, m := range s.models {
		name, prov, ok := strings.Cut(m, "@")
		if !ok {
			prov = "fake"
		}
		if !seen[prov] {
			seen[prov] = true
			b.WriteString("  - {name: " + prov + ", kind: openai, base_url: \"" + url + "/v1\", api_key_env: \"" + s.keyEnv + "\"}\n")
		}
		models.WriteString("  - {name: " + name + ", provider: " + prov + ", input_per_mtok: 1, output_per_mtok: 2, context_window: 100000}\n")
	}
	first, _, _ := strings.Cut(s.models[0], "@")
	b.WriteString("models:\n" + models.String())
	learner := s.learner
	if learner == "" {
		learner = "{enabled: false}"
	}
	b.WriteString("classifier: {model: \"" + s.classifier + "\"}\nrouting:\n" + s.routing + "\nbaseline_model: " + first + "\nlearner: " + learner + "\n" + s.extra)
	return b.String()
}

// everywhere is a routing section sending every bucket to models.
func everywhere(models ...string) string {
	l := "[" + strings.Join(models, ", ") + "]"
	return "  simple: " + l + "\n  moderate: " + l + "\n  complex: " + l
}

// row is one fault-wall row's running world.
type row struct {
	up     *faketest.Server
	in     *instance
	client openai.Client // the SDK, default retries
	http   *http.Client  // raw HTTP through the same recording transport
	ctx    context.Context
	seen   *syncBuffer // every response the row's clients read
}

// startRow starts a row: the leak check and the key search are set up
// first so that they run last, after serve and the upstream stopped.
func startRow(t *testing.T, s spec) *row {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	r := &row{seen: &syncBuffer{}}
	t.Cleanup(func() { r.checkKey(t) })
	r.up = faketest.New()
	t.Cleanup(r.up.Close)
	s.keyEnv = "WALL_KEY"
	env := map[string]string{"WALL_KEY": wallKey}
	if s.dbURL != "" {
		env["DATABASE_URL"] = s.dbURL
	}
	r.in = startServeYAML(t, s.yaml(r.up.URL), env)
	tr := &recording{base: &http.Transport{MaxIdleConnsPerHost: 64}, seen: r.seen}
	t.Cleanup(tr.base.CloseIdleConnections)
	r.http = &http.Client{Transport: tr}
	r.client = openai.NewClient(option.WithBaseURL(r.in.url+"/v1"), option.WithAPIKey("unused"), option.WithHTTPClient(r.http))
	ctx, cancel := context.WithTimeout(context.Background(), rowTimeout)
	t.Cleanup(cancel)
	r.ctx = ctx
	return r
}

// checkKey is the secrets row, for every row: the key reached the
// upstream, and appears in no response, header, log line or database
// file of the service.
func (r *row) checkKey(t *testing.T) {
	t.Helper()
	if r.in == nil {
		return // serve never started
	}
	if atts := r.up.Attempts(); len(atts) > 0 && !strings.Contains(atts[0].Authorization, wallKey) {
		t.Errorf("the upstream got Authorization %q, not the configured key: the key search proves nothing", atts[0].Authorization)
	}
	places := map[string]string{"responses": r.seen.String(), "logs": r.in.stderr.String()}
	if path, ok := strings.CutPrefix(r.in.dbURL, "sqlite:"); ok {
		db, _ := os.ReadFile(path)
		wal, _ := os.ReadFile(path + "-wal")
		places["database"] = string(db) + string(wal)
	}
	for where, text := range places {
		if strings.Contains(text, wallKey) || strings.Contains(text, wallKey[:14]) {
			t.Errorf("the provider key appears in the %s", where)
		}
	}
}

// recording is a RoundTripper that keeps a copy of every response's
// status, headers and body as the client reads it.
type recording struct {
	base *http.Transport
	seen *syncBuffer
}

func (rt *recording) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	var head bytes.Buffer
	head.WriteString(resp.Status + "\n")
	resp.Header.Write(&head)
	rt.seen.Write(head.Bytes())
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, rt.seen), resp.Body}
	return resp, nil
}

// records stops serve (the recorder's last flush) and returns what it
// wrote, newest first.
func (r *row) records(t *testing.T) []router.Record {
	t.Helper()
	r.in.shutdown(t)
	st := openTestStore(t, r.in.dbURL)
	recs, err := st.LatestRequests(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// calls counts the upstream attempts on model.
func (r *row) calls(model string) int {
	n := 0
	for _, a := range r.up.Attempts() {
		if a.Model == model {
			n++
		}
	}
	return n
}

// ask sends one prompt through the SDK, plain, and returns the answer's
// text and the model Switchyard says answered.
func (r *row) ask(prompt string, opts ...option.RequestOption) (string, string, error) {
	var raw *http.Response
	resp, err := r.client.Chat.Completions.New(r.ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user(prompt)},
		append(opts, option.WithResponseInto(&raw))...)
	if err != nil {
		return "", "", err
	}
	return resp.Choices[0].Message.Content, raw.Header.Get("x-switchyard-model"), nil
}

// stream sends one prompt through the SDK, streamed, and returns the
// text received and the stream's error.
func (r *row) stream(ctx context.Context, prompt string, opts ...option.RequestOption) (string, error) {
	s := r.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user(prompt)}, opts...)
	defer s.Close()
	var text strings.Builder
	for s.Next() {
		for _, c := range s.Current().Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	return text.String(), s.Err()
}

func user(s string) []openai.ChatCompletionMessageParamUnion {
	return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(s)}
}

// apiError returns err's HTTP status and OpenAI error, or fails t.
func apiError(t *testing.T, err error) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an API error", err)
	}
	return e
}

// F1: a 429's Retry-After, in every form, is honoured once when it fits
// the request (then the next model), else the next model at once; the
// rate-limited provider is never hammered and cools down, so the next
// request does not call it.
func TestFaultWallF1RateLimit(t *testing.T) {
	tests := []struct {
		name, header, value string
		wantCalls           int
		minGap              time.Duration // between the two calls
	}{
		{"seconds that fit", "Retry-After", "1", 2, time.Second},
		{"milliseconds", "Retry-After-Ms", "800", 2, 800 * time.Millisecond},
		{"HTTP date", "Retry-After", "", 2, 500 * time.Millisecond}, // now + 2s, set below
		{"absurd", "Retry-After", "86400", 1, 0},
		{"negative", "Retry-After", "-3", 1, 0},
		{"garbage", "Retry-After", "soon", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"limited@a", "ok-b@b"}, routing: everywhere("limited", "ok-b")})
			v := tt.value
			if v == "" {
				v = time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
			}
			r.up.Set("limited", faketest.Override{Status: 429, Header: http.Header{tt.header: {v}}})
			start := time.Now()
			text, model, err := r.ask("What is 2 + 2?")
			took := time.Since(start)
			if err != nil || model != "ok-b" || text != faketest.Answer("ok-b") {
				t.Fatalf("answer = %q from %q, %v; want ok-b's", text, model, err)
			}
			atts := r.up.Attempts()
			if got := r.calls("limited"); got != tt.wantCalls {
				t.Fatalf("calls to the limited model = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantCalls == 2 {
				if gap := atts[1].Start.Sub(atts[0].Start); gap < tt.minGap {
					t.Errorf("retry after %v, want at least %v", gap, tt.minGap)
				}
			} else if took > time.Second {
				t.Errorf("took %v to move on, want at once", took)
			}
			// Cooling down: the next request goes straight to ok-b.
			if _, model, err := r.ask("What is 3 + 3?"); err != nil || model != "ok-b" || r.calls("limited") != tt.wantCalls {
				t.Errorf("next request: %q, %v, %d calls to the limited model; want ok-b and no new call", model, err, r.calls("limited"))
			}
		})
	}
}

// F2: a model failing with a 5xx is retried twice, then the next model
// answers; the answer names it; the failed attempts are recorded and not
// billed.
func TestFaultWallF2ServerErrors(t *testing.T) {
	for _, code := range []string{"500", "502", "503", "504", "529"} {
		t.Run(code, func(t *testing.T) {
			failing := "status-" + code
			r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{failing + "@a", "ok-b@b"}, routing: everywhere(failing, "ok-b")})
			text, model, err := r.ask("What is 2 + 2?")
			if err != nil || model != "ok-b" || text != faketest.Answer("ok-b") {
				t.Fatalf("answer = %q from %q, %v; want ok-b's", text, model, err)
			}
			if n := r.calls(failing); n != 3 {
				t.Errorf("calls to %s = %d, want 3 (1 + 2 retries)", failing, n)
			}
			recs := r.records(t)
			if len(recs) != 1 {
				t.Fatalf("records = %d, want 1", len(recs))
			}
			rec := recs[0]
			failed := 0
			for _, a := range rec.Attempts {
				if a.Model == failing {
					failed++
					if a.Status == router.OutcomeOK || a.Cost != 0 {
						t.Errorf("failed attempt recorded as %+v, want a failure costing nothing", a)
					}
				}
			}
			if failed != 3 || rec.Model != "ok-b" || rec.Status != router.OutcomeOK {
				t.Errorf("record = %s by %s with %d failed attempts, want ok by ok-b with 3", rec.Status, rec.Model, failed)
			}
		})
	}
}

// F3: an upstream that accepts and never answers is abandoned at the
// first-byte timer, not retried, and the next model answers well within
// the request's deadline, plain and streamed.
func TestFaultWallF3SilentUpstream(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 300ms\n  attempt_timeout: 30s", models: []string{"silent-a", "ok-a"}, routing: everywhere("silent-a", "ok-a")})
	start := time.Now()
	if text, _, err := r.ask("What is 2 + 2?"); err != nil || text != faketest.Answer("ok-a") {
		t.Fatalf("answer = %q, %v; want ok-a's", text, err)
	}
	if text, err := r.stream(r.ctx, "What is 3 + 3?"); err != nil || text != faketest.Answer("ok-a") {
		t.Errorf("stream = %q, %v; want ok-a's answer", text, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("two requests past a silent model took %v, want about 2 × 300ms (attempt timeout 30s)", took)
	}
	if n := r.calls("silent-a"); n != 2 {
		t.Errorf("silent model called %d times for 2 requests, want 2 (never retried)", n)
	}
}

// F4: a stream cut before anything reached the client falls over to the
// next model; one cut after the client got a chunk ends with an error
// (never a success), and is recorded as a failure.
func TestFaultWallF4StreamCut(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"cut-before-a", "cut-after-a", "ok-b"},
		routing: "  simple: [cut-before-a, ok-b]\n  moderate: [cut-after-a, ok-b]\n  complex: [cut-after-a, ok-b]"})
	if text, err := r.stream(r.ctx, "What is 2 + 2?"); err != nil || text != faketest.Answer("ok-b") {
		t.Errorf("cut before the first byte: %q, %v; want ok-b's whole answer", text, err)
	}
	// The plain call is streamed upstream and assembled: nothing reached
	// the client when the cut came, so it falls over too.
	if text, model, err := r.ask("Explain step by step why the sky is blue, then compare it with sunsets."); err != nil || model != "ok-b" || text != faketest.Answer("ok-b") {
		t.Errorf("plain, cut after a chunk upstream: %q from %q, %v; want ok-b's", text, model, err)
	}
	text, err := r.stream(r.ctx, "Explain step by step why the sky is blue, then compare it with sunsets.")
	if err == nil || text != "answer " {
		t.Errorf("cut after the first chunk: %q, %v; want the chunk, then an error", text, err)
	}
	recs := r.records(t)
	if len(recs) != 3 || recs[0].Status == router.OutcomeOK || recs[0].Model != "cut-after-a" {
		t.Fatalf("records = %d, newest %s by %s; want 3, the cut stream a failure of cut-after-a", len(recs), recs[0].Status, recs[0].Model)
	}
}

// F5: a stream that stalls after some tokens is ended by the idle timer
// with an error; the server stays healthy. A stall before anything
// reached the client falls over.
func TestFaultWallF5StreamStall(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 400ms\n  attempt_timeout: 500ms", models: []string{"stall-a", "ok-b"}, routing: everywhere("stall-a", "ok-b")})
	start := time.Now()
	text, err := r.stream(r.ctx, "What is 2 + 2?")
	if err == nil || text != "answer " {
		t.Errorf("stalled stream = %q, %v; want the first chunk, then an error", text, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the stall ended after %v, want about the 500ms idle timer", took)
	}
	if text, model, err := r.ask("What is 3 + 3?"); err != nil || model != "ok-b" || text != faketest.Answer("ok-b") {
		t.Errorf("plain after a stall upstream: %q from %q, %v; want ok-b's", text, model, err)
	}
	resp, err := r.http.Get(r.in.url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz after stalls: %v %v", resp, err)
	}
	resp.Body.Close()
}

// F6: a malformed chunk, a 1 MB line and an in-band error event after
// valid chunks: no panic, nothing garbled forwarded; an in-band error is
// a failure.
func TestFaultWallF6BadChunks(t *testing.T) {
	tests := []struct {
		model string
		// wantText is what the client must get in full; empty: it must
		// get an error, and whatever text came is a prefix of the answer.
		wantText string
	}{
		{"malformed-a", faketest.Answer("ok-b")}, // nothing reached the client: falls over
		{"error-event-a", ""},
		{"huge-line-a", strings.Repeat("x", faketest.HugeLineBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{tt.model, "ok-b"}, routing: everywhere(tt.model, "ok-b")})
			text, err := r.stream(r.ctx, "What is 2 + 2?")
			switch {
			case tt.wantText != "" && (err != nil || text != tt.wantText):
				t.Errorf("stream = %.40q (%d bytes), %v; want %.40q whole", text, len(text), err, tt.wantText)
			case tt.wantText == "" && (err == nil || !strings.HasPrefix(faketest.Answer(tt.model), text)):
				t.Errorf("stream = %q, %v; want a prefix of the answer, then an error", text, err)
			}
			if strings.Contains(r.seen.String(), "oops") {
				t.Errorf("the malformed chunk reached the client")
			}
			if _, _, err := r.ask("What is 3 + 3?"); err != nil {
				t.Errorf("the next request: %v", err)
			}
		})
	}
}

// F7: finish_reason and usage arrive but [DONE] never does: the answer
// ends promptly, as a success with its usage.
func TestFaultWallF7NoDone(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 5s\n  attempt_timeout: 30s", models: []string{"no-done-a"}, routing: everywhere("no-done-a")})
	start := time.Now()
	text, err := r.stream(r.ctx, "What is 2 + 2?", option.WithJSONSet("stream_options", map[string]any{"include_usage": true}))
	if err != nil || text != faketest.Answer("no-done-a") {
		t.Errorf("stream = %q, %v; want the whole answer", text, err)
	}
	if text, _, err := r.ask("What is 3 + 3?"); err != nil || text != faketest.Answer("no-done-a") {
		t.Errorf("plain = %q, %v; want the whole answer", text, err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("two answers without [DONE] took %v, want promptly (the idle timer is 30s)", took)
	}
	for _, rec := range r.records(t) {
		if rec.Status != router.OutcomeOK || rec.PromptTokens != faketest.PromptTokens || rec.CompletionTokens != faketest.CompletionTokens {
			t.Errorf("record %s with %d+%d tokens, want ok with the usage sent", rec.Status, rec.PromptTokens, rec.CompletionTokens)
		}
	}
}

// F8: a prompt larger than every candidate's context window is a 400
// naming messages, before any upstream call.
func TestFaultWallF8PromptTooLong(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"ok-a", "ok-b"}, routing: everywhere("ok-a", "ok-b")})
	// The models take 100,000 tokens: about 400 KB of prompt.
	_, _, err := r.ask(strings.Repeat("word ", 90000))
	if e := apiError(t, err); e.StatusCode != 400 || e.Param != "messages" {
		t.Fatalf("err = %v, want a 400 naming messages", err)
	}
	if n := len(r.up.Attempts()); n != 0 {
		t.Errorf("upstream calls = %d, want none", n)
	}
}

// F9: a 400 from the provider (content policy, unsupported parameter) is
// not retried, and its reason reaches the client, as a 400 when every
// model refused.
func TestFaultWallF9ProviderRefusal(t *testing.T) {
	const reason = "This request was rejected by our content policy"
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"policy-a"}, routing: everywhere("policy-a")})
	r.up.Set("policy-a", faketest.Override{Status: 400, Message: reason})
	_, _, err := r.ask("What is 2 + 2?")
	if e := apiError(t, err); e.StatusCode != 400 || !strings.Contains(e.Message, reason) {
		t.Errorf("err = %v %s, want a 400 passing on %q", err, e.RawJSON(), reason)
	}
	if n := r.calls("policy-a"); n != 1 {
		t.Errorf("calls = %d, want 1: a refusal is not retried, by us or by the SDK", n)
	}
}

// F10: a client that goes away, before the first token or mid-stream,
// cancels the upstream call at once; nothing is retried, and the request
// is recorded as cancelled.
func TestFaultWallF10ClientGoesAway(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 10s\n  attempt_timeout: 30s", models: []string{"silent-a", "stall-b"},
		routing: "  simple: [silent-a]\n  moderate: [stall-b]\n  complex: [stall-b]"})
	tests := []struct {
		name, model, prompt string
		stream              bool
	}{
		{"before the first token", "silent-a", "What is 2 + 2?", false},
		{"mid-stream", "stall-b", "Explain step by step why the sky is blue, then compare it with sunsets.", true},
	}
	for i, tt := range tests {
		ctx, cancel := context.WithCancel(r.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if tt.stream {
				r.stream(ctx, tt.prompt)
			} else {
				r.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user(tt.prompt)})
			}
		}()
		// Wait until the upstream has the call (and, mid-stream, the
		// first chunk is on its way).
		for len(r.up.Attempts()) <= i && r.ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		gone := time.Now()
		cancel()
		<-done
		att := r.up.WaitEnded(i+1, 2*time.Second)[i]
		if !att.Cancelled || att.End.IsZero() {
			t.Errorf("%s: upstream call %+v, want cancelled", tt.name, att)
		} else if lag := att.End.Sub(gone); lag > 500*time.Millisecond {
			t.Errorf("%s: upstream call ended %v after the client left, want about 100ms", tt.name, lag)
		}
		if n := r.calls(tt.model); n != 1 {
			t.Errorf("%s: calls to %s = %d, want 1 (no retry)", tt.name, tt.model, n)
		}
	}
	recs := r.records(t)
	if len(recs) != 2 {
		t.Fatalf("records = %d, want 2", len(recs))
	}
	for _, rec := range recs {
		if rec.Status != router.OutcomeCancelled {
			t.Errorf("record of %s: status %s, want cancelled", rec.Model, rec.Status)
		}
	}
}

// F11: a provider answering 401 is disabled and reported (readiness
// metrics: switchyard_provider_up 0), its model is never called again,
// and the next model answers; the key is searched for as in every row.
func TestFaultWallF11RejectedKey(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"status-401@a", "ok-b@b"}, routing: everywhere("status-401", "ok-b")})
	for _, p := range []string{"What is 2 + 2?", "What is 3 + 3?"} {
		if text, model, err := r.ask(p); err != nil || model != "ok-b" || text != faketest.Answer("ok-b") {
			t.Errorf("answer = %q from %q, %v; want ok-b's", text, model, err)
		}
	}
	if n := r.calls("status-401"); n != 1 {
		t.Errorf("calls to the rejected provider = %d, want 1 (disabled after it)", n)
	}
	if body := r.metrics(t); !strings.Contains(body, `switchyard_provider_up{provider="a",state="disabled"} 0`) {
		t.Errorf("/metrics does not report provider a down:\n%s", grepLines(body, "provider_up"))
	}
}

// metrics returns the service's /metrics text.
func (r *row) metrics(t *testing.T) string {
	t.Helper()
	resp, err := r.http.Get(r.in.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(body)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// F13: a provider that goes down opens its breaker after five failures:
// traffic goes to the fallback without calling it. While it stays down,
// one probe per breaker wait tests it (and fails, doubling the wait);
// once it is back, the next probe closes the breaker and traffic returns
// to it. The waits are server.breaker_wait and breaker_max_wait (5 s and
// 30 s by default), shortened here; router TestBreakerBacksOff holds the
// doubling with a clock.
func TestFaultWallF13Flap(t *testing.T) {
	const wait = time.Second // the first wait; doubled by a failed probe
	r := startRow(t, spec{server: "  first_byte_timeout: 5s\n  breaker_wait: 1s\n  breaker_max_wait: 4s",
		models: []string{"primary@a", "ok-b@b"}, routing: everywhere("primary", "ok-b")})
	if _, model, err := r.ask("What is 1 + 1?"); err != nil || model != "primary" {
		t.Fatalf("before the flap: %q, %v; want primary", model, err)
	}
	r.up.Set("primary", faketest.Override{Status: 503})
	for i := range 3 {
		if _, model, err := r.ask("What is 2 + 2?"); err != nil || model != "ok-b" {
			t.Fatalf("request %d while down: %q, %v; want ok-b", i, model, err)
		}
	}
	// 1 healthy call, then 3 + 2 failing ones open the breaker (the
	// fifth is not retried past it); the third request does not call
	// the primary at all.
	if n := r.calls("primary"); n != 6 {
		t.Errorf("calls to primary = %d, want 6 (1 ok, 5 failing, then the breaker open)", n)
	}
	// Still down after the wait: one probe, not retried, and the
	// fallback answers.
	time.Sleep(wait + 100*time.Millisecond)
	if _, model, err := r.ask("What is 3 + 3?"); err != nil || model != "ok-b" {
		t.Fatalf("the probe's request while down: %q, %v; want ok-b", model, err)
	}
	if n := r.calls("primary"); n != 7 {
		t.Errorf("calls to primary = %d, want 7 (one probe after the wait, not retried)", n)
	}
	r.up.Clear("primary")
	recovered := time.Now()
	if _, model, err := r.ask("What is 4 + 4?"); err != nil || model != "ok-b" || r.calls("primary") != 7 {
		t.Errorf("just after recovery, breaker still open: %q, %v, %d calls to primary; want ok-b and none", model, err, r.calls("primary"))
	}
	// The failed probe doubled the wait to 2 s: the next probe after it
	// succeeds and closes the breaker.
	for {
		_, model, err := r.ask("What is 5 + 5?")
		if err != nil {
			t.Fatalf("after recovery: %v", err)
		}
		if model == "primary" {
			break
		}
		if time.Since(recovered) > 4*2*wait {
			t.Fatalf("traffic still goes to %s %v after the primary recovered, want it back after the doubled wait (%v)", model, time.Since(recovered), 2*wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range 3 {
		if _, model, err := r.ask("What is 6 + 6?"); err != nil || model != "primary" {
			t.Errorf("request %d after the breaker closed: %q, %v; want primary", i, model, err)
		}
	}
	if body := r.metrics(t); !strings.Contains(body, `switchyard_provider_up{provider="a",state="ok"} 1`) {
		t.Errorf("/metrics does not report provider a up again:\n%s", grepLines(body, "provider_up"))
	}
}

// F14: many concurrent requests, plain and streamed: every one answered,
// and every accepted request has exactly one record.
func TestFaultWallF14Concurrency(t *testing.T) {
	const n, workers = 300, 30
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"ok-a"}, routing: everywhere("ok-a")})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fails []error
	jobs := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				var err error
				if i%2 == 0 {
					_, _, err = r.ask("What is 2 + 2?")
				} else {
					_, err = r.stream(r.ctx, "What is 2 + 2?")
				}
				if err != nil {
					mu.Lock()
					fails = append(fails, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(fails) > 0 {
		t.Errorf("%d of %d requests failed, first: %v", len(fails), n, fails[0])
	}
	ids := map[string]bool{}
	for _, rec := range r.records(t) {
		ids[rec.ID] = true
	}
	if len(ids) != n {
		t.Errorf("distinct records = %d, want %d", len(ids), n)
	}
}

// F15: SIGTERM with a stream and a plain request in flight: readiness
// turns 503 while the listener stays open, both clients get a proper
// error at the drain deadline, both are recorded as cancelled, and
// serve's exit says the drain was not clean. (The request refusals and
// a clean drain are TestShutdownCancelsAndRecordsAtDeadline and
// TestShutdownCleanDrain.)
func TestFaultWallF15SIGTERM(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 30s\n  attempt_timeout: 30s\n  shutdown_timeout: 1s",
		models: []string{"silent-a", "stall-b"}, routing: "  simple: [silent-a]\n  moderate: [stall-b]\n  complex: [stall-b]"})
	errs := make(chan error, 2)
	go func() {
		_, err := r.stream(r.ctx, "Explain step by step why the sky is blue, then compare it with sunsets.")
		errs <- err
	}()
	go func() {
		// No SDK retry: the retry would meet a server that is gone.
		_, _, err := r.ask("What is 2 + 2?", option.WithMaxRetries(0))
		errs <- err
	}()
	for len(r.up.Attempts()) < 2 && r.ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	r.in.stop()
	time.Sleep(100 * time.Millisecond)
	resp, err := r.http.Get(r.in.url + "/readyz")
	if err != nil {
		t.Fatalf("/readyz while draining: %v, want a 503 from a listener still open", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/readyz while draining = %d, want 503", resp.StatusCode)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Errorf("a request cut at the drain deadline succeeded")
		} else if e := (*openai.Error)(nil); errors.As(err, &e) && e.StatusCode != 503 {
			t.Errorf("plain request at the drain deadline: %d, want 503", e.StatusCode)
		}
	}
	runErr := <-r.in.done
	r.in.done <- runErr
	if runErr == nil || !strings.Contains(runErr.Error(), "2 requests") {
		t.Errorf("serve = %v, want an unclean drain naming 2 requests", runErr)
	}
	st := openTestStore(t, r.in.dbURL)
	recs, err := st.LatestRequests(context.Background(), 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records = %d, %v; want 2", len(recs), err)
	}
	for _, rec := range recs {
		if rec.Status != router.OutcomeCancelled {
			t.Errorf("record of %s: %s, want cancelled", rec.Model, rec.Status)
		}
	}
}

// F16 with F2: a model failing with 503 sees at most 1 + 2 calls per
// client request, although the SDK retries 5xx by default: the final
// 502 says x-should-retry: false and names what was tried.
func TestFaultWallF16NoRetryStacking(t *testing.T) {
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"status-503", "ok-a"}, routing: everywhere("status-503")})
	_, _, err := r.ask("hi")
	if e := apiError(t, err); e.StatusCode != 502 || !strings.Contains(e.Message, "status-503") {
		t.Fatalf("err = %v, want a 502 naming status-503", err)
	}
	if n := len(r.up.Attempts()); n != 3 {
		t.Errorf("upstream calls = %d for one client request, want 3 (1 + our 2 retries, none stacked by the SDK)", n)
	}
}
