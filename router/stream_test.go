package router

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// errBlock makes a scripted stream block until its context ends.
var errBlock = errors.New("block")

// script is one model's streamed answer: chunks, then end (nil: io.EOF).
type script struct {
	chunks []Chunk
	end    error
	final  Reply
}

// streamer is a Completer and Streamer answering per model from scripts;
// models without a script stream a normal answer.
type streamer struct {
	scripted
	scripts map[string]script
}

func (s *streamer) Stream(ctx context.Context, call Call) (ChunkStream, error) {
	s.mu.Lock()
	s.calls = append(s.calls, call.Model)
	s.mu.Unlock()
	sc, ok := s.scripts[call.Model]
	if !ok {
		sc = script{
			chunks: []Chunk{{Role: "assistant"}, {Content: "answer from "}, {Content: call.Model}, {FinishReason: "stop"}},
			final:  Reply{FinishReason: "stop", PromptTokens: 100, CompletionTokens: 50},
		}
	}
	return &fakeStream{ctx: ctx, script: sc}, nil
}

type fakeStream struct {
	ctx context.Context
	script
	i      int
	closed bool
}

func (f *fakeStream) Recv() (Chunk, error) {
	if f.i < len(f.chunks) {
		f.i++
		return f.chunks[f.i-1], nil
	}
	switch f.end {
	case nil:
		return Chunk{}, io.EOF
	case errBlock:
		<-f.ctx.Done()
		return Chunk{}, f.ctx.Err()
	default:
		return Chunk{}, f.end
	}
}

func (f *fakeStream) Final() Reply { return f.final }
func (f *fakeStream) Close() error { f.closed = true; return nil }

// recWriter keeps what reached the "client"; failOn > 0 makes the
// failOn-th Write fail.
type recWriter struct {
	mu     sync.Mutex
	starts []Result
	chunks []Chunk
	failOn int
}

func (w *recWriter) Start(res Result) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.starts = append(w.starts, res)
	return nil
}

func (w *recWriter) Write(c Chunk) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failOn > 0 && len(w.chunks)+1 == w.failOn {
		return errors.New("broken pipe")
	}
	w.chunks = append(w.chunks, c)
	return nil
}

func (w *recWriter) text() string {
	var b strings.Builder
	for _, c := range w.chunks {
		b.WriteString(c.Content)
	}
	return b.String()
}

