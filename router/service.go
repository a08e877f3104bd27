package router

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
)

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Call is one request to one model.
type Call struct {
	Model       string
	Messages    []Message
	MaxTokens   int      // zero: the provider's default
	Temperature *float64 // nil: the provider's default
	TopP        *float64 // nil: the provider's default
}

// Reply is a model's answer to a Call.
type Reply struct {
	Content          string
	FinishReason     string
	PromptTokens     int
	CompletionTokens int
}

// Completer runs calls against one provider. It returns a *CallError for
// failures the executor can reason about (status, retryability); any
// other error counts as a provider error.
type Completer interface {
	Complete(ctx context.Context, call Call) (Reply, error)
}

// Classifier analyses a prompt. Implementations answer even when their
// preferred tier fails (falling back and saying so in Analysis.Fallback);
// they return an error only when ctx is done.
type Classifier interface {
	Classify(ctx context.Context, prompt string) (Analysis, error)
}

// Recorder keeps request records. Record must not block for the database:
// implementations buffer. It returns an error only when the record could
// not be accepted (buffer full past ctx's deadline, recorder closed).
type Recorder interface {
	Record(ctx context.Context, rec Record) error
}

// CallError is a failed call as the executor sees it.
type CallError struct {
	Outcome    string // OutcomeError, OutcomeTimeout, OutcomeEmpty, OutcomeCancelled
	StatusCode int    // the provider's HTTP status, zero if none
	Message    string // safe to show a client
	// RetryAfter is the provider's Retry-After on a 429 or 503; zero when
	// absent or unusable (negative, garbage).
	RetryAfter time.Duration
	Err        error
}

func (e *CallError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *CallError) Unwrap() error { return e.Err }

// Request is what a client asks Switchyard to answer.
type Request struct {
	Endpoint string // "ask" or "chat", recorded
	Messages []Message
	// Model is "auto" (or empty) to classify and route, or a configured
	// model name to go straight there.
	Model       string
	MaxTokens   int
	Temperature *float64
	TopP        *float64
	// Prefer is a model to try first when routing "auto", ahead of the
	// table's candidates: the model that answered earlier turns of the
	// same conversation, so its prompt cache keeps working. Ignored when
	// not configured.
	Prefer string
}

// Result is a served request.
type Result struct {
	ID               string
	Content          string
	FinishReason     string
	Analysis         Analysis
	Model            string
	EstimatedCost    Micros
	Cost             Micros
	LatencyMS        int64
	TableVersion     int64
	Attempts         []Attempt
	PromptTokens     int
	CompletionTokens int
	// Propensity is the probability with which the first model tried was
	// chosen; Explored says exploration chose it (see Options.Explore).
	Propensity float64
	Explored   bool
}

// Service classifies, routes, executes and records requests.
type Service struct {
	models     Catalog
	completers map[string]Completer // by provider name
	classifier Classifier
	recorder   Recorder
	baseline   string
	timeout    time.Duration
	log        *slog.Logger
	now        func() time.Time
	newID      func() string
	explore    float64
	rand       func() float64
	health     *health

	version atomic.Pointer[Version]
}

// Options are a Service's collaborators and settings.
type Options struct {
	Models     Catalog
	Completers map[string]Completer
	Classifier Classifier
	Recorder   Recorder
	Baseline   string        // model whose cost savings are measured against
	Version    Version       // the routing table to start with
	Timeout    time.Duration // per attempt; zero means 60s
	Logger     *slog.Logger
	Now        func() time.Time
	NewID      func() string
	// Explore is the share of classified requests sent first to another
	// candidate of their bucket, chosen uniformly, so the learner keeps
	// evidence about models the table is not choosing. Zero disables it.
	Explore float64
	// Rand returns uniform numbers in [0, 1) for exploration; nil means
	// math/rand/v2.
	Rand func() float64
}

// NewService returns a Service ready to serve with opts.Version.
func NewService(opts Options) (*Service, error) {
	if err := opts.Version.Table.Validate(opts.Models); err != nil {
		return nil, fmt.Errorf("routing table version %d: %w", opts.Version.ID, err)
	}
	if _, ok := opts.Models[opts.Baseline]; !ok {
		return nil, fmt.Errorf("baseline model %q is not configured", opts.Baseline)
	}
	s := &Service{
		models:     opts.Models,
		completers: opts.Completers,
		classifier: opts.Classifier,
		recorder:   opts.Recorder,
		baseline:   opts.Baseline,
		timeout:    opts.Timeout,
		log:        opts.Logger,
		now:        opts.Now,
		newID:      opts.NewID,
	}
	if s.timeout <= 0 {
		s.timeout = 60 * time.Second
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = NewID
	}
	if opts.Explore < 0 || opts.Explore >= 1 {
		return nil, fmt.Errorf("explore share %v: want a value in [0, 1)", opts.Explore)
	}
	s.explore, s.rand = opts.Explore, opts.Rand
	s.health = newHealth(s.now)
	if s.rand == nil {
		s.rand = mrand.Float64
	}
	v := opts.Version
	s.version.Store(&v)
	return s, nil
}

