package keys

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/router"
)

// Store keeps keys and the usage counters replicas share.
type Store interface {
	// Keys returns every key, revoked ones included.
	Keys(ctx context.Context) ([]Key, error)
	// SyncUsage adds deltas to the shared counters and returns the
	// counters of every key in windows, in one transaction.
	SyncUsage(ctx context.Context, deltas []Usage, windows []string) ([]Usage, error)
}

// Usage is one key's counts in one window.
type Usage struct {
	KeyID    int64
	Window   string
	Requests int64
	Tokens   int64
	Cost     router.Micros
}

func (u *Usage) add(o Usage) {
	u.Requests += o.Requests
	u.Tokens += o.Tokens
	u.Cost += o.Cost
}

func (u Usage) zero() bool { return u.Requests == 0 && u.Tokens == 0 && u.Cost == 0 }

// Refusal is a request the gate turned away: 401 for keys, 429 for limits
// and budgets. Its message names the limit, never the presented key.
type Refusal struct {
	Status  int
	Type    string // OpenAI's error type
	Code    string // OpenAI's error code, or budget_exceeded
	Message string
	// Limit names what was hit: requests, tokens, in_flight, budget.
	Limit      string
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return r.Message }

// Options configure a Gate.
type Options struct {
	Store  Store
	Pacing Pacing
	Logger *slog.Logger
	// Outage receives Run's sync failures and successes, so a database
	// outage is the tracker's few lines, not one per sync; nil makes one
	// of the Gate's own (named "database").
	Outage *outage.Tracker
	Now    func() time.Time
}

// Gate authenticates keys, enforces their limits and budgets, and counts
// their usage. Counts reach other replicas at each Sync; until then each
// replica adds its own unsynced counts to the last shared totals it saw.
type Gate struct {
	store  Store
	pacing Pacing
	log    *slog.Logger
	outage *outage.Tracker
	now    func() time.Time

	mu       sync.Mutex
	byHash   map[string]Key
	byName   map[string]Key
	counters map[counterKey]*counter
	inFlight map[int64]int64
	pruned   time.Time // when per-minute counters were last pruned
	// kick asks Run for a sync now: a key is near the end of its budget,
	// where an interval's lag would let replicas overspend it.
	kick chan struct{}
}

// A charge asks for a prompt sync when what the key may still spend is
// less than nearBudget intervals of its spend across every replica (as
// the last sync measured it), so near the end of a budget replicas learn
// each other's spend per request rather than per interval.
const nearBudget = 2

type counterKey struct {
	id     int64
	window string
}

// counter is one key's usage in one window: the shared total as of the
// last sync, the counts being flushed, and those not yet flushed.
type counter struct {
	shared, flushing, local Usage
	// growth is how much the shared cost grew over the last sync
	// interval, every replica's spend included; synced says shared has
	// been read from the store at least once.
	growth router.Micros
	synced bool
}

func (c *counter) view() Usage {
	u := c.shared
	u.add(c.flushing)
	u.add(c.local)
	return u
}

// NewGate returns a gate that knows no key until its first Sync.
func NewGate(opts Options) *Gate {
	g := &Gate{store: opts.Store, pacing: opts.Pacing, log: opts.Logger, outage: opts.Outage, now: opts.Now,
		byHash: map[string]Key{}, byName: map[string]Key{}, counters: map[counterKey]*counter{}, inFlight: map[int64]int64{}, kick: make(chan struct{}, 1)}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.outage == nil {
		g.outage = outage.New("database", g.log, outage.Options{})
	}
	return g
}

func unauthorized(msg string) *Refusal {
	return &Refusal{Status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "invalid_api_key", Message: msg}
}

// Authenticate returns the live key whose secret is the bearer token in
// header (an Authorization value), or a 401 Refusal. The presented value
// is hashed, never kept, logged or echoed.
func (g *Gate) Authenticate(header string) (Key, *Refusal) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if header == "" {
		return Key{}, unauthorized("missing API key: send Authorization: Bearer <key>")
	}
	token = strings.TrimSpace(token)
	if !ok || !wellFormed(token) {
		return Key{}, unauthorized("malformed API key: want Authorization: Bearer sy-…")
	}
	hash := HashSecret(token)
	g.mu.Lock()
	k, found := g.byHash[hash]
	g.mu.Unlock()
	// The map lookup is on a hash the caller cannot steer; the compare
	// of the whole hash is constant-time anyway.
	if !found || subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 || k.Revoked() {
		return Key{}, unauthorized("invalid or revoked API key")
	}
	return k, nil
}

// Admission is an admitted request: its pacing and its rate-limit state
// for x-ratelimit-* headers. Done must be called when the request ends.
type Admission struct {
	Key    Key
	Pace   Pace
	Pacing router.Pacing
	// Remaining requests and tokens in the current minute, and when it
	// resets; meaningful only where the key has the limit.
	RemainingRequests, RemainingTokens int64
	Reset                              time.Duration

	done func()
	once sync.Once
}

// Done releases the request's in-flight slot.
func (a *Admission) Done() {
	if a.done != nil {
		a.once.Do(a.done)
	}
}

