package router

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
	start := s.now()
	res := Result{ID: s.newID()}
	prompt := LastUserPrompt(req.Messages)
	if strings.TrimSpace(prompt) == "" {
		return res, Errorf(KindInvalid, "prompt", "must not be empty")
	}
	v := s.version.Load()
	res.TableVersion = v.ID

	var candidates []string
	if req.Model == "" || req.Model == "auto" {
		a, err := s.classifier.Classify(ctx, prompt)
		if err != nil {
			return res, &Error{Kind: KindUnavailable, Message: "request cancelled during classification", Err: err}
		}
		res.Analysis = a
		candidates = v.Table.Candidates(a.Complexity)
	} else {
		if _, ok := s.models[req.Model]; !ok {
			return res, Errorf(KindNotFound, "model", "model %q is not configured", req.Model)
		}
		candidates = []string{req.Model}
	}

	promptTokens := EstimateTokens(req.Messages)
	if len(candidates) > 0 {
		res.EstimatedCost = s.models[candidates[0]].Cost(promptTokens, res.Analysis.EstimatedTokens)
	}

	reply, err := s.execute(ctx, req, candidates, promptTokens, &res)
	res.LatencyMS = s.now().Sub(start).Milliseconds()
	rec := s.record(req, prompt, res, reply, err, start)
	// The record outlives the client: a cancelled request is still kept.
	if rerr := s.recorder.Record(context.WithoutCancel(ctx), rec); rerr != nil {
		s.log.Error("record request", "id", res.ID, "err", rerr)
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

// execute tries candidates in order until one answers.
func (s *Service) execute(ctx context.Context, req Request, candidates []string, promptTokens int, res *Result) (Reply, error) {
	var tried []string
	for _, name := range candidates {
		m := s.models[name]
		att := Attempt{Model: name, Provider: m.Provider}
		if m.ContextWindow > 0 && promptTokens >= m.ContextWindow {
			att.Status, att.Error = OutcomeSkipped, fmt.Sprintf("prompt of about %d tokens exceeds context window %d", promptTokens, m.ContextWindow)
			res.Attempts = append(res.Attempts, att)
			continue
		}
		c, ok := s.completers[m.Provider]
		if !ok {
			att.Status, att.Error = OutcomeSkipped, "provider not available"
			res.Attempts = append(res.Attempts, att)
			continue
		}
		tried = append(tried, name)
		reply, err := s.attempt(ctx, c, Call{Model: name, Messages: req.Messages, MaxTokens: req.MaxTokens, Temperature: req.Temperature}, &att)
		res.Attempts = append(res.Attempts, att)
		res.Cost += att.Cost
		if err == nil {
			res.Model = name
			res.Content = reply.Content
			res.FinishReason = reply.FinishReason
			res.PromptTokens = reply.PromptTokens
			res.CompletionTokens = reply.CompletionTokens
			return reply, nil
		}
		if ctx.Err() != nil {
			return Reply{}, &Error{Kind: KindUnavailable, Message: "request cancelled", Err: ctx.Err()}
		}
		s.log.Warn("attempt failed, escalating", "id", res.ID, "model", name, "status", att.Status, "err", err)
	}
	if len(tried) == 0 {
		if len(candidates) == 1 {
			// A named model that cannot take the prompt: the caller's error.
			return Reply{}, Errorf(KindInvalid, "messages", "prompt of about %d tokens does not fit model %s", promptTokens, candidates[0])
		}
		return Reply{}, Errorf(KindUnavailable, "", "no candidate model could take the prompt (tried none of %s)", strings.Join(candidates, ", "))
	}
	return Reply{}, Errorf(KindUnavailable, "", "every candidate model failed (tried %s)", strings.Join(tried, ", "))
}

// attempt makes one call and fills att.
func (s *Service) attempt(ctx context.Context, c Completer, call Call, att *Attempt) (Reply, error) {
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t0 := s.now()
	reply, err := c.Complete(actx, call)
	att.LatencyMS = s.now().Sub(t0).Milliseconds()
	att.PromptTokens, att.CompletionTokens = reply.PromptTokens, reply.CompletionTokens
	att.Cost = s.models[call.Model].Cost(reply.PromptTokens, reply.CompletionTokens)
	if err == nil && strings.TrimSpace(reply.Content) == "" {
		err = &CallError{Outcome: OutcomeEmpty, Message: "model returned an empty answer"}
	}
	if err == nil {
		att.Status = OutcomeOK
		return reply, nil
	}
	var ce *CallError
	switch {
	case errors.As(err, &ce):
		att.Status, att.Error = ce.Outcome, ce.Message
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
	return reply, err
}

func (s *Service) record(req Request, prompt string, res Result, reply Reply, err error, start time.Time) Record {
	rec := Record{
		ID:               res.ID,
		Time:             start.UTC(),
		Endpoint:         req.Endpoint,
		PromptHash:       HashPrompt(prompt),
		Analysis:         res.Analysis,
		Complexity:       res.Analysis.Complexity,
		Model:            res.Model,
		TableVersion:     res.TableVersion,
		PromptTokens:     reply.PromptTokens,
		CompletionTokens: reply.CompletionTokens,
		Cost:             res.Cost,
		EstimatedCost:    res.EstimatedCost,
		LatencyMS:        res.LatencyMS,
		Attempts:         res.Attempts,
		Status:           OutcomeOK,
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