// Version returns the routing-table version in use.
func (s *Service) Version() Version { return *s.version.Load() }

// SetVersion swaps the routing table atomically; requests already routed
// keep the version they started with.
func (s *Service) SetVersion(v Version) error {
	if err := v.Table.Validate(s.models); err != nil {
		return fmt.Errorf("routing table version %d: %w", v.ID, err)
	}
	s.version.Store(&v)
	return nil
}

// Models returns the configured model catalog.
func (s *Service) Models() Catalog { return s.models }

// Serve answers req: classify (unless a model is named), route, execute
// with escalation, record. The record is kept whatever happens, also when
// the client goes away. A returned error is an *Error.
func (s *Service) Serve(ctx context.Context, req Request) (Result, error) {
	p, err := s.plan(ctx, req)
	if err != nil {
		return p.res, err
	}
	reply, err := s.execute(ctx, req, &p)
	return s.keep(ctx, req, &p, reply, err)
}

// plan is what every way of serving a request shares before the first
// call: validation, classification and the candidate models in order.
type plan struct {
	start        time.Time
	prompt       string
	candidates   []string
	promptTokens int
	tried        []string // candidates actually called, in order
	res          Result
}

// plan validates req, classifies it (unless a model is named) and picks
// the candidates. Nothing is recorded for a request that fails here.
func (s *Service) plan(ctx context.Context, req Request) (plan, error) {
	p := plan{start: s.now(), res: Result{ID: s.newID()}}
	p.prompt = LastUserPrompt(req.Messages)
	if strings.TrimSpace(p.prompt) == "" {
		return p, Errorf(KindInvalid, "prompt", "must not be empty")
	}
	v := s.version.Load()
	p.res.TableVersion = v.ID

	if req.Model == "" || req.Model == "auto" {
		a, err := s.classifier.Classify(ctx, p.prompt)
		if err != nil {
			return p, &Error{Kind: KindUnavailable, Message: "request cancelled during classification", Err: err}
		}
		p.res.Analysis = a
		p.candidates = v.Table.Candidates(a)
		p.res.Propensity = 1
		if _, pinned := s.models[req.Prefer]; pinned {
			p.candidates = pinFirst(p.candidates, req.Prefer, s.models)
		} else {
			p.candidates, p.res.Propensity, p.res.Explored = s.explorePick(p.candidates)
		}
	} else {
		if _, ok := s.models[req.Model]; !ok {
			return p, Errorf(KindNotFound, "model", "model %q is not configured", req.Model)
		}
		p.candidates = []string{req.Model}
		p.res.Propensity = 1
	}

	p.promptTokens = EstimateTokens(req.Messages)
	if len(p.candidates) > 0 {
		p.res.EstimatedCost = s.models[p.candidates[0]].Cost(p.promptTokens, p.res.Analysis.EstimatedTokens)
	}
	return p, nil
}

// explorePick returns the candidates in the order to try, the probability
// that the first of them was chosen, and whether exploration chose it.
// With probability s.explore another candidate, uniformly chosen, goes
// first; the table's order follows as the fallback.
func (s *Service) explorePick(candidates []string) ([]string, float64, bool) {
	n := len(candidates)
	if s.explore == 0 || n < 2 {
		return candidates, 1, false
	}
	if s.rand() >= s.explore {
		return candidates, 1 - s.explore, false
	}
	k := 1 + int(s.rand()*float64(n-1))
	if k >= n { // rand() is below 1, but guard the float edge
		k = n - 1
	}
	out := make([]string, 0, n)
	out = append(out, candidates[k])
	out = append(out, candidates[:k]...)
	out = append(out, candidates[k+1:]...)
	return out, s.explore / float64(n-1), true
}

// pinFirst puts the preferred model (a conversation's earlier model) first,
// keeping the table's candidates behind it as fallbacks.
func pinFirst(candidates []string, prefer string, models Catalog) []string {
	if _, ok := models[prefer]; !ok {
		return candidates
	}
	out := []string{prefer}
	for _, c := range candidates {
		if c != prefer {
			out = append(out, c)
		}
	}
	return out
}

// keep finishes the request: latency, the record (which outlives the
// client: a cancelled request is still kept), the result.
func (s *Service) keep(ctx context.Context, req Request, p *plan, reply Reply, err error) (Result, error) {
	p.res.LatencyMS = s.now().Sub(p.start).Milliseconds()
	rec := s.record(req, p.prompt, p.res, reply, err, p.start)
	if rerr := s.recorder.Record(context.WithoutCancel(ctx), rec); rerr != nil {
		s.log.Error("record request", "id", p.res.ID, "err", rerr)
	}
	if err != nil {
		return p.res, err
	}
	return p.res, nil
}

