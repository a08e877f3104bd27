package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// usageGrace is how long a stream may stay silent after its finish_reason
// before it is ended as a success: long enough for the usage chunk that
// follows it, short enough that an upstream which never sends [DONE]
// (FAULTS.md F7) does not hold the client.
const usageGrace = time.Second

// usageTail is how long a stream may stay silent once both its
// finish_reason and its usage have come: only [DONE] is left, which an
// honest provider sends at once. Reading it, rather than closing the body
// early, keeps the connection for the next call; not waiting the whole
// usageGrace for it keeps F7 from holding every answer a second.
const usageTail = 50 * time.Millisecond

// Chunk is one piece of a streamed answer.
type Chunk struct {
	Role         string // on the opening chunk, usually "assistant"
	Content      string
	ToolCalls    []ToolCallDelta
	Refusal      string
	Logprobs     json.RawMessage // the provider's logprobs for this chunk, nil if none
	FinishReason string          // on the last content chunk
	// UsageOnly marks a chunk that carried nothing but the token usage
	// (the stream's Final has it): not passed on to the client, it tells
	// the stream that only [DONE] is left.
	UsageOnly bool
}

// says reports whether the chunk carries part of an answer: text that is
// not only white space, a tool-call piece or a refusal.
func (c Chunk) says() bool {
	return strings.TrimSpace(c.Content) != "" || len(c.ToolCalls) > 0 || c.Refusal != ""
}

// ChunkStream is one model's answer as it arrives.
type ChunkStream interface {
	// Recv returns the next chunk, io.EOF after a clean end, or an error
	// (a *CallError when the provider failed) when the stream broke.
	Recv() (Chunk, error)
	// Final is the reply as far as the stream told it, valid once Recv
	// has returned an error: finish reason and token usage (zero when the
	// provider sent none). Its Content may be empty; the caller keeps the
	// text.
	Final() Reply
	// Close releases the stream; safe to call more than once.
	Close() error
}

// Streamer is an optional capability of a Completer: answering as a
// stream. Stream returns a *CallError when the provider refused the call
// before streaming (HTTP status, throttle).
type Streamer interface {
	Stream(ctx context.Context, call Call) (ChunkStream, error)
}

// StreamWriter receives a streamed answer on its way to the client.
type StreamWriter interface {
	// Start is called once, right before the first chunk with content is
	// written: the model is then fixed and falling back is no longer
	// possible. res.Attempts ends with the attempt being streamed, its
	// Status still empty. An error aborts the request.
	Start(res Result) error
	// Write sends one chunk; an error (the client went away) aborts the
	// request.
	Write(c Chunk) error
}

// Errors that stop a stream from our side, told apart through
// context.Cause.
var (
	errIdle      = errors.New("stream idle")
	errFinished  = errors.New("stream finished without [DONE]")
	errFirstByte = errors.New("no first byte")
	errAttempt   = errors.New("attempt timeout")
)

// assembler is the StreamWriter of a whole answer called streamed: the
// chunks are collected by streamAttempt, nothing is written anywhere.
type assembler struct{}

func (assembler) Start(Result) error { return nil }
func (assembler) Write(Chunk) error  { return nil }

// ServeStream answers req as a stream written to w. Until w.Start the
// request falls over to the next candidate like Serve; after it, a broken
// stream ends the request with an error (the caller ends its stream with
// an error event) and is recorded as a failure. A stream that ends
// without a finish reason is a failure. Candidates whose completer cannot
// stream are called whole and written as one chunk. A returned error is
// an *Error.
func (s *Service) ServeStream(ctx context.Context, req Request, w StreamWriter) (Result, error) {
	p, err := s.plan(ctx, req)
	if err != nil {
		return p.res, err
	}
	reply, err := s.executeStream(ctx, req, &p, w)
	return s.keep(ctx, req, &p, reply, err)
}

// executeStream tries candidates in order until one streams an answer.
func (s *Service) executeStream(ctx context.Context, req Request, p *plan, w StreamWriter) (Reply, error) {
	return s.each(ctx, p, func(ctx context.Context, c Completer, name string, att *Attempt) (Reply, bool, error) {
		if st, ok := c.(Streamer); ok {
			return s.streamAttempt(ctx, st, req.call(name), att, &p.res, w, 0)
		}
		return s.wholeAttempt(ctx, c, req.call(name), att, &p.res, w)
	})
}

