package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/internal/outage"
)

// Message is one chat turn. Content is its text (text parts joined by
// newlines), what classification and token estimates read; Parts, when
// set, is the content as the client sent it, images included.
type Message struct {
	Role      string        `json:"role"`
	Content   string        `json:"content"`
	Parts     []ContentPart `json:"parts,omitempty"`
	Name      string        `json:"name,omitempty"`
	ToolCalls []ToolCall    `json:"tool_calls,omitempty"` // an assistant's calls
	// ToolCallID is the call a "tool" message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	Refusal    string `json:"refusal,omitempty"`
}

// Call is one request to one model.
type Call struct {
	Model       string
	Messages    []Message
	MaxTokens   int      // zero: the provider's default
	Temperature *float64 // nil: the provider's default
	TopP        *float64 // nil: the provider's default
	Options     ChatOptions
}

// Reply is a model's answer to a Call.
type Reply struct {
	Content          string
	ToolCalls        []ToolCall
	Refusal          string
	Logprobs         json.RawMessage // the provider's choice logprobs object, nil if none
	FinishReason     string
	PromptTokens     int
	CompletionTokens int
}

// said reports whether the reply says anything: text, a tool call or a
// refusal.
func (r Reply) said() bool {
	return strings.TrimSpace(r.Content) != "" || len(r.ToolCalls) > 0 || r.Refusal != ""
}

// Completer runs calls against one provider. It returns a *CallError for
// failures the executor can reason about (status, retryability); any
// other error counts as a provider error.
type Completer interface {
	Complete(ctx context.Context, call Call) (Reply, error)
}

// Classifier analyses a prompt, prepared once by the service
// (PreparePrompt): its Hash is the cache key, its Text what a local
// model reads, its Raw what an LLM reads. Implementations answer even
// when their preferred tier fails (falling back and saying so in
// Analysis.Fallback); they return an error only when ctx is done.
type Classifier interface {
	Classify(ctx context.Context, prompt Prompt) (Analysis, error)
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
	// Options are tools, response format and the rest of the
	// chat-completions surface, passed on to the model.
	Options ChatOptions
	// Key names the API key the request came with (package keys); it is
	// recorded so spend can be reported per key. Empty without keys.
	Key string
	// Pacing relaxes routing for a key spending ahead of its budget's
	// pace, and caps the request's expected cost (router/pacing.go).
	Pacing Pacing
}

// Result is a served request.
type Result struct {
	ID               string
	Content          string
	ToolCalls        []ToolCall
	Refusal          string
	Logprobs         json.RawMessage
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
	// Filtered are the candidates dropped for a capability they lack;
	// Escalated says none of the bucket's could serve the request and
	// the first configured model that can was used instead.
	Filtered  []Filtered
	Escalated bool
	// Paced says Request.Pacing moved the request to cheaper models than
	// the table's first choice.
	Paced bool
}