func TestServeStream(t *testing.T) {
	role := Chunk{Role: "assistant"}
	tests := []struct {
		name       string
		scripts    map[string]script
		timeout    time.Duration
		failOn     int
		wantModel  string
		wantText   string
		wantCalls  []string
		wantStatus []string
		wantErr    bool
		wantRecord string
	}{
		{name: "clean stream", wantModel: "cheap", wantText: "answer from cheap",
			wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeOK}, wantRecord: OutcomeOK},
		{name: "cut before content falls over (F4)",
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role}}},
			wantModel: "mid", wantText: "answer from mid",
			wantCalls: []string{"cheap", "mid"}, wantStatus: []string{OutcomeError, OutcomeOK}, wantRecord: OutcomeOK},
		{name: "provider error before content falls over",
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role}, end: &CallError{Outcome: OutcomeError, Message: "provider error (500)"}}},
			wantModel: "mid", wantText: "answer from mid",
			wantCalls: []string{"cheap", "mid"}, wantStatus: []string{OutcomeError, OutcomeOK}, wantRecord: OutcomeOK},
		{name: "finish without content is empty and falls over",
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role, {FinishReason: "stop"}}}},
			wantModel: "mid", wantText: "answer from mid",
			wantCalls: []string{"cheap", "mid"}, wantStatus: []string{OutcomeEmpty, OutcomeOK}, wantRecord: OutcomeOK},
		{name: "cut after content is a failure without fallback (F4)",
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role, {Content: "half an"}}}},
			wantModel: "cheap", wantText: "half an", wantErr: true,
			wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeError}, wantRecord: OutcomeError},
		{name: "stall after content ends by the idle timer (F5)", timeout: 50 * time.Millisecond,
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role, {Content: "half an"}}, end: errBlock}},
			wantModel: "cheap", wantText: "half an", wantErr: true,
			wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeTimeout}, wantRecord: OutcomeError},
		{name: "silent model falls over by the first-chunk timer (F3)", timeout: 50 * time.Millisecond,
			scripts:   map[string]script{"cheap": {end: errBlock}},
			wantModel: "mid", wantText: "answer from mid",
			wantCalls: []string{"cheap", "mid"}, wantStatus: []string{OutcomeTimeout, OutcomeOK}, wantRecord: OutcomeOK},
		{name: "finish_reason without [DONE] is a success (F7)",
			scripts:   map[string]script{"cheap": {chunks: []Chunk{role, {Content: "done"}, {FinishReason: "stop"}}, end: errBlock, final: Reply{PromptTokens: 7, CompletionTokens: 1}}},
			wantModel: "cheap", wantText: "done",
			wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeOK}, wantRecord: OutcomeOK},
		{name: "client gone mid-stream is cancelled, no fallback (F10)", failOn: 3,
			wantModel: "cheap", wantText: "answer from ", wantErr: true,
			wantCalls: []string{"cheap"}, wantStatus: []string{OutcomeCancelled}, wantRecord: OutcomeCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &streamer{scripts: tt.scripts}
			svc, rec := newTestService(t, c, fixedClassifier(Simple))
			if tt.timeout > 0 {
				svc.timeout = tt.timeout
			}
			w := &recWriter{failOn: tt.failOn}
			// The deadline is far beyond every timer the service sets (a
			// second at most), so hitting it means a timer did not fire.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := svc.ServeStream(ctx, Request{Endpoint: "chat", Messages: userMsg("hi")}, w)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && KindOf(err) != KindUnavailable {
				t.Errorf("err kind = %s, want unavailable", KindOf(err))
			}
			if ctx.Err() != nil {
				t.Fatalf("the request ran into the test's deadline")
			}
			if res.Model != tt.wantModel {
				t.Errorf("model = %q, want %q", res.Model, tt.wantModel)
			}
			if got := w.text(); got != tt.wantText {
				t.Errorf("client got %q, want %q", got, tt.wantText)
			}
			if len(w.starts) != 1 {
				t.Fatalf("Start called %d times, want once", len(w.starts))
			}
			if s := w.starts[0]; s.Model != tt.wantModel || len(s.Attempts) != len(tt.wantCalls) {
				t.Errorf("Start saw model %q with %d attempts, want %q with %d", s.Model, len(s.Attempts), tt.wantModel, len(tt.wantCalls))
			}
			if !equal(c.calls, tt.wantCalls) {
				t.Errorf("calls = %v, want %v", c.calls, tt.wantCalls)
			}
			var statuses []string
			for _, a := range res.Attempts {
				statuses = append(statuses, a.Status)
			}
			if !equal(statuses, tt.wantStatus) {
				t.Errorf("attempt statuses = %v, want %v", statuses, tt.wantStatus)
			}
			if len(rec.recs) != 1 {
				t.Fatalf("records = %d, want 1", len(rec.recs))
			}
			if r := rec.recs[0]; r.Status != tt.wantRecord || r.Endpoint != "chat" || r.Model != tt.wantModel {
				t.Errorf("record status %q endpoint %q model %q, want %q chat %q", r.Status, r.Endpoint, r.Model, tt.wantRecord, tt.wantModel)
			}
		})
	}
}

func TestServeStreamCosts(t *testing.T) {
	tests := []struct {
		name     string
		script   script
		wantCost Micros
	}{
		// 100 in x 0.1 + 50 out x 0.4 = 30 micros.
		{"usage from the provider", script{chunks: []Chunk{{Content: "hello"}, {FinishReason: "stop"}}, final: Reply{PromptTokens: 100, CompletionTokens: 50}}, 30},
		// No usage: EstimateTokens(userMsg("hi")) = 4 in, 400/4+1 = 101 out: 0.4 + 40.4.
		{"estimated without usage", script{chunks: []Chunk{{Content: strings.Repeat("x", 400)}, {FinishReason: "stop"}}}, 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, rec := newTestService(t, &streamer{scripts: map[string]script{"cheap": tt.script}}, fixedClassifier(Simple))
			res, err := svc.ServeStream(context.Background(), Request{Messages: userMsg("hi")}, &recWriter{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Cost != tt.wantCost || rec.recs[0].Cost != tt.wantCost {
				t.Errorf("cost = %d, recorded %d, want %d micros", res.Cost, rec.recs[0].Cost, tt.wantCost)
			}
		})
	}
}

func TestServeStreamWholeAnswerFallback(t *testing.T) {
	// A completer that cannot stream still serves, as one chunk.
	svc, rec := newTestService(t, &scripted{}, fixedClassifier(Simple))
	w := &recWriter{}
	res, err := svc.ServeStream(context.Background(), Request{Messages: userMsg("hi")}, w)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.chunks) != 1 || w.chunks[0].Content != "answer from cheap" || w.chunks[0].FinishReason != "stop" {
		t.Errorf("chunks = %+v, want one whole answer with its finish reason", w.chunks)
	}
	if res.Model != "cheap" || rec.recs[0].Status != OutcomeOK {
		t.Errorf("model %q status %q, want cheap ok", res.Model, rec.recs[0].Status)
	}
}