// Admit checks k's in-flight, per-minute and budget limits at this moment
// and counts the request, or returns a 429 Refusal naming the limit.
func (g *Gate) Admit(k Key) (*Admission, *Refusal) {
	now := g.now()
	minute := minuteWindow(now)
	reset := now.Truncate(time.Minute).Add(time.Minute).Sub(now)

	g.mu.Lock()
	defer g.mu.Unlock()
	if k.MaxInFlight > 0 && g.inFlight[k.ID] >= k.MaxInFlight {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", Limit: "in_flight",
			Message: fmt.Sprintf("limit reached for key %s on requests in flight: limit %d", k.Name, k.MaxInFlight), RetryAfter: time.Second}
	}
	m := g.view(k.ID, minute)
	if k.RPM > 0 && m.Requests >= k.RPM {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Type: "requests", Code: "rate_limit_exceeded", Limit: "requests",
			Message: fmt.Sprintf("limit reached for key %s on requests per minute (RPM): limit %d, used %d", k.Name, k.RPM, m.Requests), RetryAfter: reset}
	}
	if k.TPM > 0 && m.Tokens >= k.TPM {
		return nil, &Refusal{Status: http.StatusTooManyRequests, Type: "tokens", Code: "rate_limit_exceeded", Limit: "tokens",
			Message: fmt.Sprintf("limit reached for key %s on tokens per minute (TPM): limit %d, used %d", k.Name, k.TPM, m.Tokens), RetryAfter: reset}
	}
	var pace Pace
	if k.Budget > 0 {
		pace = g.pacing.Of(k, g.view(k.ID, k.Period.window(now)).Cost, now)
		if pace.Exhausted {
			return nil, &Refusal{Status: http.StatusTooManyRequests, Type: "insufficient_quota", Code: "budget_exceeded", Limit: "budget",
				Message:    fmt.Sprintf("key %s has spent its %s budget of %.4f USD; it renews at %s", k.Name, k.Period, k.Budget.USD(), pace.PeriodEnd.Format(time.RFC3339)),
				RetryAfter: pace.PeriodEnd.Sub(now)}
		}
	}
	g.counter(k.ID, minute).local.Requests++
	g.inFlight[k.ID]++
	a := &Admission{Key: k, Pace: pace, Reset: reset,
		Pacing:            router.Pacing{Step: pace.Step, KeepQuality: pace.KeepQuality, Relax: g.pacing.relax(pace)},
		RemainingRequests: max(k.RPM-m.Requests-1, 0),
		RemainingTokens:   max(k.TPM-m.Tokens, 0),
	}
	a.done = func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.inFlight[k.ID]--; g.inFlight[k.ID] <= 0 {
			delete(g.inFlight, k.ID)
		}
	}
	return a, nil
}

// view is a key's usage in window as this replica knows it. g.mu held.
func (g *Gate) view(id int64, window string) Usage {
	if c, ok := g.counters[counterKey{id, window}]; ok {
		return c.view()
	}
	return Usage{}
}

// counter returns the counter of id in window, made if missing. g.mu held.
func (g *Gate) counter(id int64, window string) *counter {
	ck := counterKey{id, window}
	c, ok := g.counters[ck]
	if !ok {
		c = &counter{shared: Usage{KeyID: id, Window: window}}
		g.counters[ck] = c
	}
	return c
}

// Recorder returns a router.Recorder that counts each record's tokens and
// cost against its key, then hands it to next.
func (g *Gate) Recorder(next router.Recorder) router.Recorder {
	return recorderFunc(func(ctx context.Context, rec router.Record) error {
		g.charge(rec)
		return next.Record(ctx, rec)
	})
}

type recorderFunc func(ctx context.Context, rec router.Record) error

func (f recorderFunc) Record(ctx context.Context, rec router.Record) error { return f(ctx, rec) }

func (g *Gate) charge(rec router.Record) {
	if rec.Key == "" {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.byName[rec.Key]
	if !ok {
		return
	}
	g.counter(k.ID, minuteWindow(now)).local.Tokens += int64(rec.PromptTokens + rec.CompletionTokens)
	// Spend is counted in every period's window, budget or not, so a
	// budget set (or its period changed) part-way through a period starts
	// from what the key already spent in it, as /costs?key= reports it.
	for _, p := range periods {
		g.counter(k.ID, p.window(now)).local.Cost += rec.Cost
	}
	if k.Budget > 0 {
		c := g.counter(k.ID, k.Period.window(now))
		if c.view().Cost+nearBudget*c.growth >= k.Budget {
			select {
			case g.kick <- struct{}{}:
			default: // a sync is asked for already
			}
		}
	}
}

// Key returns the key called name, revoked or not.
func (g *Gate) Key(name string) (Key, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	k, ok := g.byName[name]
	return k, ok
}

// Pace returns k's pace now as this replica knows it.
func (g *Gate) Pace(k Key) Pace {
	now := g.now()
	g.mu.Lock()
	spent := g.view(k.ID, k.Period.window(now)).Cost
	g.mu.Unlock()
	return g.pacing.Of(k, spent, now)
}
