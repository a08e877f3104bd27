// Command switchyard is the Switchyard LLM router: the HTTP service, its
// schema migrations and the demo upstream. main only sets up signals and
// calls run, the one place that knows every concrete type.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage: switchyard <command> [flags]

commands:
  serve     [--config F] [--addr :8080]       run the HTTP service (migrates the database first)
  migrate   up|down|status [--config F]       manage the database schema
  upstream  [--dataset F] [--addr A]          demo OpenAI-compatible upstream answering as a dataset's models
  table     list|show V|diff A [B]|promote V|rollback [--json]
                                              routing-table versions: inspect, compare, activate, roll back
  replay    --dataset F --target URL [--feedback] [--rate R] [--limit N] [--offset N] [--split train|test|all]
                                              drive a running service with a dataset's prompts (and their outcomes as feedback)
  dataset   import --format F IN OUT          convert a public routing dataset (routellm, routerbench, llmrouter)
  learn     [--dry-run] [--config F] [--json]   fit a routing table from recorded outcomes now, gate it, promote it if better
  keys      create --name N [--budget USD --period day|week|month] [--rpm N] [--tpm N] [--max-in-flight N] [--keep-quality Q]
            |list|show N|update N [flags]|revoke N   API keys: budgets, limits, spend this period
  eval      --dataset F [--prices P] [--policy P]... [--train-frac 0.5] [--seed 1] [--json] [--report DIR]
                                              replay a labeled dataset through routing policies, offline
  eval-version --dataset F [--version active|N] [--split test] [--config F] [--prices P] [--json]
                                              score a stored version (table, per-prompt policy, local model) on a dataset split, offline

The database comes from DATABASE_URL (postgres://...); unset, an SQLite file under ./data/.
Run 'switchyard <command> --help' for a command's flags.`

// run executes one command. It reads the environment only through getenv
// and writes only to stdout and stderr, so tests can call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "upstream":
		return upstreamCmd(ctx, rest, getenv, stdout, stderr)
	case "table":
		return tableCmd(ctx, rest, getenv, stdout, stderr)
	case "replay":
		return replayCmd(ctx, rest, getenv, stdout, stderr)
	case "dataset":
		return datasetCmd(ctx, rest, stdout, stderr)
	case "eval":
		return evalCmd(ctx, rest, getenv, stdout, stderr)
	case "learn":
		return learnCmd(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return keysCmd(ctx, rest, getenv, stdout, stderr)
	case "eval-version":
		return evalVersionCmd(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// defaultDatabase is where a newcomer's data lives when DATABASE_URL is
// unset: an SQLite file, nothing to install.
const defaultDatabase = "sqlite:data/switchyard.db"

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{"help requested"}
		}
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.Store, error) {
	url := cfg.DatabaseURL
	if url == "" {
		url = defaultDatabase
	}
	st, err := store.Open(ctx, url, log)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", config.RedactURL(url), err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return st, nil
}