// wholeAttempt serves a candidate that cannot stream with one call,
// written as a single chunk.
func (s *Service) wholeAttempt(ctx context.Context, c Completer, call Call, att *Attempt, res *Result, w StreamWriter) (Reply, bool, error) {
	reply, err := s.attempt(ctx, c, call, att)
	if err != nil {
		return reply, false, err
	}
	if err := s.start(res, *att, w); err != nil {
		att.Status, att.Error = OutcomeCancelled, "client went away"
		return reply, false, clientGone{err}
	}
	if err := w.Write(wholeChunk(reply)); err != nil {
		att.Status, att.Error = OutcomeCancelled, "client went away"
		return reply, true, clientGone{err}
	}
	return reply, true, nil
}

// clientGone is a failure to write to the client: nobody is listening any
// more, so the request ends as cancelled, without escalation.
type clientGone struct{ err error }

func (e clientGone) Error() string { return "writing to the client: " + e.err.Error() }

// Unwrap makes the request's record status "cancelled".
func (e clientGone) Unwrap() []error { return []error{e.err, context.Canceled} }

// start calls w.Start with res as it stands, att being streamed.
func (s *Service) start(res *Result, att Attempt, w StreamWriter) error {
	cur := *res
	cur.Model = att.Model
	cur.Attempts = append(append([]Attempt(nil), res.Attempts...), Attempt{Model: att.Model, Provider: att.Provider})
	return w.Start(cur)
}

