package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

const tableUsage = `usage: switchyard table <action> [--config F] [--json]

actions:
  list           every routing-table version, newest first
  show V         one version's buckets and evidence (V: an id or "active")
  diff A B       what changes from version A to version B
  diff V         what version V changes from its parent
  promote V      make version V the active one
  rollback       go back to the last version that was active before the active one`

// tableStore is what the table command needs of the store: reading
// versions, and changing the active one with an audit entry.
type tableStore = router.VersionChanger

func tableCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("table", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, tableUsage) }
	cfgPath := fs.String("config", "", "configuration file naming the database (default: DATABASE_URL)")
	asJSON := fs.Bool("json", false, "print JSON (list, show, diff)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, tableUsage)
		return usageError{"table: want one of list, show, diff, promote, rollback"}
	}
	action, operands := pos[0], pos[1:]
	want := map[string][2]int{"list": {0, 0}, "show": {1, 1}, "diff": {1, 2}, "promote": {1, 1}, "rollback": {0, 0}}
	n, ok := want[action]
	if !ok {
		return usageError{fmt.Sprintf("table: unknown action %q: want list, show, diff, promote or rollback", action)}
	}
	if len(operands) < n[0] || len(operands) > n[1] {
		return usageError{fmt.Sprintf("table %s: wrong number of versions (see switchyard table --help)", action)}
	}
	for _, op := range operands {
		if _, _, err := parseVersionRef(op); err != nil {
			return usageError{fmt.Sprintf("table %s: %v", action, err)}
		}
	}

	st, err := openConfiguredStore(ctx, *cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	t := tableCommand{st: st, out: stdout, json: *asJSON, actor: cliActor(getenv)}
	switch action {
	case "list":
		return t.list(ctx)
	case "show":
		return t.show(ctx, operands[0])
	case "diff":
		return t.diff(ctx, operands)
	case "promote":
		return t.promote(ctx, operands[0])
	default:
		return t.rollback(ctx)
	}
}

// parseInterleaved parses flags wherever they appear among args
// ("table diff 1 2 --json") and returns the other arguments in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		rest := fs.Args()
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// openConfiguredStore opens and migrates the database a command names:
// the --config file's, else DATABASE_URL, else the default SQLite file.
// Only the database is read from the config, so unset provider keys do
// not stop an operator.
func openConfiguredStore(ctx context.Context, cfgPath string, getenv func(string) string, stderr io.Writer) (*store.Store, error) {
	cfg := &config.Config{DatabaseURL: getenv("DATABASE_URL")}
	if cfgPath != "" {
		var err error
		if cfg, err = config.LoadWithoutKeys(cfgPath, getenv); err != nil {
			return nil, err
		}
	}
	// Only warnings: the command's output is its report, not a log.
	return openStore(ctx, cfg, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// parseVersionRef reads "active", "12" or "v12".
func parseVersionRef(s string) (id int64, active bool, err error) {
	if s == "active" {
		return 0, true, nil
	}
	id, err = strconv.ParseInt(strings.TrimPrefix(s, "v"), 10, 64)
	if err != nil || id <= 0 {
		return 0, false, fmt.Errorf("version %q: want a positive number or \"active\"", s)
	}
	return id, false, nil
}

type tableCommand struct {
	st   tableStore
	out  io.Writer
	json bool
	// actor is who the audit names for a promotion or rollback.
	actor string
}

// cliActor names the operator of a command in the audit: "cli:" and the
// login name, as far as the environment tells it.
func cliActor(getenv func(string) string) string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if u := getenv(k); u != "" {
			return "cli:" + u
		}
	}
	return "cli"
}

func (t tableCommand) resolve(ctx context.Context, ref string) (router.Version, error) {
	id, active, err := parseVersionRef(ref)
	if err != nil {
		return router.Version{}, err
	}
	if active {
		return t.st.ActiveVersion(ctx)
	}
	return t.st.GetVersion(ctx, id)
}

func (t tableCommand) writeJSON(v any) error {
	enc := json.NewEncoder(t.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (t tableCommand) list(ctx context.Context) error {
	vs, err := t.st.ListVersions(ctx)
	if err != nil {
		return err
	}
	if t.json {
		return t.writeJSON(vs)
	}
	tw := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tSOURCE\tPARENT\tCREATED\tBUCKETS\tROUTING\tSAMPLES\tNOTE")
	for _, v := range vs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v.ID, v.Status, v.Source, parentOf(v),
			v.CreatedAt.UTC().Format("2006-01-02 15:04"), len(v.Table), routingOf(v), samplesOf(v), oneLine(v.Note, 60))
	}
	return tw.Flush()
}

