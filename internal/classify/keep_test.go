package classify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/logtest"
	"github.com/switchyard/switchyard/router"
)

type memSink struct {
	mu   sync.Mutex
	got  []string // the raw prompts kept
	kept []router.Prompt
	fail bool
}

func (m *memSink) KeepPrompts(_ context.Context, prompts []router.Prompt, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("database down")
	}
	for _, p := range prompts {
		m.got = append(m.got, p.Raw)
	}
	m.kept = append(m.kept, prompts...)
	return nil
}

func TestKeeperKeepsClassifiedPrompts(t *testing.T) {
	sink := &memSink{}
	k := NewKeeper(NewCascade(CascadeOptions{}), sink, KeeperOptions{BatchSize: 2})
	prompts := []string{"a", "b", "c"}
	for _, p := range prompts {
		a, err := k.Classify(context.Background(), router.PreparePrompt(p))
		if err != nil || a.Tier != router.TierHeuristic {
			t.Fatalf("Classify(%q) = %+v, %v", p, a, err)
		}
	}
	k.Close(context.Background())
	if !slices.Equal(sink.got, prompts) {
		t.Errorf("kept %q, want %q", sink.got, prompts)
	}
	// After Close a prompt is still classified, only not kept.
	if _, err := k.Classify(context.Background(), router.PreparePrompt("d")); err != nil {
		t.Fatal(err)
	}
	if got := k.Dropped(); got != 1 {
		t.Errorf("Dropped() = %d, want 1", got)
	}
}

func TestKeeperDropsOnWriteFailure(t *testing.T) {
	sink := &memSink{fail: true}
	k := NewKeeper(NewCascade(CascadeOptions{}), sink, KeeperOptions{})
	for _, p := range []string{"a", "b"} {
		if _, err := k.Classify(context.Background(), router.PreparePrompt(p)); err != nil {
			t.Fatal(err)
		}
	}
	k.Close(context.Background())
	if got := k.Dropped(); got != 2 {
		t.Errorf("Dropped() = %d, want 2", got)
	}
}

// A database outage across many failed batches is two lines (down,
// back), not a warning per batch (issue 12, item 5: a line every 5 s
// in a soak).
func TestKeeperLogsOutageOnce(t *testing.T) {
	h, log := logtest.New()
	sink := &memSink{fail: true}
	k := NewKeeper(NewCascade(CascadeOptions{}), sink, KeeperOptions{BatchSize: 1, Logger: log})
	classify := func(n int) {
		for i := range n {
			if _, err := k.Classify(context.Background(), router.PreparePrompt(fmt.Sprint("prompt ", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	classify(40)
	// Each prompt is a batch of one: wait for the 40 failed writes.
	for deadline := time.Now().Add(5 * time.Second); k.Dropped() < 40; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d prompts dropped after 5s, want 40", k.Dropped())
		}
	}
	sink.mu.Lock()
	sink.fail = false
	sink.mu.Unlock()
	classify(3)
	k.Close(context.Background())

	if got := h.Count(slog.LevelWarn); got != 1 {
		t.Errorf("%d lines at WARN or above over 40 failed writes, want 1:\n%s", got, h)
	}
	msgs := map[string]int{}
	for _, l := range h.Lines() {
		msgs[l.Msg]++
	}
	if msgs["database unreachable"] != 1 || msgs["database reachable again"] != 1 {
		t.Errorf("lines = %v, want one unreachable and one reachable again", msgs)
	}
}
