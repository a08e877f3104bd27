package recorder_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/recorder"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

// fakeSink fails its first failures calls (all of them while failAll is
// set), then keeps what it is given.
type fakeSink struct {
	failAll  atomic.Bool
	calls    chan struct{} // one send per call, if not nil
	mu       sync.Mutex
	failures int
	written  map[string]int
	batches  []int
}

func newFakeSink(failures int) *fakeSink {
	return &fakeSink{failures: failures, written: map[string]int{}}
}

func (f *fakeSink) InsertRequests(ctx context.Context, recs []router.Record) error {
	if f.calls != nil {
		f.calls <- struct{}{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAll.Load() || f.failures > 0 {
		f.failures--
		return errors.New("database is down")
	}
	f.batches = append(f.batches, len(recs))
	for _, r := range recs {
		f.written[r.ID]++
	}
	return nil
}

// check fails t unless exactly ids were written, each once.
func (f *fakeSink) check(t *testing.T, n int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := len(f.written); got != n {
		t.Errorf("distinct records written = %d, want %d", got, n)
	}
	for id, c := range f.written {
		if c != 1 {
			t.Errorf("record %s written %d times, want once", id, c)
		}
	}
}

func rec(i int) router.Record {
	return router.Record{ID: fmt.Sprintf("req_%05d", i), Time: time.Now().UTC(), Status: router.OutcomeOK}
}

func recordN(t testing.TB, r *recorder.Recorder, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		// Errorf, not Fatalf: this runs on goroutines other than the test's.
		if err := r.Record(context.Background(), rec(i)); err != nil {
			t.Errorf("Record(%d): %v", i, err)
			return
		}
	}
}

func closeWithin(t *testing.T, r *recorder.Recorder, d time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return r.Close(ctx)
}

func TestRetryLosesNothing(t *testing.T) {
	tests := []struct {
		name     string
		failures int
	}{
		{"healthy sink", 0},
		{"fails once", 1},
		{"fails five times", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := newFakeSink(tt.failures)
			r := recorder.New(sink, recorder.Options{BatchSize: 50, RetryBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond})
			recordN(t, r, 0, 500)
			if err := closeWithin(t, r, 30*time.Second); err != nil {
				t.Fatalf("Close: %v", err)
			}
			sink.check(t, 500)
			if got := r.Pending(); got != 0 {
				t.Errorf("Pending() = %d, want 0", got)
			}
			if !r.Healthy() {
				t.Error("Healthy() = false after a successful write, want true")
			}
		})
	}
}

func TestBatchSize(t *testing.T) {
	sink := newFakeSink(0)
	// An interval that never fires: batches are cut by size and by Close.
	r := recorder.New(sink, recorder.Options{BatchSize: 100, FlushInterval: time.Hour})
	recordN(t, r, 0, 250)
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sink.check(t, 250)
	if got, want := sink.batches, []int{100, 100, 50}; !slices.Equal(got, want) {
		t.Errorf("batch sizes = %v, want %v", got, want)
	}
}