// execute tries candidates in order until one answers.
func (s *Service) execute(ctx context.Context, req Request, p *plan) (Reply, error) {
	return s.each(ctx, p, func(ctx context.Context, c Completer, name string, att *Attempt) (Reply, bool, error) {
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
			wait, again := s.retryAfter(ctx, err, retry)
			if !again {
				s.log.Warn("attempt failed, escalating", "id", res.ID, "model", name, "status", att.Status, "err", err)
				break
			}
			s.log.Info("attempt failed, retrying", "id", res.ID, "model", name, "status", att.Status, "wait", wait)
			if !sleep(ctx, wait) {
				return Reply{}, &Error{Kind: KindUnavailable, Message: "request cancelled", Err: ctx.Err()}
			}
		}
	}
	return Reply{}, s.exhausted(p)
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
	return Call{Model: model, Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: req.Temperature, TopP: req.TopP}
}

// answered fills res from the reply of the model that answered.
func (res *Result) answered(model string, reply Reply) {
	res.Model = model
	res.Content = reply.Content
	res.FinishReason = reply.FinishReason
	res.PromptTokens = reply.PromptTokens
	res.CompletionTokens = reply.CompletionTokens
}

// admit returns the completer for candidate name, or records why it is
// skipped without a call (prompt too long, provider missing) and says no.
func (s *Service) admit(name string, p *plan) (Completer, Attempt, bool) {
	m := s.models[name]
	att := Attempt{Model: name, Provider: m.Provider}
	if m.ContextWindow > 0 && p.promptTokens >= m.ContextWindow {
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

// exhausted is the error when no candidate answered.
func (s *Service) exhausted(p *plan) error {
	if len(p.tried) == 0 {
		if len(p.candidates) == 1 {
			// A named model that cannot take the prompt: the caller's error.
			return Errorf(KindInvalid, "messages", "prompt of about %d tokens does not fit model %s", p.promptTokens, p.candidates[0])
		}
		return Errorf(KindUnavailable, "", "no candidate model could take the prompt (tried none of %s)", strings.Join(p.candidates, ", "))
	}
	return Errorf(KindUnavailable, "", "every candidate model failed (tried %s)", strings.Join(p.tried, ", "))
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
	if err == nil && strings.TrimSpace(reply.Content) == "" {
		err = &CallError{Outcome: OutcomeEmpty, Message: "model returned an empty answer"}
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

func (s *Service) record(req Request, prompt string, res Result, reply Reply, err error, start time.Time) Record {
	rec := Record{
		ID:               res.ID,
		Time:             start.UTC(),
		Endpoint:         req.Endpoint,
		PromptHash:       HashPrompt(prompt),
		Analysis:         res.Analysis,
		Complexity:       res.Analysis.Complexity,
		Category:         res.Analysis.Category,
		Model:            res.Model,
		TableVersion:     res.TableVersion,
		PromptTokens:     reply.PromptTokens,
		CompletionTokens: reply.CompletionTokens,
		Cost:             res.Cost,
		EstimatedCost:    res.EstimatedCost,
		LatencyMS:        res.LatencyMS,
		Attempts:         res.Attempts,
		Status:           OutcomeOK,
		Propensity:       res.Propensity,
		Explored:         res.Explored,
	}
	if res.Model != "" {
		rec.Provider = s.models[res.Model].Provider
		// The baseline is "the same prompt sent to the baseline model":
		// same tokens, the baseline's prices.
		rec.BaselineCost = s.models[s.baseline].Cost(reply.PromptTokens, reply.CompletionTokens)
	}
	if err != nil {
		rec.Status = OutcomeError
		if KindOf(err) == KindUnavailable && errors.Is(err, context.Canceled) {
			rec.Status = OutcomeCancelled
		}
		var e *Error
		if errors.As(err, &e) {
			rec.Error = e.Message
		}
	}
	return rec
}

// LastUserPrompt returns the content of the last user message, the text a
// request is classified by.
func LastUserPrompt(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// EstimateTokens is a provider-neutral estimate of prompt tokens: about
// four bytes a token plus a few per message of framing.
func EstimateTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content)/4 + 4
	}
	return n
}

// NormalizePrompt folds case and runs of white space, so prompts that
// differ only in those share a cache entry and a hash.
func NormalizePrompt(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	space := false
	for _, r := range strings.TrimSpace(p) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// HashPrompt is the hex SHA-256 of the normalised prompt: what records
// and the classification cache keep instead of the text.
func HashPrompt(p string) string {
	sum := sha256.Sum256([]byte(NormalizePrompt(p)))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random request id.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}
