package schedule

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSchedulerRunsRecoversAndStops runs on a seconds-level schedule: the
// first run panics and is logged, the schedule goes on, and the second
// run, which blocks, is never overlapped by a third and is cancelled by a
// Stop whose deadline passes.
func TestSchedulerRunsRecoversAndStops(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var (
		runs, running, overlap atomic.Int32
		blocking               = make(chan struct{})
		cancelled              = make(chan struct{})
	)
	s, err := New("@every 1s", time.Hour, func(ctx context.Context) {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		switch runs.Add(1) {
		case 1:
			panic("learner bug")
		case 2:
			close(blocking)
			<-ctx.Done()
			close(cancelled)
		}
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-blocking:
	case <-time.After(10 * time.Second):
		t.Fatalf("no second run within 10s of an @every 1s schedule (runs: %d)", runs.Load())
	}
	// Let the schedule fire at least once more while run 2 blocks.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "skipping this run") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); err == nil {
		t.Error("Stop with a blocked run past its deadline = nil, want an error")
	}
	select {
	case <-cancelled:
	default:
		t.Error("Stop returned before the blocked run saw its context cancelled")
	}
	if got := runs.Load(); got != 2 {
		t.Errorf("runs = %d, want 2 (the third skipped while the second ran)", got)
	}
	if overlap.Load() != 0 {
		t.Error("two runs overlapped")
	}
	for _, want := range []string{"learner bug", "skipping this run"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestSchedulerRejectsSpec(t *testing.T) {
	if _, err := New("every night", 0, func(context.Context) {}, nil); err == nil || !strings.Contains(err.Error(), "every night") {
		t.Errorf("New(bad spec) = %v, want an error naming it", err)
	}
}

// TestSchedulerStopWaits: a run that finishes by itself is waited for.
func TestSchedulerStopWaits(t *testing.T) {
	started, finished := make(chan struct{}), atomic.Bool{}
	var once sync.Once
	s, err := New("@every 1s", 0, func(ctx context.Context) {
		once.Do(func() { close(started) })
		time.Sleep(100 * time.Millisecond)
		finished.Store(true)
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no run within 10s")
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Stop returned before the running job finished")
	}
}