func TestCloseFlushesPartialBatch(t *testing.T) {
	sink := newFakeSink(0)
	r := recorder.New(sink, recorder.Options{BatchSize: 1000, FlushInterval: time.Hour})
	recordN(t, r, 0, 10)
	if got := r.Pending(); got != 10 {
		t.Errorf("Pending() before Close = %d, want 10", got)
	}
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sink.check(t, 10)
	if err := r.Record(context.Background(), rec(99)); !errors.Is(err, recorder.ErrClosed) {
		t.Errorf("Record after Close: got %v, want ErrClosed", err)
	}
	// A second Close has nothing left to do.
	if err := closeWithin(t, r, time.Second); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseGivesUpAtDeadline(t *testing.T) {
	sink := newFakeSink(0)
	sink.failAll.Store(true)
	r := recorder.New(sink, recorder.Options{BatchSize: 2, RetryBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	recordN(t, r, 0, 5)
	err := closeWithin(t, r, 50*time.Millisecond)
	if err == nil {
		t.Fatal("Close with a failing sink: got nil error, want one")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "5 records not written") {
		t.Errorf("Close error = %q, want deadline exceeded with 5 records not written", err)
	}
	if got := r.Pending(); got != 5 {
		t.Errorf("Pending() = %d, want 5", got)
	}
	if r.Healthy() {
		t.Error("Healthy() = true with a failing sink, want false")
	}
	sink.check(t, 0)
}

func TestHealthyFollowsSink(t *testing.T) {
	sink := newFakeSink(0)
	sink.calls = make(chan struct{}, 1000)
	sink.failAll.Store(true)
	r := recorder.New(sink, recorder.Options{BatchSize: 1, RetryBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if !r.Healthy() {
		t.Error("Healthy() before any write = false, want true")
	}
	recordN(t, r, 0, 1)
	// The second call is a retry, so the first failure has been seen.
	<-sink.calls
	<-sink.calls
	if r.Healthy() {
		t.Error("Healthy() while writes fail = true, want false")
	}
	if got := r.Pending(); got != 1 {
		t.Errorf("Pending() while writes fail = %d, want 1", got)
	}
	sink.failAll.Store(false)
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !r.Healthy() {
		t.Error("Healthy() after the sink recovered = false, want true")
	}
	sink.check(t, 1)
}

// blockingSink holds every call until released.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	inner   *fakeSink
}

func (b *blockingSink) InsertRequests(ctx context.Context, recs []router.Record) error {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.inner.InsertRequests(ctx, recs)
}

func TestRecordFullBuffer(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}, 10), release: make(chan struct{}), inner: newFakeSink(0)}
	r := recorder.New(sink, recorder.Options{Capacity: 2, BatchSize: 1})
	recordN(t, r, 0, 1)
	<-sink.entered // the writer holds record 0; the queue is empty
	recordN(t, r, 1, 2)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := r.Record(ctx, rec(3))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Record into a full buffer with a done ctx: got %v, want context.Canceled", err)
	}

	// A Record blocked on the full buffer gives up when Close begins.
	blocked := make(chan error, 1)
	go func() { blocked <- r.Record(context.Background(), rec(4)) }()

	close(sink.release)
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Record 4 either found space before Close or was refused.
	if err := <-blocked; err != nil && !errors.Is(err, recorder.ErrClosed) {
		t.Errorf("blocked Record: got %v, want nil or ErrClosed", err)
	}
	sink.inner.mu.Lock()
	_, got4 := sink.inner.written["req_00004"]
	sink.inner.mu.Unlock()
	want := 3
	if got4 {
		want = 4
	}
	sink.inner.check(t, want)
}

func TestConcurrentRecord(t *testing.T) {
	const goroutines, each = 20, 200
	sink := newFakeSink(3)
	r := recorder.New(sink, recorder.Options{Capacity: 8, BatchSize: 16, RetryBackoff: time.Millisecond})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() { recordN(t, r, g*each, each) })
	}
	wg.Wait()
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sink.check(t, goroutines*each)
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for _, n := range sink.batches {
		if n > 16 {
			t.Errorf("batch of %d records, want at most 16", n)
		}
	}
}

func TestRealStore(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			s := storetest.Open(t, d)
			r := recorder.New(s, recorder.Options{BatchSize: 64})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() { recordN(t, r, g*250, 250) })
			}
			wg.Wait()
			if err := closeWithin(t, r, time.Minute); err != nil {
				t.Fatalf("Close: %v", err)
			}
			n, err := s.CountRequests(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != 1000 {
				t.Errorf("CountRequests = %d, want 1000", n)
			}
		})
	}
}

type discardSink struct{}

func (discardSink) InsertRequests(context.Context, []router.Record) error { return nil }

