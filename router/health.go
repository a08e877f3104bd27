package router

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Health settings. They are constants rather than options until a
// deployment shows a reason to tune them.
const (
	// breakerThreshold consecutive provider failures open its breaker.
	breakerThreshold = 5
	// breakerFirstOpen is how long a newly opened breaker keeps traffic
	// away before one probe request may test the provider again; each
	// failed probe doubles the wait, up to breakerOpenFor. A short first
	// wait lets a provider back within seconds of a brief outage (a soak
	// with the upstream down 10 s in every 40 s lost 30 s to a fixed 30 s
	// wait), the doubling keeps a long outage from being probed often.
	breakerFirstOpen = 5 * time.Second
	// breakerOpenFor is the longest an open breaker waits between probes.
	breakerOpenFor = 30 * time.Second
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

func newHealth(now func() time.Time) *health {
	return &health{now: now, p: map[string]*providerState{}}
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
			st.openFor = min(2*st.openFor, breakerOpenFor)
		case !st.open && st.failures >= breakerThreshold:
			st.open, st.openFor = true, breakerFirstOpen
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
