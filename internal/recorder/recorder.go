// Package recorder writes request records to the database off the reply's
// critical path: Record puts a record in a bounded buffer and returns, and
// one goroutine writes the buffer out in batches. When the database is
// down the batch is kept and retried with backoff; records are never
// dropped for an outage, and a full buffer pushes back on callers
// instead. A record the database refuses as data (router.KindInvalid from
// the sink), which no retry can change, is set apart from its batch,
// logged with its id and left out, so it cannot hold up every record
// behind it.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/router"
)

// Sink is where records end up (the store).
type Sink interface {
	// InsertRequests writes recs. It must skip records already written
	// (by id): after an ambiguous failure the recorder writes the same
	// batch again. It returns a router.KindInvalid error when the
	// database refuses the data itself (no retry can succeed); any other
	// error is taken as the database being unavailable.
	InsertRequests(ctx context.Context, recs []router.Record) error
}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("recorder closed")

// Options tune a Recorder; zero values mean the defaults.
type Options struct {
	Capacity      int           // records buffered at most; default 10000
	BatchSize     int           // records written at once at most; default 200
	FlushInterval time.Duration // longest a record waits for a batch to fill; default 200ms
	RetryBackoff  time.Duration // first wait after a failed write, doubling; default 100ms
	MaxBackoff    time.Duration // the longest wait between retries; default 5s
	WriteTimeout  time.Duration // bound on one write; default 10s
	Logger        *slog.Logger
	// Outage receives each write's failure or success, so an outage is
	// logged once, summarised and its end told, rather than a line per
	// retry; default a tracker of its own on Logger.
	Outage *outage.Tracker
}

func (o *Options) defaults() {
	if o.Capacity <= 0 {
		o.Capacity = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.MaxBackoff < o.RetryBackoff {
		o.MaxBackoff = o.RetryBackoff
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Recorder buffers records and writes them to a Sink in batches. New
// starts its writer goroutine; Close stops it.
type Recorder struct {
	sink  Sink
	opts  Options
	queue chan router.Record

	// mu guards closed. Record holds it shared while it enqueues, so once
	// Close holds it exclusively no record can slip into the queue after
	// the final drain has begun.
	mu     sync.RWMutex
	closed bool

	closing   chan struct{} // closed first by Close: blocked Records give up
	drain     chan struct{} // closed once no more records can arrive
	done      chan struct{} // closed when the writer has returned
	abort     context.CancelFunc
	closeOnce sync.Once

	pending   atomic.Int64  // accepted but not yet written
	acceptedN atomic.Int64  // accepted ever
	writtenN  atomic.Int64  // settled ever: written, or refused as data
	refusedN  atomic.Int64  // refused by the database as data ever
	healthy   atomic.Bool   // false while the last write failed
	flushNow  chan struct{} // Sync asks the writer not to wait for a full batch

	// ids count the records of each id accepted but not yet written, so
	// /feedback can know a request whose row is on its way. Every request
	// passes here, so they are split into independently locked shards:
	// one mutex serialised the service under load.
	ids [idShards]idShard
}

// idShards is how many parts the buffered ids are split into.
const idShards = 16

type idShard struct {
	mu    sync.Mutex
	count map[string]int
}

var _ router.Recorder = (*Recorder)(nil)

// New returns a Recorder writing to sink and starts its writer. Call
// Close to flush and stop it.
func New(sink Sink, opts Options) *Recorder {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Recorder{
		sink:    sink,
		opts:    opts,
		queue:   make(chan router.Record, opts.Capacity),
		closing: make(chan struct{}),
		drain:   make(chan struct{}),
		done:    make(chan struct{}),
		abort:   cancel,

		flushNow: make(chan struct{}, 1),
	}
	for i := range r.ids {
		r.ids[i].count = make(map[string]int)
	}
	if r.opts.Outage == nil {
		r.opts.Outage = outage.New("database", opts.Logger, outage.Options{Waiting: r.Pending})
	}
	r.healthy.Store(true)
	go r.run(ctx)
	return r
}

// Record accepts rec for writing without waiting for the database. When
// the buffer is full it waits for space; it returns an error if ctx ends
// first or the recorder is closed.
func (r *Recorder) Record(ctx context.Context, rec router.Record) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return fmt.Errorf("record %s: %w", rec.ID, ErrClosed)
	}
	// The id is marked before the record is queued: the writer may write
	// it, and unmark it, before a send returns.
	r.mark(rec.ID)
	select {
	case r.queue <- rec:
		r.accept()
		return nil
	default:
	}
	// Full: the database is slow or down. Wait, but not past ctx or Close.
	select {
	case r.queue <- rec:
		r.accept()
		return nil
	case <-ctx.Done():
		r.unmark(rec)
		return fmt.Errorf("record %s: buffer of %d full: %w", rec.ID, r.opts.Capacity, ctx.Err())
	case <-r.closing:
		r.unmark(rec)
		return fmt.Errorf("record %s: %w", rec.ID, ErrClosed)
	}
}

func (r *Recorder) accept() {
	r.pending.Add(1)
	r.acceptedN.Add(1)
}

// syncPoll is how often Sync looks whether the writer caught up.
const syncPoll = 5 * time.Millisecond

// Sync waits until every record accepted before the call is written,
// asking the writer not to wait for a fuller batch: what /costs needs to
// read its own writes. It returns ctx's error when the database does not
// take them in time (it is down or slow), ErrClosed after Close.
func (r *Recorder) Sync(ctx context.Context) error {
	target := r.acceptedN.Load()
	if r.writtenN.Load() >= target {
		return nil
	}
	select {
	case r.flushNow <- struct{}{}:
	default: // a request is already waiting for the writer
	}
	t := time.NewTicker(syncPoll)
	defer t.Stop()
	for r.writtenN.Load() < target {
		select {
		case <-ctx.Done():
			return fmt.Errorf("sync records: %d not written yet: %w", r.Pending(), ctx.Err())
		case <-r.done:
			if r.writtenN.Load() < target {
				return fmt.Errorf("sync records: %w", ErrClosed)
			}
			return nil
		case <-t.C:
		}
	}
	return nil
}

// Buffered reports whether a record with id was accepted and is not yet
// written: its request exists though the database does not show it yet.
func (r *Recorder) Buffered(id string) bool {
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.count[id] > 0
}

// shard picks id's shard by FNV-1a.
func (r *Recorder) shard(id string) *idShard {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &r.ids[h%idShards]
}

func (r *Recorder) mark(id string) {
	sh := r.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.count[id]++
}

// unmark forgets one record of each of recs' ids.
func (r *Recorder) unmark(recs ...router.Record) {
	for _, rec := range recs {
		sh := r.shard(rec.ID)
		sh.mu.Lock()
		if sh.count[rec.ID] <= 1 {
			delete(sh.count, rec.ID)
		} else {
			sh.count[rec.ID]--
		}
		sh.mu.Unlock()
	}
}

// Healthy reports whether the last write succeeded (true before the
// first). Readiness checks use it.
func (r *Recorder) Healthy() bool { return r.healthy.Load() }

// Refused returns how many records the database refused as data and
// were left out (each was logged with its id).
func (r *Recorder) Refused() int { return int(r.refusedN.Load()) }

// Pending returns how many accepted records are not yet written.
func (r *Recorder) Pending() int { return int(r.pending.Load()) }

// Close stops accepting records and writes out everything buffered,
// retrying a failing sink until ctx ends. If ctx ends first it gives up
// and returns an error saying how many records were not written. Calling
// Close again waits for the first call's work and reports the same way.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		close(r.closing)
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.drain)
	})
	select {
	case <-r.done:
	case <-ctx.Done():
		r.abort()
		<-r.done
	}
	if n := r.Pending(); n > 0 {
		return fmt.Errorf("close recorder: %d records not written: %w", n, context.Cause(ctx))
	}
	return nil
}

