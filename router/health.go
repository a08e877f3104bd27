package router

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Breaker defaults: Options.BreakerWait and Options.BreakerMaxWait
// (server.breaker_wait, server.breaker_max_wait) override them.
const (
	// DefaultBreakerWait is how long a newly opened breaker keeps
	// traffic away before one probe request may test the provider again;
	// each failed probe doubles the wait, up to DefaultBreakerMaxWait. A
	// short first wait lets a provider back within seconds of a brief
	// outage (a soak with the upstream down 10 s in every 40 s lost 30 s
	// to a fixed 30 s wait), the doubling keeps a long outage from being
	// probed often.
	DefaultBreakerWait = 5 * time.Second
	// DefaultBreakerMaxWait is the longest an open breaker waits between
	// probes.
	DefaultBreakerMaxWait = 30 * time.Second
)

// Health settings that are constants rather than options until a
// deployment shows a reason to tune them.
const (
	// breakerThreshold consecutive provider failures open its breaker.
	breakerThreshold = 5
	// defaultCooldown applies after a 429 without a usable Retry-After.
	defaultCooldown = time.Second
	// maxRetryAfter caps any Retry-After honoured or used as a cooldown;
	// a larger value is treated as "not within this request".
	maxRetryAfter = 60 * time.Second
)

// ProviderHealth is what Switchyard currently knows about a provider.
type ProviderHealth struct {
	Provider string    `json:"provider"`
	State    string    `json:"state"` // "ok", "cooling", "open", "probing", "disabled"
	Until    time.Time `json:"until,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	Failures int       `json:"consecutive_failures"`
}

// health tracks every provider's cooldown (429), circuit breaker
// (consecutive failures) and disablement (rejected credentials). It is
// safe for concurrent use.
type health struct {
	mu  sync.Mutex
	now func() time.Time
	p   map[string]*providerState
	// firstOpen is a newly opened breaker's wait, doubled per failed
	// probe up to maxOpen.
	firstOpen, maxOpen time.Duration
}

type providerState struct {
	failures  int
	coolUntil time.Time     // 429: no calls before this
	openUntil time.Time     // breaker open: no calls before this
	openFor   time.Duration // the open breaker's current wait
	open      bool          // breaker tripped; after openUntil one probe at a time
	probing   bool
	disabled  string // non-empty: never call again (until restart)
}

// newHealth returns a tracker on the clock now whose breakers wait
// firstOpen, then up to maxOpen; zero waits take the defaults.
func newHealth(now func() time.Time, firstOpen, maxOpen time.Duration) *health {
	if firstOpen <= 0 {
		firstOpen = DefaultBreakerWait
	}
	if maxOpen <= 0 {
		maxOpen = DefaultBreakerMaxWait
	}
	return &health{now: now, p: map[string]*providerState{}, firstOpen: firstOpen, maxOpen: max(firstOpen, maxOpen)}
}

func (h *health) state(provider string) *providerState {
	st, ok := h.p[provider]
	if !ok {
		st = &providerState{}
		h.p[provider] = st
	}
	return st
}

// allow reports whether a call to provider may go out now and, if not,
// why. After an open breaker's wait, exactly one caller at a time is let
// through as the probe.
func (h *health) allow(provider string) (bool, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(provider)
	now := h.now()
	switch {
	case st.disabled != "":
		return false, "provider disabled: " + st.disabled
	case now.Before(st.coolUntil):
		return false, fmt.Sprintf("provider cooling down after a rate limit (%s left)", st.coolUntil.Sub(now).Round(time.Millisecond))
	case st.open && now.Before(st.openUntil):
		return false, "provider circuit open after repeated failures"
	case st.open && st.probing:
		return false, "provider circuit half-open, probe in flight"
	case st.open:
		st.probing = true
	}
	return true, ""
}

// tripped reports whether provider's breaker is open, a probe out or
// not: a call that failed then is not retried on the same provider. The
// breaker keeps traffic away, and a probe is one call, not one call and
// its retries.
func (h *health) tripped(provider string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state(provider).open
}

// observe updates provider's state with a call's outcome.
func (h *health) observe(provider string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(provider)
	probe := st.open && st.probing
	st.probing = false
	if err == nil {
		st.failures, st.open, st.openFor = 0, false, 0
		return
	}
	var ce *CallError
	if !errors.As(err, &ce) {
		return
	}
	now := h.now()
	switch {
	case ce.StatusCode == 401 || ce.StatusCode == 403:
		// A rejected key does not heal by retrying (FAULTS.md F11).
		st.disabled = fmt.Sprintf("credentials rejected (%d)", ce.StatusCode)
	case ce.StatusCode == 429:
		wait := ce.RetryAfter
		if wait <= 0 {
			wait = defaultCooldown
		}
		st.coolUntil = now.Add(min(wait, maxRetryAfter))
	case ce.StatusCode >= 500, ce.Outcome == OutcomeTimeout, ce.StatusCode == 0 && ce.Outcome == OutcomeError:
		st.failures++
		switch {
		case probe:
			st.openFor = min(2*st.openFor, h.maxOpen)
		case !st.open && st.failures >= breakerThreshold:
			st.open, st.openFor = true, h.firstOpen
		case !st.open:
			return
		}
		// Calls still in flight when the breaker opened push its end
		// back by the current wait, as a failed probe does.
		st.openUntil = now.Add(st.openFor)
	}
}

// snapshot returns every known provider's health.
func (h *health) snapshot() []ProviderHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	out := make([]ProviderHealth, 0, len(h.p))
	for name, st := range h.p {
		ph := ProviderHealth{Provider: name, State: "ok", Failures: st.failures}
		switch {
		case st.disabled != "":
			ph.State, ph.Reason = "disabled", st.disabled
		case now.Before(st.coolUntil):
			ph.State, ph.Until = "cooling", st.coolUntil
		case st.open && st.probing:
			ph.State = "probing"
		case st.open:
			ph.State, ph.Until = "open", st.openUntil
		}
		out = append(out, ph)
	}
	return out
}
