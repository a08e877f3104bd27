package keys

import (
	"context"
	"log/slog"
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
