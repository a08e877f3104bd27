package keys

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// memStore is a Store in memory, shared by gates standing in for replicas.
type memStore struct {
	mu    sync.Mutex
	keys  []Key
	usage map[counterKey]Usage
	fail  bool
}

func (m *memStore) Keys(ctx context.Context) ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Key(nil), m.keys...), nil
}

func (m *memStore) SyncUsage(ctx context.Context, deltas []Usage, windows []string) ([]Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return nil, context.DeadlineExceeded
	}
	if m.usage == nil {
		m.usage = map[counterKey]Usage{}
	}
	for _, d := range deltas {
		u := m.usage[counterKey{d.KeyID, d.Window}]
		u.KeyID, u.Window = d.KeyID, d.Window
		u.add(d)
		m.usage[counterKey{d.KeyID, d.Window}] = u
	}
	var out []Usage
	for ck, u := range m.usage {
		for _, w := range windows {
			if ck.window == w {
				out = append(out, u)
			}
		}
	}
	return out, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, router.Record) error { return nil }

// newKey returns a key with a fresh secret.
func newKey(t testing.TB, id int64, k Key) (Key, string) {
	t.Helper()
	secret, prefix, hash, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	k.ID, k.Prefix, k.Hash = id, prefix, hash
	return k, secret
}

func newGate(t *testing.T, st *memStore, c *clock) *Gate {
	t.Helper()
	g := NewGate(Options{Store: st, Pacing: DefaultPacing(), Now: c.now})
	if err := g.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAuthenticate(t *testing.T) {
	live, secret := newKey(t, 1, Key{Name: "live"})
	revoked, revokedSecret := newKey(t, 2, Key{Name: "gone", RevokedAt: time.Unix(1, 0)})
	_, unknown := newKey(t, 3, Key{Name: "unknown"})
	st := &memStore{keys: []Key{live, revoked}}
	g := newGate(t, st, &clock{t: time.Now()})

	tests := []struct {
		name, header string
		ok           bool
	}{
		{"good", "Bearer " + secret, true},
		{"empty", "", false},
		{"no scheme", secret, false},
		{"empty bearer", "Bearer ", false},
		{"10 KB", "Bearer sy-" + strings.Repeat("a", 10<<10), false},
		{"SQL-looking", "Bearer sy-' OR 1=1; DROP TABLE api_keys; --", false},
		{"unicode", "Bearer sy-ключ🔑" + strings.Repeat("é", 20), false},
		{"unknown", "Bearer " + unknown, false},
		{"revoked", "Bearer " + revokedSecret, false},
		{"one character off", "Bearer " + secret[:len(secret)-1] + flip(secret[len(secret)-1]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, r := g.Authenticate(tt.header)
			if tt.ok {
				if r != nil || k.Name != "live" {
					t.Fatalf("Authenticate = %+v, %v; want live", k, r)
				}
				return
			}
			if r == nil || r.Status != 401 || r.Code != "invalid_api_key" {
				t.Fatalf("Authenticate = %+v, %+v; want a 401", k, r)
			}
			if body := strings.TrimPrefix(tt.header, "Bearer "); len(body) > 3 && strings.Contains(r.Message, body) {
				t.Errorf("the refusal echoes the presented key: %q", r.Message)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestAdmitLimits(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 10, 0, time.UTC)}
	k, _ := newKey(t, 1, Key{Name: "k", RPM: 2, TPM: 100, MaxInFlight: 1})
	g := newGate(t, &memStore{keys: []Key{k}}, c)

	a, r := g.Admit(k)
	if r != nil {
		t.Fatalf("first: %v", r)
	}
	if a.RemainingRequests != 1 || a.Reset != 50*time.Second {
		t.Errorf("remaining %d reset %v, want 1 and 50s", a.RemainingRequests, a.Reset)
	}
	if _, r := g.Admit(k); r == nil || r.Limit != "in_flight" || r.Status != 429 {
		t.Errorf("second while the first runs: %+v, want in_flight 429", r)
	}
	a.Done()
	a.Done() // twice is harmless
	a2, r := g.Admit(k)
	if r != nil {
		t.Fatalf("after Done: %v", r)
	}
	a2.Done()
	if _, r := g.Admit(k); r == nil || r.Limit != "requests" || r.RetryAfter != 50*time.Second {
		t.Errorf("third in a minute: %+v, want requests, retry after 50s", r)
	}
	c.add(time.Minute)
	a3, r := g.Admit(k)
	if r != nil {
		t.Fatalf("next minute: %v", r)
	}
	a3.Done()
	if err := g.Recorder(nopRecorder{}).Record(context.Background(), router.Record{Key: "k", PromptTokens: 80, CompletionTokens: 30}); err != nil {
		t.Fatal(err)
	}
	if _, r := g.Admit(k); r == nil || r.Limit != "tokens" || !strings.Contains(r.Message, "TPM") {
		t.Errorf("after 110 tokens of 100: %+v, want the tokens limit", r)
	}
}

func TestPace(t *testing.T) {
	k := Key{Name: "k", Budget: 1_000_000, Period: Day}
	noon := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		key       Key
		spent     router.Micros
		wantStep  int
		wantGoal  float64
		exhausted bool
	}{
		{"behind pace", k, 400_000, 0, 0, false},
		{"on pace", k, 500_000, 0, 0, false},
		{"5% ahead: step 1", k, 550_000, 1, 0.9, false},
		{"15% ahead: step 2, the floor", k, 650_000, 2, 0.8, false},
		{"far ahead stays at the floor", k, 990_000, 2, 0.8, false},
		{"spent", k, 1_000_000, 2, 0.8, true},
		{"own floor", Key{Name: "k", Budget: 1_000_000, Period: Day, KeepQuality: 0.9}, 550_000, 1, 0.95, false},
		{"floor 1 never relaxes", Key{Name: "k", Budget: 1_000_000, Period: Day, KeepQuality: 1}, 990_000, 0, 0, false},
		{"no budget", Key{Name: "k"}, 990_000, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPacing().Of(tt.key, tt.spent, noon)
			if p.Step != tt.wantStep || p.Exhausted != tt.exhausted || abs(p.KeepQuality-tt.wantGoal) > 1e-9 {
				t.Errorf("pace = %+v, want step %d goal %v exhausted %v", p, tt.wantStep, tt.wantGoal, tt.exhausted)
			}
		})
	}
}

func abs(f float64) float64 { return max(f, -f) }

func TestBounds(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC) // a Wednesday
	tests := []struct {
		p          Period
		start, end string
		window     string
	}{
		{Day, "2026-12-02", "2026-12-03", "day:2026-12-02"},
		{Week, "2026-11-30", "2026-12-07", "week:2026-11-30"},
		{Month, "2026-12-01", "2027-01-01", "month:2026-12"},
	}
	for _, tt := range tests {
		s, e := tt.p.Bounds(at)
		if s.Format(time.DateOnly) != tt.start || e.Format(time.DateOnly) != tt.end || tt.p.window(at) != tt.window {
			t.Errorf("%s: %v..%v %s, want %s..%s %s", tt.p, s, e, tt.p.window(at), tt.start, tt.end, tt.window)
		}
	}
}

// Two gates on one store stand in for two replicas: each sees the other's
// spend after a sync, and a failed sync keeps the counts for the next.
func TestGatesShareBudget(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)}
	k, _ := newKey(t, 1, Key{Name: "k", Budget: 1000, Period: Day})
	st := &memStore{keys: []Key{k}}
	a, b := newGate(t, st, c), newGate(t, st, c)
	spend := func(g *Gate, cost router.Micros) {
		t.Helper()
		adm, r := g.Admit(k)
		if r != nil {
			t.Fatalf("admit: %v", r)
		}
		if err := g.Recorder(nopRecorder{}).Record(context.Background(), router.Record{Key: "k", Cost: cost}); err != nil {
			t.Fatal(err)
		}
		adm.Done()
	}
	spend(a, 600)
	spend(b, 300)
	if got := b.Pace(k).Spent; got != 300 {
		t.Errorf("b before sync sees %d, want its own 300", got)
	}
	st.fail = true
	if err := a.Sync(context.Background()); err == nil {
		t.Fatal("sync against a failing store succeeded")
	}
	st.fail = false
	for _, g := range []*Gate{a, b, a} {
		if err := g.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Pace(k).Spent; got != 900 {
		t.Errorf("a after sync sees %d, want 900", got)
	}
	spend(b, 100)
	for _, g := range []*Gate{a, b} {
		if _, r := g.Admit(k); r == nil || r.Code != "budget_exceeded" {
			if g == a {
				continue // a has not synced b's last 100 yet: the batch lag
			}
			t.Errorf("admit at 1000 of 1000: %+v, want budget_exceeded", r)
		}
	}
	_ = b.Sync(context.Background())
	_ = a.Sync(context.Background())
	if _, r := a.Admit(k); r == nil || r.Code != "budget_exceeded" {
		t.Errorf("a after sync: %+v, want budget_exceeded", r)
	}
}

