package classify

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

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
