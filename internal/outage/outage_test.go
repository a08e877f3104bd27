package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// An outage with a failure every 100ms for 65s logs one start line, two
// summaries and one recovery, not 650 lines (issue 12, item 5).
func TestTrackerLogsStartSummariesRecovery(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	waiting := 0
	tr := New("database", log, Options{Now: func() time.Time { return now }, Waiting: func() int { return waiting }})

	tr.OK() // up: nothing
	for i := range 650 {
		waiting = i
		tr.Fail("write records", errors.New("connection refused"))
		now = now.Add(100 * time.Millisecond)
	}
	if !tr.Down() {
		t.Fatal("tracker not down after failures")
	}
	tr.OK()
	tr.OK()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"level=ERROR msg=\"database unreachable\"", "database still unreachable\" for=30s failures=301", "database still unreachable\" for=1m0s", "level=INFO msg=\"database reachable again\" after=1m5s failures=650"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want %q", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "records_waiting=300") {
		t.Errorf("summary = %s, want records_waiting", lines[1])
	}
	// A new outage is a new start line.
	tr.Fail("ping", errors.New("down again"))
	if n := strings.Count(buf.String(), "unreachable\" op=ping"); n != 1 {
		t.Errorf("second outage start lines = %d, want 1", n)
	}
}

func TestTrackerConcurrent(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	tr := New("database", log, Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				tr.Fail("x", errors.New("e"))
			}
		}()
	}
	wg.Wait()
	tr.OK()
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("%d lines for 800 concurrent failures, want 2:\n%s", n, buf.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
