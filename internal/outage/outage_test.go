package outage

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/logtest"
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

// With Settle, successes mixed into an outage's failures (requests in
// flight when it began, a dependency coming back piecemeal) do not end
// it: a flapping start/recovery pair per success was 95 lines over 15
// upstream flaps in a 10-minute soak.
func TestTrackerSettle(t *testing.T) {
	tests := []struct {
		name   string
		settle time.Duration
		want   int // lines
	}{
		{"no settle: each success ends it", 0, 20},
		{"settle 5s: one outage", 5 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, log := logtest.New()
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			tr := New("upstream", log, Options{Settle: tt.settle, Now: func() time.Time { return now }})
			for range 10 { // 10 s of failures and successes interleaved
				tr.Fail("serve", errors.New("connection refused"))
				now = now.Add(500 * time.Millisecond)
				tr.OK()
				now = now.Add(500 * time.Millisecond)
			}
			now = now.Add(tt.settle)
			tr.OK()
			if got := len(h.Lines()); got != tt.want {
				t.Errorf("%d lines, want %d:\n%s", got, tt.want, h)
			}
			if tr.Down() {
				t.Error("still down after a success a settle period after the last failure")
			}
		})
	}
}
