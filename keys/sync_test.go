package keys

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/logtest"
)

// syncCounter counts the syncs that reach the store.
type syncCounter struct {
	*memStore
	calls atomic.Int64
}

func (s *syncCounter) SyncUsage(ctx context.Context, deltas []Usage, windows []string) ([]Usage, error) {
	s.calls.Add(1)
	return s.memStore.SyncUsage(ctx, deltas, windows)
}

// A database outage across many syncs is two lines (down, back), not a
// warning per sync (issue 12, item 5: 30 `sync keys` lines in a soak).
func TestRunLogsOutageOnce(t *testing.T) {
	h, log := logtest.New()
	st := &syncCounter{memStore: &memStore{fail: true}}
	g := NewGate(Options{Store: st, Pacing: DefaultPacing(), Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx, time.Millisecond) }()
	waitCalls := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for st.calls.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d syncs after 5s, want %d", st.calls.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitCalls(30)
	st.mu.Lock()
	st.fail = false
	st.mu.Unlock()
	waitCalls(st.calls.Load() + 5)
	cancel()
	<-done

	if got := h.Count(slog.LevelWarn); got != 1 {
		t.Errorf("%d lines at WARN or above over 30 failed syncs, want 1:\n%s", got, h)
	}
	var down, back int
	for _, l := range h.Lines() {
		switch l.Msg {
		case "database unreachable":
			down++
			if l.Attrs["op"] != "sync keys" {
				t.Errorf("outage line op = %q, want sync keys", l.Attrs["op"])
			}
		case "database reachable again":
			back++
		}
	}
	if down != 1 || back != 1 {
		t.Errorf("unreachable lines %d, reachable-again lines %d, want 1 and 1:\n%s", down, back, h)
	}
}

// pruningStore is a memStore that can delete counters, as the real
// store can.
type pruningStore struct{ *memStore }

func (p pruningStore) DeleteUsage(ctx context.Context, prefix, before string) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for ck := range p.usage {
		if strings.HasPrefix(ck.window, prefix) && ck.window < before {
			delete(p.usage, ck)
			n++
		}
	}
	return n, nil
}

// Per-minute counters are pruned usageRetention after their minute, at
// most once a usageRetention (the store's test shows budget periods'
// counters staying).
func TestSyncPrunesMinuteCounters(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 12, 0, 30, 0, time.UTC)}
	st := pruningStore{&memStore{}}
	k, _ := newKey(t, 1, Key{Name: "team", Budget: 1_000_000, Period: Day})
	st.keys = []Key{k}
	g := NewGate(Options{Store: st, Pacing: DefaultPacing(), Now: c.now})
	ctx := context.Background()
	windows := func() []string {
		st.mu.Lock()
		defer st.mu.Unlock()
		var w []string
		for ck := range st.usage {
			w = append(w, ck.window)
		}
		slices.Sort(w)
		return w
	}
	// Traffic in minutes 12:00 and 12:05, synced as it comes.
	for _, at := range []time.Duration{0, 5 * time.Minute} {
		c.add(at)
		a, ref := g.Admit(k)
		if ref != nil {
			t.Fatalf("admit: %v", ref)
		}
		a.Done()
		if err := g.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := windows(); !slices.Equal(got, []string{"m:202611301200", "m:202611301205"}) {
		t.Fatalf("windows = %v before any is old enough", got)
	}
	c.add(usageRetention) // 12:15:30: 12:00 ended more than usageRetention ago, 12:05 did not
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := windows(), []string{"m:202611301205"}; !slices.Equal(got, want) {
		t.Errorf("windows after pruning = %v, want %v", got, want)
	}
}