// Service classifies, routes, executes and records requests.
type Service struct {
	models     Catalog
	completers map[string]Completer // by provider name
	classifier Classifier
	recorder   Recorder
	baseline   string
	timeout    time.Duration
	firstByte  time.Duration
	log        *slog.Logger
	upstream   *outage.Tracker
	now        func() time.Time
	newID      func() string
	explore    float64
	// exploreUniform is Options.ExploreUniform.
	exploreUniform bool
	rand           func() float64
	health         *health
	// uncertainty is the running mean of per-prompt uncertainty (float64
	// bits), which scales each prompt's exploration so that the average
	// stays at the budget.
	uncertainty atomic.Uint64
	// outcomes is the recorded evidence by bucket and model that aims
	// the bucket table's exploration (SetOutcomes); nil: none read yet.
	outcomes atomic.Pointer[bucketEvidence]
	// routed counts the requests routed automatically (Routed), which
	// paces WatchOutcomes's reads.
	routed atomic.Int64

	// labelShare is the share of policy-routed requests whose
	// classification may still ask the LLM (see Options.LabelShare).
	labelShare float64

	routing atomic.Pointer[routing]
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
	// FirstByteTimeout bounds an attempt's wait for the provider's first
	// chunk (FAULTS.md F3); zero or more than Timeout means Timeout.
	// Completers that stream are called streamed even for a whole answer,
	// so the timer watches the first chunk and never cuts an answer that
	// is slow only because it is long.
	FirstByteTimeout time.Duration
	Logger           *slog.Logger
	// Upstream follows requests that no candidate could answer, so an
	// upstream outage is logged as one line when it starts, a summary
	// every 30s (requests failed) and one when a request is answered
	// again, not a line per request and attempt; nil makes one named
	// "upstream" on Logger.
	Upstream *outage.Tracker
	// BreakerWait is how long a provider's newly opened circuit breaker
	// keeps traffic away before one probe may test it (FAULTS.md F13);
	// each failed probe doubles the wait up to BreakerMaxWait. Zero
	// means DefaultBreakerWait and DefaultBreakerMaxWait.
	BreakerWait    time.Duration
	BreakerMaxWait time.Duration
	Now            func() time.Time
	NewID          func() string
	// Explore is the exploration budget: the average share of routed
	// requests sent first to another of their candidates, so the learner
	// keeps evidence about models routing is not choosing. It is spent
	// where the decision is uncertain (see explorePick). Zero disables it.
	Explore float64
	// ExploreUniform spends the budget uniformly instead: every request
	// explores with probability Explore, drawing among its alternatives
	// alike. It is the baseline directed exploration is measured against
	// (TestDirectedExplorationVsUniform, BENCHMARKS.md).
	ExploreUniform bool
	// Rand returns uniform numbers in [0, 1) for exploration; nil means
	// math/rand/v2.
	Rand func() float64
	// Predictor is the local model of Version, made for its
	// PromptPolicy; nil routes by the bucket table (see Activate).
	Predictor Predictor
	// LabelShare is the share of requests routed by a per-prompt policy
	// whose classification still goes through the whole cascade (an LLM
	// classification when the local tier is unsure), for the labels the
	// local model trains its categories on and for drift; the rest take
	// the local tier's answer. Zero keeps the LLM out of policy routing.
	LabelShare float64
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
		upstream:   opts.Upstream,
		now:        opts.Now,
		newID:      opts.NewID,
	}
	if s.timeout <= 0 {
		s.timeout = 60 * time.Second
	}
	s.firstByte = opts.FirstByteTimeout
	if s.firstByte <= 0 || s.firstByte > s.timeout {
		s.firstByte = s.timeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.upstream == nil {
		// Settle: after an outage, providers' breakers close one by one
		// and requests still fail in between; the recovery line waits for
		// a success 5 s clear of the last failure.
		s.upstream = outage.New("upstream", s.log, outage.Options{Now: s.now, Settle: 5 * time.Second})
	}
	if s.newID == nil {
		s.newID = NewID
	}
	if opts.Explore < 0 || opts.Explore >= 1 {
		return nil, fmt.Errorf("explore share %v: want a value in [0, 1)", opts.Explore)
	}
	s.explore, s.rand, s.exploreUniform = opts.Explore, opts.Rand, opts.ExploreUniform
	if opts.BreakerWait < 0 || opts.BreakerMaxWait < 0 || (opts.BreakerMaxWait > 0 && opts.BreakerMaxWait < opts.BreakerWait) {
		return nil, fmt.Errorf("breaker waits %v up to %v: want positive, the first no longer than the longest", opts.BreakerWait, opts.BreakerMaxWait)
	}
	s.health = newHealth(s.now, opts.BreakerWait, opts.BreakerMaxWait)
	if s.rand == nil {
		s.rand = mrand.Float64
	}
	if !(opts.LabelShare >= 0 && opts.LabelShare <= 1) {
		return nil, fmt.Errorf("label share %v: want a value in [0, 1]", opts.LabelShare)
	}
	s.labelShare = opts.LabelShare
	if err := s.Activate(opts.Version, opts.Predictor); err != nil {
		return nil, err
	}
	return s, nil
}

// Version returns the routing-table version in use.
func (s *Service) Version() Version { return s.routing.Load().version }

// PolicyActive reports whether requests are routed by the version's
// per-prompt policy (it has one and its local model is loaded) rather
// than by its bucket table.
func (s *Service) PolicyActive() bool { return s.routing.Load().picker != nil }

// SetVersion is Activate without a local model: the bucket table routes.
func (s *Service) SetVersion(v Version) error { return s.Activate(v, nil) }

// Activate swaps in version v and p, the predictor of v's local model
// made for v's PromptPolicy, together and atomically; requests already
// routed keep what they started with. With a nil p, or a version without
// a policy, the bucket table routes.
func (s *Service) Activate(v Version, p Predictor) error {
	r, err := newRouting(v, p, s.models, s.log)
	if err != nil {
		return err
	}
	s.routing.Store(r)
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
	prompt       Prompt // normalised and hashed once, here
	candidates   []string
	promptTokens int
	tried        []string // candidates actually called, in order
	res          Result
}