// streamAttempt streams one call to w and fills att. Chunks are held back
// until one carries content, so a stream that breaks before saying
// anything can still fall over. It reports whether w.Start was called.
// A positive total bounds the whole attempt (a whole answer called
// streamed keeps attempt_timeout's meaning); a client's stream is bounded
// only by its gaps.
func (s *Service) streamAttempt(ctx context.Context, st Streamer, call Call, att *Attempt, res *Result, w StreamWriter, total time.Duration) (Reply, bool, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// One watchdog for the gaps: s.firstByte to the first chunk (FAULTS.md
	// F3), s.timeout between chunks (F5), usageGrace after the finish
	// reason (F7). Cancelling actx unblocks Recv.
	dog := newWatchdog(s.firstByte, errFirstByte, cancel)
	defer dog.stop()
	if total > 0 {
		stop := time.AfterFunc(total, func() { cancel(errAttempt) })
		defer stop.Stop()
	}

	t0 := s.now()
	var (
		text    strings.Builder
		calls   toolCallBuilder
		refusal strings.Builder
		said    bool
		held    []Chunk
		started bool
		finish  string
		err     error
		cs      ChunkStream
	)
	cs, err = st.Stream(actx, call)
	if err == nil {
		defer cs.Close()
		for {
			var ch Chunk
			ch, err = cs.Recv()
			if err != nil {
				break
			}
			if ch.UsageOnly {
				if finish != "" {
					dog.reset(min(usageTail, s.timeout), errFinished)
				} else {
					dog.reset(s.timeout, errIdle)
				}
				continue
			}
			if ch.FinishReason != "" {
				finish = ch.FinishReason
				dog.reset(min(usageGrace, s.timeout), errFinished)
			} else if finish == "" {
				dog.reset(s.timeout, errIdle)
			}
			text.WriteString(ch.Content)
			refusal.WriteString(ch.Refusal)
			before := len(calls.calls)
			for _, d := range ch.ToolCalls {
				calls.add(d)
			}
			// Clients take a tool call as whole when the next one starts
			// or the finish reason comes (openai-go's accumulator does):
			// check the calls before that chunk is passed on, so a call
			// whose arguments stop short never reaches them as done.
			done := 0
			if len(calls.calls) > before {
				done = before // a new call started: the earlier ones are done
			}
			if ch.FinishReason != "" {
				done = len(calls.calls)
			}
			if err = checkToolCalls(calls.calls[:done]); err != nil {
				break
			}
			said = said || ch.says()
			if !started {
				held = append(held, ch)
				if !said {
					continue
				}
				if err = s.start(res, *att, w); err != nil {
					err = clientGone{err}
					break
				}
				started = true
				for _, h := range held {
					if err = w.Write(h); err != nil {
						err = clientGone{err}
						break
					}
				}
				held = nil
				if err != nil {
					break
				}
				continue
			}
			if err = w.Write(ch); err != nil {
				err = clientGone{err}
				break
			}
		}
	}
	cause := context.Cause(actx)
	if errors.Is(err, io.EOF) || (finish != "" && errors.Is(cause, errFinished)) {
		err = nil
	}

	var reply Reply
	if cs != nil {
		reply = cs.Final()
	}
	reply.Content = text.String()
	reply.ToolCalls = calls.calls
	reply.Refusal = refusal.String()
	if reply.FinishReason == "" {
		reply.FinishReason = finish
	}
	if reply.PromptTokens == 0 && reply.CompletionTokens == 0 && said {
		// The stream broke before its usage chunk, or the provider sent
		// none: providers bill what they generated, so estimate it.
		reply.PromptTokens = EstimateTokens(call.Messages)
		reply.CompletionTokens = (len(reply.Content)+len(reply.Refusal)+toolCallBytes(reply.ToolCalls))/4 + 1
	}
	att.LatencyMS = s.now().Sub(t0).Milliseconds()
	att.PromptTokens, att.CompletionTokens = reply.PromptTokens, reply.CompletionTokens
	att.FinishReason = reply.FinishReason
	att.Cost = s.models[call.Model].Cost(reply.PromptTokens, reply.CompletionTokens)

	switch {
	case err != nil && errors.Is(cause, errFirstByte):
		// A silent model stays silent: the executor moves on without a
		// retry (not wrapping err, as below).
		err = &CallError{Outcome: OutcomeTimeout, Message: fmt.Sprintf("no first byte within %s", s.firstByte), Err: errFirstByte}
	case err != nil && errors.Is(cause, errAttempt):
		err = &CallError{Outcome: OutcomeTimeout, Message: fmt.Sprintf("no whole answer within %s", total), Err: errAttempt}
	case err != nil && errors.Is(cause, errIdle):
		// Not wrapping err: its context.Canceled would make the record
		// say the client left.
		err = &CallError{Outcome: OutcomeTimeout, Message: fmt.Sprintf("no chunk within %s", s.timeout), Err: errIdle}
	case err == nil && finish == "":
		// openai-go reports a stream cut without [DONE] as a clean end.
		err = &CallError{Outcome: OutcomeError, Message: "stream ended before the model finished (no finish_reason)"}
	case err == nil && !reply.said():
		err = &CallError{Outcome: OutcomeEmpty, Message: "model returned an empty answer"}
	case err == nil:
		// A tool call whose arguments stopped short is a failure even
		// when the provider claimed to finish.
		err = checkToolCalls(reply.ToolCalls)
	}
	if err == nil {
		att.Status = OutcomeOK
		return reply, started, nil
	}
	s.failed(ctx, err, att)
	if errors.As(err, new(clientGone)) {
		att.Status, att.Error = OutcomeCancelled, "client went away"
	}
	return reply, started, err
}

// watchdog cancels an attempt when no chunk arrives in time, with the
// cause of the current phase.
type watchdog struct {
	mu     sync.Mutex
	cause  error
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

func newWatchdog(d time.Duration, cause error, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{cause: cause, cancel: cancel}
	w.timer = time.AfterFunc(d, w.fire)
	return w
}

func (w *watchdog) fire() {
	w.mu.Lock()
	cause := w.cause
	w.mu.Unlock()
	w.cancel(cause)
}

// reset restarts the timer for d with cause as the reason it would fire.
func (w *watchdog) reset(d time.Duration, cause error) {
	w.mu.Lock()
	w.cause = cause
	w.mu.Unlock()
	w.timer.Reset(d)
}

func (w *watchdog) stop() { w.timer.Stop() }

// wholeChunk is a whole reply as the one chunk of a stream.
func wholeChunk(r Reply) Chunk {
	c := Chunk{Role: "assistant", Content: r.Content, Refusal: r.Refusal, Logprobs: r.Logprobs, FinishReason: r.FinishReason}
	for i, tc := range r.ToolCalls {
		c.ToolCalls = append(c.ToolCalls, ToolCallDelta{Index: i, ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
	}
	return c
}

func toolCallBytes(calls []ToolCall) int {
	n := 0
	for _, c := range calls {
		n += len(c.Name) + len(c.Arguments)
	}
	return n
}
