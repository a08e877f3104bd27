package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/router"
)

// seedStore is what loadTable needs of the store.
type seedStore interface {
	SeedVersion(ctx context.Context, t router.Table) (router.Version, error)
	ListVersions(ctx context.Context) ([]router.Version, error)
	CreateVersion(ctx context.Context, v router.Version) (router.Version, error)
}

// loadTable returns the routing-table version serve starts with, by the
// rule README's "The routing table at start" describes:
//
//   - an empty database is seeded with the configured table (version 1);
//   - a configured table that differs from every version with source
//     "config" is stored as a new candidate version with source "config",
//     promoted only when asked (`switchyard table promote N`): a config
//     edit never silently replaces a learned table, nor is it silently
//     ignored;
//   - an active version that this configuration cannot serve (it names a
//     model the config lacks) does not stop the service: the configured
//     table's version routes, in memory, until a servable version is
//     promoted.
func loadTable(ctx context.Context, st seedStore, cfg *config.Config, log *slog.Logger) (router.Version, error) {
	configured := cfg.Table()
	active, err := st.SeedVersion(ctx, configured)
	if err != nil {
		return router.Version{}, fmt.Errorf("load routing table: %w", err)
	}
	versions, err := st.ListVersions(ctx)
	if err != nil {
		return router.Version{}, fmt.Errorf("load routing table: %w", err)
	}
	var fromConfig router.Version
	for _, v := range versions {
		if v.Source == "config" && v.ID > fromConfig.ID {
			fromConfig = v
		}
	}
	if !sameTable(fromConfig.Table, configured) {
		fromConfig, err = st.CreateVersion(ctx, router.Version{
			Status:   router.StatusCandidate,
			Source:   "config",
			ParentID: active.ID,
			Note:     "the configuration's routing table changed; promote it to route by it",
			Table:    configured,
		})
		if err != nil {
			return router.Version{}, fmt.Errorf("store the configured routing table: %w", err)
		}
		log.Warn("the configured routing table differs from the stored ones: stored as a candidate; the active version still routes",
			"candidate", fromConfig.ID, "active", active.ID, "promote", fmt.Sprintf("switchyard table promote %d", fromConfig.ID))
	}
	if err := servable(active, cfg.Catalog()); err != nil {
		log.Error("the active routing table cannot be served with this configuration; routing by the configured table until a servable version is promoted",
			"active", active.ID, "err", err, "serving", fromConfig.ID)
		return fromConfig, nil
	}
	return active, nil
}

// sameTable reports whether a and b list the same candidates per bucket.
func sameTable(a, b router.Table) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// servable reports why this configuration's models cannot serve v.
func servable(v router.Version, models router.Catalog) error {
	if err := v.Table.Validate(models); err != nil {
		return err
	}
	if v.Policy != nil {
		return v.Policy.Validate(models)
	}
	return nil
}
