// Package outage turns a dependency's stream of failures into the few log
// lines an operator needs: one when it goes down, a summary every
// interval while it stays down (failures, records waiting), one when it
// is back. Callers report every failure and success to a Tracker instead
// of logging each.
package outage

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a Tracker summarises an ongoing outage.
const DefaultInterval = 30 * time.Second

// Options tune a Tracker; zero values mean the defaults.
type Options struct {
	// Interval between summaries; default DefaultInterval.
	Interval time.Duration
	// Waiting reports how much work waits for the dependency (records
	// buffered); nil leaves it out of the lines.
	Waiting func() int
	// Settle is how long after an outage's last failure a success must
	// come to end it; zero ends it at the first success. A dependency
	// that comes back piecemeal (requests already in flight when it
	// failed, breakers closing one by one) would otherwise start and end
	// an outage several times a second.
	Settle time.Duration
	Now    func() time.Time
}

// Tracker follows one dependency's health. It is safe for concurrent use;
// OK costs one atomic load while the dependency is up.
type Tracker struct {
	name string
	log  *slog.Logger
	opts Options

	down atomic.Bool

	mu          sync.Mutex
	since       time.Time // when the outage began
	lastSummary time.Time
	lastFail    time.Time
	failures    int // during this outage
	lastErr     string
}

// New returns a Tracker for the dependency called name ("database").
func New(name string, log *slog.Logger, opts Options) *Tracker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Tracker{name: name, log: log, opts: opts}
}

// SetWaiting sets the Waiting option after New (the recorder that waits
// is often made with the tracker).
func (t *Tracker) SetWaiting(f func() int) {
	t.mu.Lock()
	t.opts.Waiting = f
	t.mu.Unlock()
}

// Down reports whether the dependency is in an outage.
func (t *Tracker) Down() bool { return t.down.Load() }

// Fail reports a failed operation op. The first failure of an outage is
// logged as an error; later ones are counted into a summary logged at
// most once an interval.
func (t *Tracker) Fail(op string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	t.lastErr, t.lastFail = msg, now
	if !t.down.Load() {
		t.down.Store(true)
		t.since, t.lastSummary, t.failures = now, now, 1
		t.log.Error(t.name+" unreachable", t.attrs("op", op, "err", msg)...)
		return
	}
	t.failures++
	if now.Sub(t.lastSummary) >= t.opts.Interval {
		t.lastSummary = now
		t.log.Warn(t.name+" still unreachable", t.attrs("for", now.Sub(t.since).Round(time.Second).String(), "failures", t.failures, "last_err", t.lastErr)...)
	}
}

// OK reports a successful operation; after an outage it logs the
// recovery once, when the outage has settled (see Options.Settle).
func (t *Tracker) OK() {
	if !t.down.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.opts.Now()
	if !t.down.Load() || now.Sub(t.lastFail) < t.opts.Settle {
		return
	}
	t.down.Store(false)
	t.log.Info(t.name+" reachable again", t.attrs("after", now.Sub(t.since).Round(time.Millisecond).String(), "failures", t.failures)...)
}

// attrs appends records_waiting when known. t.mu is held.
func (t *Tracker) attrs(kv ...any) []any {
	if t.opts.Waiting != nil {
		kv = append(kv, "records_waiting", t.opts.Waiting())
	}
	return kv
}