// TestBudgetSetLateCountsSpend: a budget set, or its period changed,
// part-way through a period starts from what the key already spent in it,
// not from zero, on this replica and on one that syncs.
func TestBudgetSetLateCountsSpend(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	k, _ := newKey(t, 1, Key{Name: "k"})
	st := &memStore{keys: []Key{k}}
	a, b := newGate(t, st, c), newGate(t, st, c)
	adm, r := a.Admit(k)
	if r != nil {
		t.Fatalf("admit: %v", r)
	}
	if err := a.Recorder(nopRecorder{}).Record(context.Background(), router.Record{Key: "k", Cost: 700}); err != nil {
		t.Fatal(err)
	}
	adm.Done()
	for _, g := range []*Gate{a, b} {
		if err := g.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []Period{Day, Week, Month} {
		budgeted := k
		budgeted.Budget, budgeted.Period = 1000, p
		for name, g := range map[string]*Gate{"a": a, "b": b} {
			if got := g.Pace(budgeted).Spent; got != 700 {
				t.Errorf("%s: a %s budget set after 700 spent sees %d spent, want 700", name, p, got)
			}
		}
	}
	budgeted := k
	budgeted.Budget, budgeted.Period = 600, Day
	if _, r := b.Admit(budgeted); r == nil || r.Code != "budget_exceeded" {
		t.Errorf("a 600 budget set after 700 spent admits: %+v, want budget_exceeded", r)
	}
}
