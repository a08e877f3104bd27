package router

import (
	"context"
	"fmt"
	"log/slog"
)

// SourceConfig is the source of a version made from the configured
// routing table.
const SourceConfig = "config"

// StartStore is what StartVersion needs of the version store.
type StartStore interface {
	// SeedVersion stores t as the active version 1 in an empty store and
	// returns the active version.
	SeedVersion(ctx context.Context, t Table) (Version, error)
	ListVersions(ctx context.Context) ([]Version, error)
	CreateVersion(ctx context.Context, v Version) (Version, error)
}

// StartVersion returns the version a service starts routing with, by the
// rule README's "The routing table at start" describes:
//
//   - an empty store is seeded with the configured table (version 1);
//   - a configured table that differs from every version with source
//     SourceConfig is stored as a new candidate version with that source,
//     promoted only when asked (`switchyard table promote N`): a config
//     edit never silently replaces a learned table, nor is it silently
//     ignored;
//   - an active version that models cannot serve (it names a model the
//     configuration lacks) does not stop the service: the configured
//     table's version routes, in memory, until a servable version is
//     promoted.
func StartVersion(ctx context.Context, st StartStore, configured Table, models Catalog, log *slog.Logger) (Version, error) {
	if log == nil {
		log = slog.Default()
	}
	active, err := st.SeedVersion(ctx, configured)
	if err != nil {
		return Version{}, fmt.Errorf("load routing table: %w", err)
	}
	versions, err := st.ListVersions(ctx)
	if err != nil {
		return Version{}, fmt.Errorf("load routing table: %w", err)
	}
	var fromConfig Version
	for _, v := range versions {
		if v.Source == SourceConfig && v.ID > fromConfig.ID {
			fromConfig = v
		}
	}
	if !fromConfig.Table.Equal(configured) {
		fromConfig, err = st.CreateVersion(ctx, Version{
			Status:   StatusCandidate,
			Source:   SourceConfig,
			ParentID: active.ID,
			Note:     "the configuration's routing table changed; promote it to route by it",
			Table:    configured,
		})
		if err != nil {
			return Version{}, fmt.Errorf("store the configured routing table: %w", err)
		}
		log.Warn("the configured routing table differs from the stored ones: stored as a candidate; the active version still routes",
			"candidate", fromConfig.ID, "active", active.ID, "promote", fmt.Sprintf("switchyard table promote %d", fromConfig.ID))
	}
	if err := servable(active, models); err != nil {
		log.Error("the active routing table cannot be served with this configuration; routing by the configured table until a servable version is promoted",
			"active", active.ID, "err", err, "serving", fromConfig.ID)
		return fromConfig, nil
	}
	return active, nil
}

// servable reports why models cannot serve v.
func servable(v Version, models Catalog) error {
	if err := v.Table.Validate(models); err != nil {
		return err
	}
	if v.Policy != nil {
		return v.Policy.Validate(models)
	}
	return nil
}
