// Package faketest is a fault-injecting OpenAI-compatible upstream for
// tests (FAULTS.md): an httptest server answering chat completions, plain
// and streamed, where the requested model's name selects the fault, and
// which records every attempt with its time.
package faketest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults, selected by the model name's prefix (so "ok-a" and "ok-b" are
// two well-behaved models). Any other name behaves as Ok.
const (
	Ok         = "ok"         // a normal answer
	CutBefore  = "cut-before" // stream: the role chunk, then the body ends; plain: the connection drops
	CutAfter   = "cut-after"  // stream: one content chunk, then the body ends without finish_reason
	NoDone     = "no-done"    // stream: finish_reason and usage, then silence instead of [DONE]
	Stall      = "stall"      // stream: one content chunk, then silence
	ErrorEvent = "error-event"
	Malformed  = "malformed" // stream: a chunk that is not JSON
	Silent     = "silent"    // accepts the request and never answers
	Status     = "status-"   // "status-503": that HTTP status with an OpenAI error body
	HugeLine   = "huge-line" // stream: the answer is one content chunk of HugeLineBytes
)

// HugeLineBytes is the size of HugeLine's one content chunk: 1 MB, far
// past the 64 KB a default bufio.Scanner takes.
const HugeLineBytes = 1 << 20

// Override changes what one model does from now on, whatever its name
// says: a test flips a model from healthy to failing and back (a flapping
// provider), or adds a Retry-After, or puts odd text in an error body.
type Override struct {
	// Status, when non-zero, answers every request with that HTTP status
	// and an OpenAI error body.
	Status int
	// Message replaces the error body's message ("fake upstream says
	// <status>"), for a Status override or a "status-" model.
	Message string
	// Header is added to every response for the model.
	Header http.Header
}

// Usage every answer reports.
const (
	PromptTokens     = 10
	CompletionTokens = 5
)

// maxBlock bounds how long a silent handler waits, so a test that forgets
// to cancel still ends.
const maxBlock = 30 * time.Second

// Attempt is one request the upstream received.
type Attempt struct {
	Model         string
	Stream        bool
	IncludeUsage  bool   // stream_options.include_usage was sent
	Authorization string // the header as received
	Body          string // the request body as received
	Start, End    time.Time
	// Cancelled is whether the caller had gone away (its request context
	// was done) when the handler returned.
	Cancelled bool
}

// Server is the fake upstream. Its URL is that of the embedded
// httptest.Server; clients use URL + "/v1".
type Server struct {
	*httptest.Server
	stop chan struct{}
	once sync.Once

	mu        sync.Mutex
	attempts  []Attempt
	overrides map[string]Override
}

// New starts a fake upstream; Close it when done.
func New() *Server {
	s := &Server{stop: make(chan struct{}), overrides: map[string]Override{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Close releases every blocked handler, then shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.stop) })
	s.Server.Close()
}

// Set makes model behave as o until Clear; it is safe to call while
// requests are served.
func (s *Server) Set(model string, o Override) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overrides[model] = o
}

// Clear returns model to what its name says.
func (s *Server) Clear(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.overrides, model)
}

// Attempts returns the attempts so far, finished or not, in arrival order.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}

// Models returns the model of every attempt so far, in arrival order.
func (s *Server) Models() []string {
	var out []string
	for _, a := range s.Attempts() {
		out = append(out, a.Model)
	}
	return out
}

