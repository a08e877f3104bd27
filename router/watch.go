package router

import (
	"context"
	"log/slog"
	"time"
)

// DefaultWatchInterval is how often WatchActive looks for a newly
// promoted version: a promotion (by the learner, `switchyard table
// promote` or another replica) goes live on every replica within it,
// without a restart.
const DefaultWatchInterval = 5 * time.Second

// ActiveSource reads the active routing-table version (the store).
type ActiveSource interface {
	// ActiveVersion returns the active version, or an error when it cannot
	// be read now.
	ActiveVersion(ctx context.Context) (Version, error)
}

// OutageReporter is told how each read of the source went, so that an
// outage of the database behind it is reported once, not per poll.
type OutageReporter interface {
	Fail(op string, err error)
	OK()
}

// WatchOptions configure WatchActive.
type WatchOptions struct {
	Source ActiveSource
	// Current is the version serving now (Service.Version).
	Current func() Version
	// Activate swaps v in; an error means this configuration cannot serve
	// v, and v is not tried again.
	Activate func(ctx context.Context, v Version) error
	Outage   OutageReporter // nil: failures are only logged
	Interval time.Duration  // zero: DefaultWatchInterval
	Logger   *slog.Logger   // nil: slog.Default()
}

// WatchActive polls o.Source until ctx ends and activates each newly
// active version. A failed read leaves the serving version in place
// (FAULTS.md F12): requests go on with the table in memory. A version
// that cannot be activated is logged once and skipped until another one
// is promoted.
func WatchActive(ctx context.Context, o WatchOptions) {
	interval := o.Interval
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var refused int64 // a version this configuration cannot serve: said once
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := o.Source.ActiveVersion(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if o.Outage != nil {
				o.Outage.Fail("poll routing table", err)
			} else {
				log.Warn("poll routing table", "err", err)
			}
			continue
		}
		if o.Outage != nil {
			o.Outage.OK()
		}
		if v.ID == o.Current().ID || v.ID == refused {
			continue
		}
		if err := o.Activate(ctx, v); err != nil {
			refused = v.ID
			log.Error("activate routing table", "version", v.ID, "err", err)
			continue
		}
		log.Info("routing table changed", "version", v.ID)
	}
}
