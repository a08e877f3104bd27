package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// execute tries candidates in order until one answers.
func (s *Service) execute(ctx context.Context, req Request, p *plan) (Reply, error) {
	return s.each(ctx, p, func(ctx context.Context, c Completer, name string, att *Attempt) (Reply, bool, error) {
		if st, ok := c.(Streamer); ok {
			// Streamed and assembled, so that the first-byte timer watches
			// the first chunk rather than the whole answer.
			reply, _, err := s.streamAttempt(ctx, st, req.call(name), att, &p.res, assembler{}, s.timeout)
			return reply, false, err
		}
		reply, err := s.attempt(ctx, c, req.call(name), att)
		return reply, false, err
	})
}

// tryFunc makes one attempt on one model and reports whether any of its
// answer reached the client.
type tryFunc func(ctx context.Context, c Completer, name string, att *Attempt) (Reply, bool, error)

// Retry policy for one model (FAULTS.md F1, F2, F16): at most maxRetries
// retries after a 5xx, jittered; one retry after a 429 whose Retry-After
// fits the request's remaining time. Timeouts are not retried: a silent
// model stays silent (F3).
const (
	maxRetries   = 2
	retryBackoff = 150 * time.Millisecond
)

// each tries candidates in order, retrying a model on transient errors,
// until one answers, bytes reached the client, or the client went away.
// Every attempt is recorded and tells the provider's health.
func (s *Service) each(ctx context.Context, p *plan, try tryFunc) (Reply, error) {
	res := &p.res
	// The attempts' failure lines wait for the request's outcome: when a
	// model answered (or the client left, or a refusal ended it), they
	// are isolated failures and logged as they came; when none could,
	// the upstream tracker's line says so (the start of an outage names
	// its first failure) and they go to Debug. Logged as they came, the
	// first requests of every outage wrote a warning per model before
	// the tracker knew of it.
	var failures attemptLines
	outage := false
	defer func() { failures.log(ctx, s.log, outage) }()
	for _, name := range p.candidates {
		c, first, ok := s.admit(name, p)
		if !ok {
			continue
		}
		for retry := 0; ; retry++ {
			att := first
			reply, started, err := try(ctx, c, name, &att)
			res.Attempts = append(res.Attempts, att)
			res.Cost += att.Cost
			s.health.observe(att.Provider, err)
			if err == nil {
				res.answered(name, reply)
				s.upstream.OK()
				return reply, nil
			}
			if started {
				// The client has this model's (partial) answer: the
				// record says so.
				res.answered(name, reply)
			}
			var gone clientGone
			if errors.As(err, &gone) {
				return reply, &Error{Kind: KindUnavailable, Message: "client went away", Err: gone}
			}
			if ctx.Err() != nil {
				return reply, &Error{Kind: KindUnavailable, Message: "request cancelled", Err: ctx.Err()}
			}
			if started {
				// Bytes reached the client: another model's answer cannot
				// be spliced in.
				return reply, &Error{Kind: KindUnavailable, Message: fmt.Sprintf("model %s broke off its answer: %s", name, att.Error), Err: err}
			}
			// In a known upstream outage every request's attempts fail
			// alike: the tracker's lines say so, these go to Debug.
			level := slog.LevelWarn
			if s.upstream.Down() {
				level = slog.LevelDebug
			}
			wait, again := s.retryAfter(ctx, err, retry)
			if again && s.health.tripped(att.Provider) {
				// This failure (or a request's beside it) opened the
				// breaker, or a probe failed: the retry would go past it.
				again = false
			}
			if !again {
				failures.add(level, "attempt failed, escalating", "id", res.ID, "model", name, "status", att.Status, "err", err)
				break
			}
			failures.add(min(level, slog.LevelInfo), "attempt failed, retrying", "id", res.ID, "model", name, "status", att.Status, "wait", wait)
			if !sleep(ctx, wait) {
				return Reply{}, &Error{Kind: KindUnavailable, Message: "request cancelled", Err: ctx.Err()}
			}
		}
	}
	err := s.exhausted(p)
	if KindOf(err) == KindUnavailable {
		// No candidate answered: the upstream tracker counts it, and
		// logs only an outage's start (with this request's attempts),
		// summaries and end.
		outage = true
		s.upstream.Fail("serve", attemptsFailed(err, res.Attempts))
	}
	return Reply{}, err
}

