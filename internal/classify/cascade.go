package classify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/router"
)

// Analyzer is a classifier tier that may fail: the LLM tier, or anything
// standing in for it. Classify returns an error when it has no valid
// analysis; the cascade then falls back to the heuristic.
type Analyzer interface {
	Classify(ctx context.Context, prompt string) (router.Analysis, error)
}

// Store is a persistent cache of LLM classifications keyed by
// router.HashPrompt. GetClassification reports ok=false for an unknown
// key; both methods return an error only when the store itself fails,
// which the cascade logs and ignores.
type Store interface {
	GetClassification(ctx context.Context, key string) (router.Analysis, bool, error)
	PutClassification(ctx context.Context, key string, a router.Analysis) error
}

// Local is the tier between the caches and the LLM: a model trained on
// this deployment's own outcomes (LocalModel), cheap enough to ask about
// every prompt. An answer whose confidence in [0, 1] reaches the
// cascade's threshold is used and the LLM is not called; a less
// confident one is still the answer when the LLM fails.
type Local interface {
	Predict(ctx context.Context, prompt string) (a router.Analysis, confidence float64, err error)
}

// CascadeOptions configure a Cascade. Zero values take the defaults.
type CascadeOptions struct {
	// LLM is the paid tier; nil means none is configured and the
	// heuristic answers every prompt the caches do not.
	LLM Analyzer
	// Store is the persistent cache; nil means memory only.
	Store Store
	// CacheSize bounds the in-memory cache; default 10,000 entries.
	CacheSize int
	// Timeout bounds one classification behind the caches (store lookup,
	// LLM, store write), which runs on after a caller gives up so that
	// other callers waiting for the same prompt still get it; default 10s.
	// The LLM tier's own, shorter timeout normally ends it first.
	Timeout time.Duration
	// StoreTimeout bounds each store call; default 1s. A slow database
	// must not hold classification up.
	StoreTimeout time.Duration
	// Logger receives fallback and store warnings; default discards.
	Logger *slog.Logger
	// Outage, when set, receives the store's failures and successes
	// instead of a warning per failed call: a database outage is logged
	// once, not per request.
	Outage *outage.Tracker
	// LLMOutage receives the LLM tier's failures to reach its model
	// (unavailable, timeout) and its answers, so a classifier outage is
	// the tracker's few lines rather than a warning per prompt; nil makes
	// one named "classifier" on Logger. Invalid answers are the model's
	// doing and are still logged each.
	LLMOutage *outage.Tracker
	// Local is the local tier to start with; nil means none until
	// SetLocal gives one.
	Local Local
	// LocalThreshold is the confidence a local answer needs to be used
	// without asking the LLM; default DefaultLocalThreshold.
	LocalThreshold float64
}

// DefaultLocalThreshold is the confidence a local answer needs by default.
const DefaultLocalThreshold = 0.8

// CascadeStats are counters since the Cascade was made.
type CascadeStats struct {
	MemoryHits  int64 // answered from the in-memory cache
	StoreHits   int64 // answered from the persistent store
	Shared      int64 // waited for an identical prompt's classification already in flight
	LLMCalls    int64 // LLM classifications started
	LLMErrors   int64 // of those, failed (error, invalid output, timeout)
	Fallbacks   int64 // local or heuristic answers given because the LLM failed
	LocalHits   int64 // answered by the local tier with enough confidence
	LocalUnsure int64 // local answers below the threshold, passed on to the LLM
	// Remembered counts answers repeated from memory that the local tier
	// or the heuristic gave earlier, with no LLM tier to ask instead.
	Remembered int64
}