func BenchmarkRecord(b *testing.B) {
	r := recorder.New(discardSink{}, recorder.Options{})
	ctx := context.Background()
	rc := rec(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.Record(ctx, rc); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := r.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// Sync writes what was accepted without waiting for the batch timer, and
// gives up at its deadline while the database is down (issue 12, item 9).
func TestSync(t *testing.T) {
	sink := newFakeSink(0)
	r := recorder.New(sink, recorder.Options{FlushInterval: time.Hour, RetryBackoff: time.Millisecond})
	defer r.Close(context.Background())
	ctx := context.Background()
	for i := range 3 {
		if err := r.Record(ctx, router.Record{ID: fmt.Sprint("s", i)}); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.Sync(sctx); err != nil {
		t.Fatalf("Sync = %v, want the three records written well before the hour-long flush", err)
	}
	sink.check(t, 3)
	if r.Pending() != 0 {
		t.Errorf("pending after Sync = %d", r.Pending())
	}

	sink.failAll.Store(true)
	if err := r.Record(ctx, router.Record{ID: "down"}); err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer dcancel()
	if err := r.Sync(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sync with the database down = %v, want the deadline", err)
	}
	sink.failAll.Store(false)
}

// An outage is logged when it starts and when it ends, not once per
// retry (issue 12, item 5).
func TestOutageLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	sink := newFakeSink(30)
	r := recorder.New(sink, recorder.Options{FlushInterval: time.Millisecond, RetryBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Logger: log})
	for i := range 5 {
		if err := r.Record(context.Background(), router.Record{ID: fmt.Sprint("o", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.check(t, 5)
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, "database unreachable") || !strings.Contains(out, "database reachable again") || !strings.Contains(out, "failures=30") {
		t.Errorf("%d log lines for 30 failed writes, want start and recovery only:\n%s", n, out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestBuffered: an id is buffered from Record until its row is written,
// and a record the recorder refused is not.
func TestBuffered(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}, 10), release: make(chan struct{}), inner: newFakeSink(0)}
	r := recorder.New(sink, recorder.Options{Capacity: 1, BatchSize: 1})
	recordN(t, r, 0, 1)
	<-sink.entered // the writer holds record 0
	recordN(t, r, 1, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Record(ctx, rec(2)); err == nil {
		t.Fatal("Record into a full buffer with a done ctx: nil error")
	}
	for id, want := range map[string]bool{"req_00000": true, "req_00001": true, "req_00002": false, "req_99999": false} {
		if got := r.Buffered(id); got != want {
			t.Errorf("while held: Buffered(%s) = %v, want %v", id, got, want)
		}
	}
	close(sink.release)
	if err := closeWithin(t, r, 30*time.Second); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Record(context.Background(), rec(3)); !errors.Is(err, recorder.ErrClosed) {
		t.Fatalf("Record after Close = %v, want ErrClosed", err)
	}
	for _, id := range []string{"req_00000", "req_00001", "req_00003"} {
		if r.Buffered(id) {
			t.Errorf("after Close: Buffered(%s) = true, want false (written or refused)", id)
		}
	}
}

// poisonSink refuses, as data, any batch holding the record "poison",
// as PostgreSQL refuses a row it cannot store; it takes the others.
type poisonSink struct {
	mu      sync.Mutex
	written []string
}

func (p *poisonSink) InsertRequests(ctx context.Context, recs []router.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range recs {
		if r.ID == "poison" {
			return router.Errorf(router.KindInvalid, "", "database refused the data: invalid byte sequence")
		}
	}
	for _, r := range recs {
		p.written = append(p.written, r.ID)
	}
	return nil
}

// A record the database refuses as data is set apart and logged; the
// records batched with it and after it are written, Sync and Close do
// not wait on it. (It used to be retried forever: nothing written after
// it, and Close held until its deadline.)
func TestRefusedRecordLeftOut(t *testing.T) {
	sink := &poisonSink{}
	var logs bytes.Buffer
	rec := recorder.New(sink, recorder.Options{FlushInterval: 5 * time.Millisecond, BatchSize: 8, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ids := []string{"a", "b", "poison", "c", "d", "e"}
	for _, id := range ids {
		if err := rec.Record(ctx, router.Record{ID: id, Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v, want it not to wait on the refused record", err)
	}
	start := time.Now()
	if err := rec.Close(ctx); err != nil || time.Since(start) > time.Second {
		t.Fatalf("Close = %v after %v, want at once", err, time.Since(start))
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	got := slices.Sorted(slices.Values(sink.written))
	if want := []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("written = %v, want %v", got, want)
	}
	if rec.Refused() != 1 || rec.Pending() != 0 || !strings.Contains(logs.String(), "id=poison") {
		t.Errorf("refused = %d, pending = %d, logs %q; want 1, 0 and a line naming poison", rec.Refused(), rec.Pending(), logs.String())
	}
}