// attemptLines are a request's attempt-failure log lines, kept until its
// outcome is known.
type attemptLines []attemptLine

type attemptLine struct {
	level slog.Level
	msg   string
	args  []any
}

func (l *attemptLines) add(level slog.Level, msg string, args ...any) {
	*l = append(*l, attemptLine{level, msg, args})
}

// log writes the lines, at Debug when they were part of an outage the
// upstream tracker logs.
func (l attemptLines) log(ctx context.Context, log *slog.Logger, outage bool) {
	for _, line := range l {
		level := line.level
		if outage {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, line.msg, line.args...)
	}
}

// attemptsFailed is err with each called model's failure, for the
// upstream tracker's line: the start of an outage says what failed.
func attemptsFailed(err error, atts []Attempt) error {
	var b strings.Builder
	for _, a := range atts {
		if a.Status == OutcomeOK || a.Status == OutcomeSkipped {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", a.Model, a.Status)
		if a.Error != "" {
			b.WriteString(": " + a.Error)
		}
	}
	if b.Len() == 0 {
		return err
	}
	return fmt.Errorf("%w: %s", err, b.String())
}

// retryAfter says whether to call the same model again after err (the
// retry-th retry) and after how long.
func (s *Service) retryAfter(ctx context.Context, err error, retry int) (time.Duration, bool) {
	var ce *CallError
	if !errors.As(err, &ce) || retry >= maxRetries {
		return 0, false
	}
	remaining := time.Duration(1<<62 - 1)
	if dl, ok := ctx.Deadline(); ok {
		remaining = time.Until(dl) // the wait is real time, whatever s.now says
	}
	switch {
	case ce.StatusCode == 429:
		// Honour Retry-After once, when it fits; otherwise move on at
		// once and let the provider cool down.
		if retry > 0 || ce.RetryAfter <= 0 || ce.RetryAfter > maxRetryAfter || ce.RetryAfter >= remaining {
			return 0, false
		}
		return ce.RetryAfter, true
	case ce.StatusCode >= 500:
		// Full jitter on an exponential base, so retries from many
		// requests do not arrive together.
		wait := time.Duration(s.rand() * float64(retryBackoff<<retry))
		if ce.RetryAfter > 0 && ce.RetryAfter <= maxRetryAfter {
			wait = max(wait, ce.RetryAfter)
		}
		if wait >= remaining {
			return 0, false
		}
		return wait, true
	}
	return 0, false
}

// sleep waits d or until ctx is done, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Providers reports every provider's health as routing sees it.
func (s *Service) Providers() []ProviderHealth { return s.health.snapshot() }

// call is req addressed to one model.
func (req Request) call(model string) Call {
	return Call{Model: model, Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: req.Temperature, TopP: req.TopP, Options: req.Options}
}

// answered fills res from the reply of the model that answered.
func (res *Result) answered(model string, reply Reply) {
	res.Model = model
	res.Content = reply.Content
	res.ToolCalls = reply.ToolCalls
	res.Refusal = reply.Refusal
	res.Logprobs = reply.Logprobs
	res.FinishReason = reply.FinishReason
	res.PromptTokens = reply.PromptTokens
	res.CompletionTokens = reply.CompletionTokens
}

// admit returns the completer for candidate name, or records why it is
// skipped without a call (prompt too long, provider missing) and says no.
func (s *Service) admit(name string, p *plan) (Completer, Attempt, bool) {
	m := s.models[name]
	att := Attempt{Model: name, Provider: m.Provider}
	if s.tooLong(name, p) {
		att.Status, att.Error = OutcomeSkipped, fmt.Sprintf("prompt of about %d tokens exceeds context window %d", p.promptTokens, m.ContextWindow)
		p.res.Attempts = append(p.res.Attempts, att)
		return nil, att, false
	}
	c, ok := s.completers[m.Provider]
	if !ok {
		att.Status, att.Error = OutcomeSkipped, "provider not available"
		p.res.Attempts = append(p.res.Attempts, att)
		return nil, att, false
	}
	if ok, why := s.health.allow(m.Provider); !ok {
		att.Status, att.Error = OutcomeSkipped, why
		p.res.Attempts = append(p.res.Attempts, att)
		return nil, att, false
	}
	p.tried = append(p.tried, name)
	return c, att, true
}

// tooLong reports whether p's prompt exceeds model name's context window.
func (s *Service) tooLong(name string, p *plan) bool {
	m := s.models[name]
	return m.ContextWindow > 0 && p.promptTokens >= m.ContextWindow
}

// exhausted is the error when no candidate answered.
func (s *Service) exhausted(p *plan) error {
	if len(p.tried) == 0 {
		if len(p.candidates) == 1 && s.tooLong(p.candidates[0], p) {
			// A named model that cannot take the prompt: the caller's
			// error. One skipped for its health (breaker open, cooling
			// down) is not: that is the 502 below.
			return Errorf(KindInvalid, "messages", "prompt of about %d tokens does not fit model %s", p.promptTokens, p.candidates[0])
		}
		return Errorf(KindUnavailable, "", "no candidate model could take the prompt (tried none of %s)", strings.Join(p.candidates, ", "))
	}
	msg := fmt.Sprintf("every candidate model failed (tried %s)", strings.Join(p.tried, ", "))
	// A provider's refusal (400: content policy, an unsupported
	// parameter) is a reason the client needs to change its request
	// (FAULTS.md F9): it is passed on, and when every model that was
	// called refused, the answer is the client's error, a 400 no SDK
	// retries.
	var refusals []string
	allRefused := true
	for _, a := range p.res.Attempts {
		switch {
		case a.Status == OutcomeSkipped:
		case refused(a.StatusCode):
			refusals = append(refusals, a.Model+": "+a.Error)
		default:
			allRefused = false
		}
	}
	if len(refusals) == 0 {
		return Errorf(KindUnavailable, "", "%s", msg)
	}
	msg += "; " + strings.Join(refusals, "; ")
	if allRefused {
		return Errorf(KindInvalid, "", "%s", msg)
	}
	return Errorf(KindUnavailable, "", "%s", msg)
}

// refused reports whether a failed call's status says the provider
// refused this request as asked, rather than being unavailable (see
// unavailable) or timing out.
func refused(status int) bool {
	return status >= 400 && status < 500 && !unavailable(status) && status != 408 && status != 409
}

// attempt makes one call and fills att.
func (s *Service) attempt(ctx context.Context, c Completer, call Call, att *Attempt) (Reply, error) {
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t0 := s.now()
	reply, err := c.Complete(actx, call)
	att.LatencyMS = s.now().Sub(t0).Milliseconds()
	att.PromptTokens, att.CompletionTokens = reply.PromptTokens, reply.CompletionTokens
	att.FinishReason = reply.FinishReason
	att.Cost = s.models[call.Model].Cost(reply.PromptTokens, reply.CompletionTokens)
	if err == nil && !reply.said() {
		err = &CallError{Outcome: OutcomeEmpty, Message: "model returned an empty answer"}
	}
	if err == nil {
		err = checkToolCalls(reply.ToolCalls)
	}
	if err == nil {
		att.Status = OutcomeOK
		return reply, nil
	}
	s.failed(ctx, err, att)
	return reply, err
}

// failed sets att's status and client-safe error from a call's err.
func (s *Service) failed(ctx context.Context, err error, att *Attempt) {
	var ce *CallError
	switch {
	case errors.As(err, &ce):
		att.Status, att.Error, att.StatusCode = ce.Outcome, ce.Message, ce.StatusCode
	case ctx.Err() != nil:
		att.Status, att.Error = OutcomeCancelled, "client went away"
	case errors.Is(err, context.DeadlineExceeded):
		att.Status, att.Error = OutcomeTimeout, fmt.Sprintf("no answer within %s", s.timeout)
	default:
		att.Status, att.Error = OutcomeError, "provider error"
	}
	if ctx.Err() != nil {
		att.Status = OutcomeCancelled
	}
}