// Cascade is the router.Classifier: memory cache, local model, persistent
// store, LLM, heuristic, in that order. A prompt the LLM answered is never
// sent to it again while cached (memory, then the store), also when
// identical prompts arrive together (they share one classification). The
// cached LLM answers are the local model's training labels, so the LLM's
// share falls as traffic grows.
//
// A prompt answered without the LLM (the local tier sure of itself, or no
// LLM tier configured) costs no database round trip, no lock shared by
// all requests and no goroutine: the store stands in for an LLM call and
// is read only where the LLM would otherwise be asked, and such answers
// are remembered in memory for the local model that gave them (a
// retrained model starts afresh). A heuristic answer given because the
// LLM failed is not remembered, so the LLM is tried again next time.
type Cascade struct {
	llm          Analyzer
	store        Store
	heuristic    Heuristic
	timeout      time.Duration
	storeTimeout time.Duration
	outage       *outage.Tracker
	llmOutage    *outage.Tracker
	log          *slog.Logger
	threshold    float64
	// local is swapped whole when the active table version brings another
	// model; it is never nil, its Local is nil when there is no tier.
	local     atomic.Pointer[localHolder]
	cacheSize int

	// mu orders the memory cache and flights: a key moves into the cache
	// and out of flights under mu, so a caller holding mu sees it in one.
	mu      sync.Mutex
	mem     *shardedLRU // LLM answers; sharded, read without mu
	flights map[string]*flight

	memoryHits, storeHits, shared, llmCalls, llmErrors, fallbacks atomic.Int64
	localHits, localUnsure, remembered                            atomic.Int64
}

// localHolder boxes a Local so that an interface can sit in an
// atomic.Pointer, with the answers given without the LLM while this
// Local (or none) is the tier: swapping the tier forgets them.
type localHolder struct {
	l       Local
	answers *shardedLRU
}

var _ router.Classifier = (*Cascade)(nil)

// flight is one classification in progress; a is set before done closes.
type flight struct {
	done chan struct{}
	a    router.Analysis
}

// NewCascade returns a Cascade configured by opts.
func NewCascade(opts CascadeOptions) *Cascade {
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10_000
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LLMOutage == nil {
		// Settle as the router's upstream tracker does: calls in flight
		// when the model went away answer after the first failure.
		opts.LLMOutage = outage.New("classifier", opts.Logger, outage.Options{Settle: 5 * time.Second})
	}
	if !(opts.LocalThreshold > 0 && opts.LocalThreshold <= 1) {
		opts.LocalThreshold = DefaultLocalThreshold
	}
	c := &Cascade{
		llm:          opts.LLM,
		store:        opts.Store,
		timeout:      opts.Timeout,
		storeTimeout: opts.StoreTimeout,
		outage:       opts.Outage,
		llmOutage:    opts.LLMOutage,
		log:          opts.Logger,
		threshold:    opts.LocalThreshold,
		cacheSize:    opts.CacheSize,
		mem:          newShardedLRU(opts.CacheSize),
		flights:      make(map[string]*flight),
	}
	c.SetLocal(opts.Local)
	return c
}

// SetLocal replaces the local tier; nil removes it. Classifications in
// flight finish with the tier they started with.
func (c *Cascade) SetLocal(l Local) {
	c.local.Store(&localHolder{l: l, answers: newShardedLRU(c.cacheSize)})
}

