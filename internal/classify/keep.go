package classify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/internal/outage"
	"github.com/switchyard/switchyard/router"
)

// PromptSink keeps the text of routed prompts for the local model's
// training (the store's prompts table).
type PromptSink interface {
	// KeepPrompts stores prompts' normalised text under their hash, as
	// seen at at.
	KeepPrompts(ctx context.Context, prompts []router.Prompt, at time.Time) error
}

// KeeperOptions tune a Keeper; zero values take the defaults.
type KeeperOptions struct {
	Capacity      int           // prompts buffered at most; default 10,000
	BatchSize     int           // prompts written at once at most; default 500
	FlushInterval time.Duration // longest a prompt waits for a batch; default 1s
	WriteTimeout  time.Duration // bound on one write; default 10s
	Logger        *slog.Logger
	// Outage receives write failures and successes, so a database outage
	// is the tracker's few lines, not one per batch; nil makes one of the
	// Keeper's own (named "database").
	Outage *outage.Tracker
	Now    func() time.Time
}

// Keeper is a router.Classifier that keeps the text of every prompt it
// classifies, off the reply's critical path: Classify hands the prompt to
// a bounded buffer without waiting, and one goroutine writes the buffer
// out in batches. Unlike request records, kept prompts are training data
// and may be lost: when the buffer is full or a write fails they are
// dropped and counted, never waited for.
type Keeper struct {
	inner router.Classifier
	sink  PromptSink
	opts  KeeperOptions
	queue chan router.Prompt

	mu      sync.RWMutex // held shared while sending, exclusively to close
	closed  bool
	done    chan struct{}
	dropped atomic.Int64
}

var _ router.Classifier = (*Keeper)(nil)

// NewKeeper wraps inner and starts the writer; Close stops it.
func NewKeeper(inner router.Classifier, sink PromptSink, opts KeeperOptions) *Keeper {
	if opts.Capacity <= 0 {
		opts.Capacity = 10_000
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Outage == nil {
		opts.Outage = outage.New("database", opts.Logger, outage.Options{})
	}
	k := &Keeper{inner: inner, sink: sink, opts: opts, queue: make(chan router.Prompt, opts.Capacity), done: make(chan struct{})}
	go k.write()
	return k
}

// Classify classifies prompt with the wrapped classifier and keeps it.
func (k *Keeper) Classify(ctx context.Context, prompt router.Prompt) (router.Analysis, error) {
	a, err := k.inner.Classify(ctx, prompt)
	if err == nil {
		k.keep(prompt)
	}
	return a, err
}

// Dropped is how many prompts were not kept (buffer full, write failed,
// or after Close).
func (k *Keeper) Dropped() int64 { return k.dropped.Load() }

func (k *Keeper) keep(prompt router.Prompt) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.closed {
		k.dropped.Add(1)
		return
	}
	select {
	case k.queue <- prompt:
	default:
		k.dropped.Add(1)
	}
}

// Close writes what is buffered, within ctx, and stops the writer.
func (k *Keeper) Close(ctx context.Context) {
	k.mu.Lock()
	if !k.closed {
		k.closed = true
		close(k.queue)
	}
	k.mu.Unlock()
	select {
	case <-k.done:
	case <-ctx.Done():
	}
}

func (k *Keeper) write() {
	defer close(k.done)
	t := time.NewTicker(k.opts.FlushInterval)
	defer t.Stop()
	batch := make([]router.Prompt, 0, k.opts.BatchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), k.opts.WriteTimeout)
		defer cancel()
		if err := k.sink.KeepPrompts(ctx, batch, k.opts.Now()); err != nil {
			// Training data may be lost (counted in Dropped); the outage
			// is logged by the tracker, not a line per batch.
			k.dropped.Add(int64(len(batch)))
			k.opts.Outage.Fail("keep prompts for training", err)
		} else {
			k.opts.Outage.OK()
		}
		batch = batch[:0]
	}
	for {
		select {
		case p, ok := <-k.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, p)
			if len(batch) >= k.opts.BatchSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}