// plan validates req, classifies it (unless a model is named) and picks
// the candidates. Nothing is recorded for a request that fails here.
func (s *Service) plan(ctx context.Context, req Request) (plan, error) {
	p := plan{start: s.now(), res: Result{ID: s.newID()}}
	if strings.TrimSpace(LastUserPrompt(req.Messages)) == "" && !HasImages(req.Messages) {
		return p, Errorf(KindInvalid, "prompt", "must not be empty")
	}
	p.prompt = PreparePrompt(ClassifyPrompt(req.Messages, req.Options))
	r := s.routing.Load()
	p.res.TableVersion = r.version.ID
	// A prompt no model can take is the caller's mistake, told before any
	// call, the classifier's included (issue 12, item 4).
	p.promptTokens = EstimateTokens(req.Messages) + toolTokens(req.Options.Tools)
	auto := req.Model == "" || req.Model == "auto"
	if largest, ok := s.largestWindow(); auto && ok && p.promptTokens >= largest {
		return p, Errorf(KindInvalid, "messages", "prompt of about %d tokens exceeds the largest context window of any configured model (%d)", p.promptTokens, largest)
	}

	if auto {
		// With a per-prompt policy the local model's one reading of the
		// prompt orders the candidates and is the classifier's local
		// answer; the classifier only adds its caches (and, for a
		// sampled share, the LLM's label).
		order, pred, byPolicy := r.policyOrder(ctx, p.prompt.Text, s.log)
		cctx := ctx
		if byPolicy {
			cctx = WithLocalAnswer(ctx, LocalAnswer{
				Analysis: pred.Analysis, Confidence: pred.Confidence,
				Enough: !(s.labelShare > 0 && s.rand() < s.labelShare),
			})
		}
		a, err := s.classifier.Classify(cctx, p.prompt)
		if err != nil {
			return p, &Error{Kind: KindUnavailable, Message: "request cancelled during classification", Err: err}
		}
		if byPolicy {
			pred, order = s.maskIncapable(r.picker, pred, order, req, &p)
			p.candidates, a.RoutedBy = order, RoutedByPolicy
			p.candidates, p.res.Paced = relaxPolicy(r.picker, pred, order, req.Pacing, s.models, a, p.promptTokens)
		} else {
			p.candidates, a.RoutedBy = r.version.Table.Candidates(a), RoutedByTable
			p.candidates, p.res.Paced = relax(r.version.Table, a, req.Pacing, s.models, p.promptTokens)
		}
		p.res.Analysis = a
		if p.candidates, err = s.filterCapable(req, p.candidates, &p, false); err != nil {
			return p, err
		}
		p.res.Propensity = 1
		if _, pinned := s.models[req.Prefer]; pinned && s.models[req.Prefer].lacks(needsOf(req, p.promptTokens)) == "" {
			// A pinned conversation (a tool loop) stays on its model
			// unless that model cannot serve this turn.
			p.candidates = pinFirst(p.candidates, req.Prefer, s.models)
		} else {
			var w exploreWeights
			if s.exploreUniform {
				w = exploreWeights{w: make([]float64, max(0, len(p.candidates)-1)), u: -1}
			} else if byPolicy {
				w = policyUncertainty(r.picker, pred.Success, p.candidates)
			} else {
				s.routed.Add(1)
				var ev bucketEvidence
				if e := s.outcomes.Load(); e != nil {
					ev = *e
				}
				w = frontierWeights(ev, &r.version, a, p.candidates, s.models)
			}
			p.candidates, p.res.Propensity, p.res.Explored = s.explorePick(p.candidates, w)
		}
	} else {
		if _, ok := s.models[req.Model]; !ok {
			return p, Errorf(KindNotFound, "model", "model %q is not configured", req.Model)
		}
		var err error
		if p.candidates, err = s.filterCapable(req, []string{req.Model}, &p, true); err != nil {
			return p, err
		}
		p.res.Propensity = 1
	}

	if auto && !s.anyFits(p.candidates, p.promptTokens) {
		return p, Errorf(KindInvalid, "messages", "prompt of about %d tokens exceeds the context window of every candidate model for a %s prompt (%s)", p.promptTokens, p.res.Analysis.Complexity, strings.Join(p.candidates, ", "))
	}
	capped, err := capCost(p.candidates, req.Pacing, s.models, p.promptTokens, p.res.Analysis.EstimatedTokens)
	if err != nil {
		return p, err
	}
	p.candidates = capped
	if len(p.candidates) > 0 {
		p.res.EstimatedCost = s.models[p.candidates[0]].Cost(p.promptTokens, p.res.Analysis.EstimatedTokens)
	}
	return p, nil
}

// largestWindow is the largest context window among the configured
// models; false when some model has no known limit.
func (s *Service) largestWindow() (int, bool) {
	largest := 0
	for _, m := range s.models {
		if m.ContextWindow <= 0 {
			return 0, false
		}
		largest = max(largest, m.ContextWindow)
	}
	return largest, largest > 0
}

// anyFits reports whether some candidate's context window can take a
// prompt of tokens (a model without a known limit always can).
func (s *Service) anyFits(candidates []string, tokens int) bool {
	for _, name := range candidates {
		if w := s.models[name].ContextWindow; w <= 0 || tokens < w {
			return true
		}
	}
	return false
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

func (s *Service) record(req Request, prompt Prompt, res Result, reply Reply, err error, start time.Time) Record {
	rec := Record{
		ID:               res.ID,
		Time:             start.UTC(),
		Endpoint:         req.Endpoint,
		PromptHash:       prompt.Hash,
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
		Traffic:          TrafficOf(req, res),
		Filtered:         res.Filtered,
		Key:              req.Key,
	}
	if res.Paced {
		rec.Budget = BudgetPacing
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