// Classify returns the analysis of prompt from the cheapest tier that has
// one: the caches by prompt.Hash, the local tier reading prompt.Text, the
// LLM and the heuristic prompt.Raw. It returns an error only when ctx is
// done before an answer is ready; the classification itself carries on
// for other callers.
func (c *Cascade) Classify(ctx context.Context, prompt router.Prompt) (router.Analysis, error) {
	key := prompt.Hash
	if a, ok := c.mem.get(key); ok {
		c.memoryHits.Add(1)
		return fromCache(a), nil
	}
	h := c.local.Load()
	// An answer the service's own local model gave with the request
	// (per-prompt routing) is that model's: remembered answers, which are
	// h's, neither replace nor keep it.
	_, withAnswer := router.LocalAnswerFrom(ctx)
	remember := func(a router.Analysis) {
		if !withAnswer {
			h.answers.add(key, a)
		}
	}
	if !withAnswer {
		if a, ok := h.answers.get(key); ok {
			c.remembered.Add(1)
			return a, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return router.Analysis{}, fmt.Errorf("classifying prompt: %w", err)
	}

	// The local tier answers alone when it is sure; its less confident
	// answer is kept as the fallback should the LLM fail.
	local, sure := c.askLocal(ctx, h, prompt)
	if sure {
		c.localHits.Add(1)
		remember(local)
		return local, nil
	}
	if c.llm == nil {
		a := local
		if a.Tier != router.TierLocal {
			a = c.heuristic.Analyze(prompt.Raw)
		}
		remember(a)
		return a, nil
	}

	c.mu.Lock()
	// Look again under mu: a flight for key may have finished since.
	if a, ok := c.mem.get(key); ok {
		c.mu.Unlock()
		c.memoryHits.Add(1)
		return fromCache(a), nil
	}
	f, ok := c.flights[key]
	if ok {
		c.shared.Add(1)
	} else {
		f = &flight{done: make(chan struct{})}
		c.flights[key] = f
		// Detached from ctx so that one caller going away does not fail
		// the others waiting on the same flight; bounded by c.timeout.
		go c.fly(context.WithoutCancel(ctx), key, prompt.Raw, local, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.a, nil
	case <-ctx.Done():
		return router.Analysis{}, fmt.Errorf("classifying prompt: %w", ctx.Err())
	}
}

// Stats returns the counters so far.
func (c *Cascade) Stats() CascadeStats {
	return CascadeStats{
		MemoryHits:  c.memoryHits.Load(),
		StoreHits:   c.storeHits.Load(),
		Shared:      c.shared.Load(),
		LLMCalls:    c.llmCalls.Load(),
		LLMErrors:   c.llmErrors.Load(),
		Fallbacks:   c.fallbacks.Load(),
		Remembered:  c.remembered.Load(),
		LocalHits:   c.localHits.Load(),
		LocalUnsure: c.localUnsure.Load(),
	}
}

// fly resolves one flight, caches a cacheable answer and releases the
// waiters.
func (c *Cascade) fly(ctx context.Context, key, prompt string, local router.Analysis, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a, cacheable := c.resolve(ctx, key, prompt, local)

	c.mu.Lock()
	if cacheable {
		c.mem.add(key, a)
	}
	delete(c.flights, key)
	c.mu.Unlock()

	if cacheable && a.Tier != router.TierCache {
		c.put(ctx, key, a)
	}
	f.a = a
	close(f.done)
}

// resolve asks the store, then the LLM, for a prompt the local tier was
// not sure of (local is its answer, Tier local, or zero). cacheable
// reports an answer worth keeping in memory (one the LLM gave, now or
// earlier); an answer served from the store comes back with Tier cache.
func (c *Cascade) resolve(ctx context.Context, key, prompt string, local router.Analysis) (a router.Analysis, cacheable bool) {
	if a, ok := c.get(ctx, key); ok {
		c.storeHits.Add(1)
		return fromCache(a), true
	}

	fallback := func() router.Analysis {
		if local.Tier == router.TierLocal {
			return local
		}
		return c.heuristic.Analyze(prompt)
	}

	c.llmCalls.Add(1)
	a, err := c.llm.Classify(ctx, prompt)
	if err == nil {
		// The Analyzer may be any implementation: check what it gave.
		if verr := a.Validate(); verr != nil {
			err = fmt.Errorf("checking analysis: %w: %w", verr, ErrInvalidOutput)
		}
	}
	if err != nil {
		c.llmErrors.Add(1)
		c.fallbacks.Add(1)
		h := fallback()
		h.Fallback = fallbackReason(err)
		if errors.Is(err, ErrInvalidOutput) || errors.Is(err, context.Canceled) {
			c.log.Warn("llm classification failed, using "+string(h.Tier), "reason", h.Fallback, "err", err, "prompt_hash", key[:12])
		} else {
			// Unreachable or silent: every prompt meets it alike until
			// the model is back.
			c.llmOutage.Fail(h.Fallback, err)
		}
		return h, false
	}
	c.llmOutage.OK()
	a.Tier, a.Fallback = router.TierLLM, ""
	return a, true
}

// askLocal asks the local tier, if there is one. sure reports an answer
// confident enough to use; otherwise a has Tier local only when the tier
// gave an answer with some confidence (a model trained on too little data
// reports none), which is then the fallback if the LLM fails. The model
// reads the normalised prompt, the text it was trained on.
func (c *Cascade) askLocal(ctx context.Context, h *localHolder, prompt router.Prompt) (a router.Analysis, sure bool) {
	var conf float64
	var err error
	if la, ok := router.LocalAnswerFrom(ctx); ok {
		// The service has read the prompt with the local model already
		// (per-prompt policy routing); when that decided the route, its
		// answer is enough.
		a, conf = la.Analysis, la.Confidence
		if la.Enough {
			conf = 1
		}
	} else if h.l != nil {
		a, conf, err = h.l.Predict(ctx, prompt.Text)
	} else {
		return router.Analysis{}, false
	}
	if err == nil {
		err = a.Validate()
	}
	if err != nil {
		c.log.Warn("local classification failed, ignoring", "err", err, "prompt_hash", prompt.Hash[:12])
		return router.Analysis{}, false
	}
	a.Tier, a.Fallback = router.TierLocal, ""
	if conf >= c.threshold {
		return a, true
	}
	c.localUnsure.Add(1)
	if !(conf > 0) {
		return router.Analysis{}, false
	}
	return a, false
}

// get reads the store; a store error is logged and counts as a miss, as
// does an entry that no longer validates.
func (c *Cascade) get(ctx context.Context, key string) (router.Analysis, bool) {
	if c.store == nil {
		return router.Analysis{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, c.storeTimeout)
	defer cancel()
	a, ok, err := c.store.GetClassification(ctx, key)
	if err != nil {
		c.storeFailed("classification store lookup", err, key)
		return router.Analysis{}, false
	}
	c.storeOK()
	if !ok {
		return router.Analysis{}, false
	}
	if err := a.Validate(); err != nil {
		c.log.Warn("classification store entry invalid, ignoring", "err", err, "prompt_hash", key[:12])
		return router.Analysis{}, false
	}
	return a, true
}

// put writes an LLM answer to the store; a store error is logged only.
func (c *Cascade) put(ctx context.Context, key string, a router.Analysis) {
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.storeTimeout)
	defer cancel()
	if err := c.store.PutClassification(ctx, key, a); err != nil {
		c.storeFailed("classification store write", err, key)
		return
	}
	c.storeOK()
}

// storeFailed reports a failed store call: to the outage tracker when
// there is one, else as a warning. Either way the cascade goes on.
func (c *Cascade) storeFailed(op string, err error, key string) {
	if c.outage != nil {
		c.outage.Fail(op, err)
		return
	}
	c.log.Warn(op+" failed, ignoring", "err", err, "prompt_hash", key[:12])
}

func (c *Cascade) storeOK() {
	if c.outage != nil {
		c.outage.OK()
	}
}

// fromCache marks a remembered analysis as served from the cache.
func fromCache(a router.Analysis) router.Analysis {
	a.Tier, a.Fallback = router.TierCache, ""
	return a
}

// fallbackReason is the short, secret-free Fallback text for an LLM
// failure.
func fallbackReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "llm: timeout"
	case errors.Is(err, context.Canceled):
		return "llm: cancelled"
	case errors.Is(err, ErrInvalidOutput):
		return "llm: invalid output"
	default:
		return "llm: unavailable"
	}
}