func (t tableCommand) show(ctx context.Context, ref string) error {
	v, err := t.resolve(ctx, ref)
	if err != nil {
		return err
	}
	if t.json {
		return t.writeJSON(v)
	}
	tw := tabwriter.NewWriter(t.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "version %d: %s, source %s, parent %s, created %s\n", v.ID, v.Status, v.Source, parentOf(v), v.CreatedAt.UTC().Format(time.RFC3339))
	if v.Note != "" {
		fmt.Fprintf(tw, "note: %s\n", v.Note)
	}
	if p := v.Provenance; !p.WindowFrom.IsZero() {
		fmt.Fprintf(tw, "data: %s to %s, %d samples\n", p.WindowFrom.Format(time.RFC3339), p.WindowTo.Format(time.RFC3339), p.Samples)
	} else if p.Samples > 0 {
		fmt.Fprintf(tw, "data: %d samples\n", p.Samples)
	}
	if d := v.Provenance.LocalModel; d != "" {
		fmt.Fprintf(tw, "local model: %s\n", d)
	}
	if p := v.Policy; p != nil {
		fmt.Fprintf(tw, "per-prompt policy: %s over %s (the bucket table below is the fallback)\n", p.Point, strings.Join(p.Models, " < "))
		if op := p.Point; op.Margin > 0 || op.Samples > 0 {
			fmt.Fprintf(tw, "  chosen with margin %.3f on %d prompts\n", op.Margin, op.Samples)
		}
	}
	buckets := make([]string, 0, len(v.Table))
	for b := range v.Table {
		buckets = append(buckets, b)
	}
	sort.Strings(buckets)
	fmt.Fprintln(tw, "\nBUCKET\tMODELS (first choice first)")
	for _, b := range buckets {
		fmt.Fprintf(tw, "%s\t%s\n", b, strings.Join(v.Table[b], " > "))
	}
	if len(v.Provenance.Stats) > 0 {
		fmt.Fprintln(tw, "\nBUCKET\tMODEL\tSAMPLES\tSUCCESS\tLOWER BOUND\tMEAN COST")
		stats := make([]string, 0, len(v.Provenance.Stats))
		for b := range v.Provenance.Stats {
			stats = append(stats, b)
		}
		sort.Strings(stats)
		for _, b := range stats {
			models := make([]string, 0, len(v.Provenance.Stats[b]))
			for m := range v.Provenance.Stats[b] {
				models = append(models, m)
			}
			sort.Strings(models)
			for _, m := range models {
				s := v.Provenance.Stats[b][m]
				fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t$%.6f\n", b, m, s.Samples, s.SuccessRate, s.LowerBound, s.MeanCost.USD())
			}
		}
	}
	return tw.Flush()
}

func (t tableCommand) diff(ctx context.Context, refs []string) error {
	b, err := t.resolve(ctx, refs[len(refs)-1])
	if err != nil {
		return err
	}
	var a router.Version
	if len(refs) == 2 {
		if a, err = t.resolve(ctx, refs[0]); err != nil {
			return err
		}
	} else {
		if b.ParentID == 0 {
			return fmt.Errorf("diff version %d: it has no parent; name two versions", b.ID)
		}
		if a, err = t.st.GetVersion(ctx, b.ParentID); err != nil {
			return err
		}
	}
	d := router.Diff(a, b)
	if t.json {
		return t.writeJSON(d)
	}
	return d.WriteText(t.out)
}

func (t tableCommand) promote(ctx context.Context, ref string) error {
	v, err := t.resolve(ctx, ref)
	if err != nil {
		return err
	}
	c, err := router.PlanPromotion(ctx, t.st, v.ID)
	if err != nil {
		return err
	}
	return t.apply(ctx, c, "promoted")
}

// rollback goes back to router.RollbackTarget of the active version.
func (t tableCommand) rollback(ctx context.Context) error {
	c, err := router.PlanRollback(ctx, t.st)
	if err != nil {
		return err
	}
	return t.apply(ctx, c, "rolled back to")
}

// apply carries out c through router.Apply, the one way the active
// version changes by hand (the admin page uses it too), and prints what
// changed against the version that was active.
func (t tableCommand) apply(ctx context.Context, c router.Change, verb string) error {
	if c.Noop() {
		fmt.Fprintf(t.out, "version %d is already active\n", c.To.ID)
		return nil
	}
	if _, err := router.Apply(ctx, t.st, c, router.AuditEntry{Actor: t.actor}); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "%s version %d (was %s)\n", verb, c.To.ID, orDash(c.From.ID))
	if c.From.ID == 0 {
		return nil
	}
	return c.Diff.WriteText(t.out)
}

func parentOf(v router.Version) string { return orDash(v.ParentID) }

func orDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}

// routingOf says what routes a version's auto requests: its per-prompt
// policy's rule and parameter, or its bucket table.
func routingOf(v router.Version) string {
	if v.Policy == nil {
		return "table"
	}
	return fmt.Sprintf("%s %.3f", v.Policy.Point.Rule, v.Policy.Point.Param)
}

func samplesOf(v router.Version) string {
	if v.Provenance.Samples == 0 {
		return "-"
	}
	return strconv.Itoa(v.Provenance.Samples)
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
