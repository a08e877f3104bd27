package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/store"
)

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", stderr)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded configuration)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"migrate: want one of up, down, status"}
	}
	// Migrations need only the database; a config whose provider keys are
	// unset must not stop an operator from migrating.
	url := getenv("DATABASE_URL")
	if *cfgPath != "" {
		cfg, err := config.LoadWithoutKeys(*cfgPath, getenv)
		if err != nil {
			return err
		}
		url = cfg.DatabaseURL
	}
	if url == "" {
		url = defaultDatabase
	}
	st, err := store.Open(ctx, url, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("open database %s: %w", config.RedactURL(url), err)
	}
	defer st.Close()

	switch fs.Arg(0) {
	case "up":
		if err := st.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
	case "down":
		if err := st.MigrateDown(ctx); err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
	case "status":
	default:
		return usageError{fmt.Sprintf("migrate: unknown action %q: want up, down or status", fs.Arg(0))}
	}
	states, err := st.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSOURCE\tAPPLIED")
	for _, s := range states {
		applied := "pending"
		if s.Applied {
			applied = s.At.UTC().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Source, applied)
	}
	return tw.Flush()
}
