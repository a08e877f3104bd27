package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/router"
)

// Sync reloads the keys (so a revocation or a new limit reaches this
// replica) and exchanges usage with the store: this replica's counts
// since the last sync are added to the shared counters and every key's
// current totals come back. Counts that fail to reach the store are kept
// for the next sync. Every usageRetention it also deletes the per-minute
// counters that ended usageRetention ago, when the store can.
func (g *Gate) Sync(ctx context.Context) error {
	if err := g.exchange(ctx); err != nil {
		return err
	}
	return g.prune(ctx)
}

// usageRetention is how long a per-minute counter outlives its minute,
// and how often a replica prunes them. Only the current minute's is read
// (rate limits); the margin covers replicas whose clocks disagree and
// counts flushed just after their minute ended. Budget periods' counters
// (a row per key and day, week or month) are kept: they are few.
const usageRetention = 10 * time.Minute

// UsagePruner is a Store that can delete counters no sync reads again.
// Without it (a store in memory) the counters are kept.
type UsagePruner interface {
	// DeleteUsage deletes the counters whose window starts with prefix
	// and sorts before before, returning how many.
	DeleteUsage(ctx context.Context, prefix, before string) (int64, error)
}

// prune deletes per-minute counters older than usageRetention, at most
// once a usageRetention; without it key_usage grows by a row per key
// and minute of traffic, forever.
func (g *Gate) prune(ctx context.Context) error {
	p, ok := g.store.(UsagePruner)
	now := g.now()
	g.mu.Lock()
	due := ok && now.Sub(g.pruned) >= usageRetention
	g.mu.Unlock()
	if !due {
		return nil
	}
	if _, err := p.DeleteUsage(ctx, minutePrefix, minuteWindow(now.Add(-usageRetention))); err != nil {
		return fmt.Errorf("prune key usage: %w", err)
	}
	g.mu.Lock()
	g.pruned = now
	g.mu.Unlock()
	return nil
}

// exchange reloads the keys and exchanges usage with the store (Sync).
func (g *Gate) exchange(ctx context.Context) error {
	keys, err := g.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("sync keys: %w", err)
	}
	byHash := make(map[string]Key, len(keys))
	byName := make(map[string]Key, len(keys))
	for _, k := range keys {
		byHash[k.Hash] = k
		byName[k.Name] = k
	}
	now := g.now()
	windows := []string{minuteWindow(now)}
	for _, p := range periods {
		windows = append(windows, p.window(now))
	}

	g.mu.Lock()
	g.byHash, g.byName = byHash, byName
	var deltas []Usage
	for ck, c := range g.counters {
		if c.local.zero() {
			continue
		}
		d := c.local
		d.KeyID, d.Window = ck.id, ck.window
		deltas = append(deltas, d)
		c.flushing.add(c.local)
		c.local = Usage{}
	}
	g.mu.Unlock()

	totals, err := g.store.SyncUsage(ctx, deltas, windows)

	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		// Nothing was written (one transaction): keep the counts.
		for _, d := range deltas {
			c := g.counter(d.KeyID, d.Window)
			c.local.add(c.flushing)
			c.flushing = Usage{}
		}
		return fmt.Errorf("sync usage: %w", err)
	}
	current := make(map[string]bool, len(windows))
	for _, w := range windows {
		current[w] = true
	}
	before := make(map[counterKey]router.Micros, len(g.counters))
	for ck, c := range g.counters {
		before[ck] = c.shared.Cost
	}
	for _, d := range deltas {
		c := g.counter(d.KeyID, d.Window)
		c.shared.add(c.flushing) // a past window, not returned below, keeps its sum
		c.flushing = Usage{}
	}
	for _, t := range totals {
		c := g.counter(t.KeyID, t.Window)
		if c.synced {
			c.growth = max(t.Cost-before[counterKey{t.KeyID, t.Window}], 0)
		}
		c.shared, c.synced = t, true
	}
	// Windows that ended and have nothing left to flush are forgotten.
	for ck, c := range g.counters {
		if !current[ck.window] && c.local.zero() && c.flushing.zero() {
			delete(g.counters, ck)
		}
	}
	return nil
}

// minKickGap spaces the prompt syncs a key near its budget asks for.
const minKickGap = 10 * time.Millisecond

// Run syncs every interval, and promptly when a key nears the end of its
// budget, until ctx is done; then once more with a short deadline so the
// last counts reach the store.
func (g *Gate) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := g.Sync(final); err != nil {
				g.log.Warn("final key usage sync", "err", err)
			}
			return
		case <-t.C:
		case <-g.kick:
			time.Sleep(minKickGap) // gather the charges arriving together
		}
		switch err := g.Sync(ctx); {
		case err == nil:
			g.outage.OK()
		case ctx.Err() == nil:
			// Counted into the outage's lines, not logged per sync.
			g.outage.Fail("sync keys", err)
		}
	}
}
