package classify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/router"
)

// A database outage under traffic is one line when it starts and one when
// it ends, not a warning per lookup and write (issue 12, item 5).
func TestStoreOutageLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	st := newMemStore()
	st.err = errors.New("connection refused")
	tr := outage.New("database", log, outage.Options{})
	c := NewCascade(CascadeOptions{LLM: goodAnalyzer{}, Store: st, Logger: log, Outage: tr})
	ctx := context.Background()
	for i := range 50 {
		if _, err := c.Classify(ctx, router.PreparePrompt(fmt.Sprintf("distinct prompt number %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if st.gets.Load() < 50 {
		t.Fatalf("store lookups = %d, want one per prompt (the test proves nothing)", st.gets.Load())
	}
	st.mu.Lock()
	st.err = nil
	st.mu.Unlock()
	if _, err := c.Classify(ctx, router.PreparePrompt("a prompt after recovery")); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, "database unreachable") || !strings.Contains(out, "database reachable again") {
		t.Errorf("%d log lines for %d failed store calls, want start and recovery only:\n%s", n, st.gets.Load()+st.puts.Load(), out)
	}
}

// goodAnalyzer answers every prompt as a valid simple one.
type goodAnalyzer struct{}

func (goodAnalyzer) Classify(context.Context, string) (router.Analysis, error) {
	return router.Analysis{Complexity: router.Simple, EstimatedTokens: 10, Category: "general", Tier: router.TierLLM}, nil
}