func TestServeStreamClientCancel(t *testing.T) {
	c := &streamer{scripts: map[string]script{"cheap": {chunks: []Chunk{{Content: "partial"}}, end: errBlock}}}
	svc, rec := newTestService(t, c, fixedClassifier(Simple))
	ctx, cancel := context.WithCancel(context.Background())
	w := &startHook{recWriter: &recWriter{}, onWrite: cancel}
	_, err := svc.ServeStream(ctx, Request{Messages: userMsg("hi")}, w)
	if err == nil {
		t.Fatal("err = nil, want the request cancelled")
	}
	if !equal(c.calls, []string{"cheap"}) {
		t.Errorf("calls = %v, want no retry after the client left", c.calls)
	}
	if r := rec.recs[0]; r.Status != OutcomeCancelled || r.Attempts[0].Status != OutcomeCancelled || r.CompletionTokens == 0 {
		t.Errorf("record status %q attempt %q completion tokens %d, want cancelled with partial usage", r.Status, r.Attempts[0].Status, r.CompletionTokens)
	}
}

// startHook calls onWrite after each write: the client leaving mid-stream.
type startHook struct {
	*recWriter
	onWrite func()
}

func (h *startHook) Write(c Chunk) error {
	err := h.recWriter.Write(c)
	h.onWrite()
	return err
}

func TestServeStreamPrefer(t *testing.T) {
	c := &streamer{}
	svc, _ := newTestService(t, c, fixedClassifier(Simple))
	res, err := svc.ServeStream(context.Background(), Request{Messages: userMsg("hi"), Prefer: "strong"}, &recWriter{})
	if err != nil || res.Model != "strong" || res.Analysis.Complexity != Simple {
		t.Errorf("model %q complexity %q err %v, want the pinned strong, still classified", res.Model, res.Analysis.Complexity, err)
	}
	if got := pinFirst([]string{"cheap", "mid"}, "nope", testModels); !equal(got, []string{"cheap", "mid"}) {
		t.Errorf("unknown preference changed candidates: %v", got)
	}
	if got := pinFirst([]string{"cheap", "mid"}, "mid", testModels); !equal(got, []string{"mid", "cheap"}) {
		t.Errorf("pinFirst = %v, want mid then cheap", got)
	}
}

// TestUsageThenNoDone: once the finish reason and the usage have come, a
// provider that never sends [DONE] (F7) holds the answer only usageTail,
// not the whole usageGrace, and the usage chunk is not passed on.
func TestUsageThenNoDone(t *testing.T) {
	c := &streamer{scripts: map[string]script{"cheap": {
		chunks: []Chunk{{Role: "assistant"}, {Content: "done"}, {FinishReason: "stop"}, {UsageOnly: true}},
		end:    errBlock,
		final:  Reply{FinishReason: "stop", PromptTokens: 7, CompletionTokens: 1},
	}}}
	svc, rec := newTestService(t, c, fixedClassifier(Simple))
	w := &recWriter{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := svc.ServeStream(ctx, Request{Endpoint: "chat", Messages: userMsg("hi")}, w)
	took := time.Since(start)
	if err != nil || res.Model != "cheap" || w.text() != "done" {
		t.Fatalf("stream = %q from %q, %v; want done from cheap", w.text(), res.Model, err)
	}
	// Far above usageTail (50 ms), far below usageGrace (1 s): a loaded
	// machine's timer slack fits, waiting for the grace does not.
	if took >= usageGrace/2 {
		t.Errorf("the answer took %v after its usage, want about usageTail", took)
	}
	for _, ch := range w.chunks {
		if ch.UsageOnly {
			t.Errorf("the usage chunk was passed on to the client")
		}
	}
	if len(rec.recs) != 1 || rec.recs[0].Status != OutcomeOK || rec.recs[0].PromptTokens != 7 {
		t.Errorf("records = %+v, want one ok with the usage", rec.recs)
	}
}