// run is the writer: it batches the queue and writes until Close drains
// it or ctx (cancelled by Close's deadline) ends.
func (r *Recorder) run(ctx context.Context) {
	defer close(r.done)
	defer r.abort()
	batch := make([]router.Record, 0, r.opts.BatchSize)
	timer := time.NewTimer(r.opts.FlushInterval)
	timer.Stop()
	for {
		select {
		case rec := <-r.queue:
			if len(batch) == 0 {
				timer.Reset(r.opts.FlushInterval)
			}
			batch = append(batch, rec)
			if len(batch) < r.opts.BatchSize {
				continue
			}
		case <-timer.C:
		case <-r.flushNow:
			if batch = r.fill(batch); len(batch) == 0 {
				continue
			}
		case <-r.drain:
			r.drainAll(ctx, batch)
			return
		}
		timer.Stop()
		if !r.write(ctx, batch) {
			return // aborted; the records stay counted as pending
		}
		batch = batch[:0]
	}
}

// drainAll writes batch and everything still queued. No record can be
// added any more when it runs.
func (r *Recorder) drainAll(ctx context.Context, batch []router.Record) {
	for {
		batch = r.fill(batch)
		if len(batch) == 0 {
			return
		}
		if !r.write(ctx, batch) {
			return
		}
		batch = batch[:0]
	}
}

// fill tops batch up from the queue without waiting.
func (r *Recorder) fill(batch []router.Record) []router.Record {
	for len(batch) < r.opts.BatchSize {
		select {
		case rec := <-r.queue:
			batch = append(batch, rec)
		default:
			return batch
		}
	}
	return batch
}

// write writes batch, retrying with backoff until it succeeds (true) or
// ctx ends (false). The writer keeps the batch meanwhile, and Record
// blocks once the queue behind it fills.
func (r *Recorder) write(ctx context.Context, batch []router.Record) bool {
	if len(batch) == 0 {
		return true
	}
	backoff := r.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		wctx, cancel := context.WithTimeout(ctx, r.opts.WriteTimeout)
		err := r.sink.InsertRequests(wctx, batch)
		cancel()
		if err == nil {
			r.pending.Add(-int64(len(batch)))
			r.writtenN.Add(int64(len(batch)))
			r.unmark(batch...)
			r.healthy.Store(true)
			r.opts.Outage.OK()
			return true
		}
		if router.KindOf(err) == router.KindInvalid {
			// The database is up and refuses this data: retrying the
			// batch would fail forever and hold up everything behind it.
			return r.refused(ctx, batch, err)
		}
		r.healthy.Store(false)
		r.opts.Outage.Fail("write request records", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
		backoff = min(2*backoff, r.opts.MaxBackoff)
	}
}

// refused handles a batch the database refused as data: halves are
// written apart until the refused records stand alone, and each of those
// is logged and left out. It returns false if the recorder was aborted.
func (r *Recorder) refused(ctx context.Context, batch []router.Record, err error) bool {
	if len(batch) > 1 {
		half := len(batch) / 2
		return r.write(ctx, batch[:half]) && r.write(ctx, batch[half:])
	}
	rec := batch[0]
	r.opts.Logger.Error("request record refused by the database, left out", "id", rec.ID, "err", err)
	r.refusedN.Add(1)
	r.pending.Add(-1)
	r.writtenN.Add(1)
	r.unmark(rec)
	r.healthy.Store(true)
	r.opts.Outage.OK()
	return true
}