// WaitEnded waits up to d until n attempts have ended and returns them.
func (s *Server) WaitEnded(n int, d time.Duration) []Attempt {
	deadline := time.Now().Add(d)
	for {
		all := s.Attempts()
		ended := 0
		for _, a := range all {
			if !a.End.IsZero() {
				ended++
			}
		}
		if ended >= n || time.Now().After(deadline) {
			return all
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type request struct {
	Model         string `json:"model"`
	Stream        bool   `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	raw, err := io.ReadAll(r.Body)
	var req request
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"bad json","type":"invalid_request_error"}}`)
		return
	}
	s.mu.Lock()
	i := len(s.attempts)
	s.attempts = append(s.attempts, Attempt{
		Model:         req.Model,
		Stream:        req.Stream,
		IncludeUsage:  req.StreamOptions != nil && req.StreamOptions.IncludeUsage,
		Authorization: r.Header.Get("Authorization"),
		Body:          string(raw),
		Start:         time.Now(),
	})
	over := s.overrides[req.Model]
	s.mu.Unlock()
	for k, vs := range over.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	defer func() {
		s.mu.Lock()
		s.attempts[i].End = time.Now()
		s.attempts[i].Cancelled = r.Context().Err() != nil
		s.mu.Unlock()
	}()

	fault := faultOf(req.Model)
	switch {
	case fault == Silent:
		s.block(r)
		return
	case over.Status != 0 || fault == Status:
		code := over.Status
		if code == 0 {
			code, _ = strconv.Atoi(strings.TrimPrefix(req.Model, Status)[:min(3, len(req.Model)-len(Status))])
		}
		if code < 400 || code > 599 {
			code = http.StatusInternalServerError
		}
		msg := over.Message
		if msg == "" {
			msg = fmt.Sprintf("fake upstream says %d", code)
		}
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": "server_error", "code": "fake"}})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write(body)
		return
	case req.Stream:
		s.stream(w, r, req, fault)
		return
	case fault == CutBefore || fault == CutAfter:
		drop(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":"chatcmpl-fake","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
		req.Model, Answer(req.Model), PromptTokens, CompletionTokens, PromptTokens+CompletionTokens)
}

// Answer is what model answers when it answers.
func Answer(model string) string { return "answer from " + model }

func faultOf(model string) string {
	for _, f := range []string{CutBefore, CutAfter, NoDone, Stall, ErrorEvent, Malformed, Silent, Status, HugeLine} {
		if strings.HasPrefix(model, f) {
			return f
		}
	}
	return Ok
}

// stream writes the answer as server-sent events, as the fault says.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req request, fault string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(data string) {
		fmt.Fprintf(w, "data: %s\n\n", data)
		_ = rc.Flush()
	}
	chunk := func(delta, finish string) string {
		f := "null"
		if finish != "" {
			f = strconv.Quote(finish)
		}
		return fmt.Sprintf(`{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":%q,"choices":[{"index":0,"delta":%s,"finish_reason":%s}]}`, req.Model, delta, f)
	}
	content := func(text string) string { return fmt.Sprintf(`{"content":%q}`, text) }

	send(chunk(`{"role":"assistant","content":""}`, ""))
	switch fault {
	case CutBefore:
		return
	case Malformed:
		send(`{"id":"chatcmpl-fake","choices":[{"delta":{"content":"oops"`)
		return
	}
	words := strings.SplitAfter(Answer(req.Model), " ")
	if fault == HugeLine {
		words = []string{strings.Repeat("x", HugeLineBytes)}
	}
	send(chunk(content(words[0]), ""))
	switch fault {
	case CutAfter:
		return
	case Stall:
		s.block(r)
		return
	case ErrorEvent:
		send(`{"error":{"message":"fake upstream overloaded","type":"server_error"}}`)
		return
	}
	for _, word := range words[1:] {
		send(chunk(content(word), ""))
	}
	send(chunk(`{}`, "stop"))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		send(fmt.Sprintf(`{"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1,"model":%q,"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`,
			req.Model, PromptTokens, CompletionTokens, PromptTokens+CompletionTokens))
	}
	if fault == NoDone {
		s.block(r)
		return
	}
	send("[DONE]")
}

// block waits until the caller goes away or the server closes.
func (s *Server) block(r *http.Request) {
	t := time.NewTimer(maxBlock)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-s.stop:
	case <-t.C:
	}
}

// drop closes the connection without a response.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
