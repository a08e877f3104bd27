package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

const keysUsage = `usage: switchyard keys <action> [flags] [--config F] [--json]

actions:
  create --name NAME [--budget USD --period day|week|month] [--rpm N] [--tpm N]
         [--max-in-flight N] [--keep-quality Q]
                 make a key and print it, once (only its hash is stored)
  list           every key with its limits and its spend this period
  show NAME      one key
  update NAME [--budget USD --period P] [--rpm N] [--tpm N] [--max-in-flight N] [--keep-quality Q]
                 change the flags given; the others stay
  revoke NAME    refuse the key from now on (every replica within keys.sync_interval)`

// keyStore is what the keys command needs of the store.
type keyStore interface {
	CreateKey(ctx context.Context, k keys.Key) (keys.Key, error)
	Keys(ctx context.Context) ([]keys.Key, error)
	KeyByName(ctx context.Context, name string) (keys.Key, error)
	UpdateKey(ctx context.Context, k keys.Key) (keys.Key, error)
	RevokeKey(ctx context.Context, name string, now time.Time) (keys.Key, error)
	KeySpend(ctx context.Context, key string, from, to time.Time) ([]router.Spend, error)
}

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, keysUsage) }
	cfgPath := fs.String("config", "", "configuration file naming the database (default: DATABASE_URL)")
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "the key's name (create): letters, digits, '-', '_', '.'")
	budget := fs.Float64("budget", 0, "budget in USD per --period; 0: none")
	period := fs.String("period", "", "budget period: day, week or month")
	rpm := fs.Int64("rpm", 0, "requests per minute; 0: no limit")
	tpm := fs.Int64("tpm", 0, "tokens per minute; 0: no limit")
	inFlight := fs.Int64("max-in-flight", 0, "requests at once, per replica; 0: no limit")
	keep := fs.Float64("keep-quality", 0, "the lowest quality goal pacing may relax the key to (share of the baseline's); 0: keys.keep_quality_floor")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return usageError{"keys: want one of create, list, show, update, revoke"}
	}
	action, operands := pos[0], pos[1:]
	want := map[string]int{"create": 0, "list": 0, "show": 1, "update": 1, "revoke": 1}
	n, ok := want[action]
	if !ok {
		return usageError{fmt.Sprintf("keys: unknown action %q: want create, list, show, update or revoke", action)}
	}
	if len(operands) != n {
		return usageError{fmt.Sprintf("keys %s: want %d key name(s), got %d", action, n, len(operands))}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// apply sets the flags given on k, validating them by the flags' names.
	apply := func(k *keys.Key) error {
		if set["budget"] {
			if *budget < 0 {
				return usageError{"keys: --budget: must not be negative"}
			}
			k.Budget = router.MicrosFromUSD(*budget)
		}
		if set["period"] {
			p, err := keys.ParsePeriod(*period)
			if err != nil {
				return usageError{"keys: --period: " + err.Error()}
			}
			k.Period = p
		}
		if set["rpm"] {
			k.RPM = *rpm
		}
		if set["tpm"] {
			k.TPM = *tpm
		}
		if set["max-in-flight"] {
			k.MaxInFlight = *inFlight
		}
		if set["keep-quality"] {
			k.KeepQuality = *keep
		}
		if err := k.Validate(); err != nil {
			return usageError{"keys: " + err.Error()}
		}
		return nil
	}

	if action == "create" {
		if err := keys.ValidName(*name); err != nil {
			return usageError{"keys create: " + err.Error()}
		}
		if err := apply(&keys.Key{Name: *name}); err != nil {
			return err
		}
	}
	st, err := openConfiguredStore(ctx, *cfgPath, getenv, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	kc := keysCommand{st: st, out: stdout, json: *asJSON, now: time.Now}
	switch action {
	case "create":
		k := keys.Key{Name: *name}
		_ = apply(&k) // validated above
		return kc.create(ctx, k)
	case "list":
		return kc.list(ctx)
	case "show":
		k, err := st.KeyByName(ctx, operands[0])
		if err != nil {
			return err
		}
		return kc.print(ctx, []keys.Key{k})
	case "update":
		k, err := st.KeyByName(ctx, operands[0])
		if err != nil {
			return err
		}
		if err := apply(&k); err != nil {
			return err
		}
		if k, err = st.UpdateKey(ctx, k); err != nil {
			return err
		}
		return kc.print(ctx, []keys.Key{k})
	default: // revoke
		k, err := st.RevokeKey(ctx, operands[0], kc.now())
		if err != nil {
			return err
		}
		return kc.print(ctx, []keys.Key{k})
	}
}

type keysCommand struct {
	st   keyStore
	out  io.Writer
	json bool
	now  func() time.Time
}

func (kc keysCommand) create(ctx context.Context, k keys.Key) error {
	secret, prefix, hash, err := keys.NewSecret()
	if err != nil {
		return err
	}
	k.Prefix, k.Hash = prefix, hash
	if k, err = kc.st.CreateKey(ctx, k); err != nil {
		return err
	}
	if kc.json {
		return json.NewEncoder(kc.out).Encode(map[string]any{"name": k.Name, "key": secret, "prefix": k.Prefix})
	}
	fmt.Fprintf(kc.out, "%s\n", secret)
	fmt.Fprintf(kc.out, "# key %q: shown once, only its hash is kept; send it as Authorization: Bearer <key>\n", k.Name)
	return nil
}

func (kc keysCommand) list(ctx context.Context) error {
	all, err := kc.st.Keys(ctx)
	if err != nil {
		return err
	}
	return kc.print(ctx, all)
}

// keyView is a key as printed: never its hash or secret.
type keyView struct {
	Name        string  `json:"name"`
	Prefix      string  `json:"prefix"`
	Status      string  `json:"status"`
	BudgetUSD   float64 `json:"budget_usd,omitempty"`
	Period      string  `json:"period,omitempty"`
	SpentUSD    float64 `json:"spent_usd"`
	PaceUSD     float64 `json:"pace_usd,omitempty"` // what spending on pace would have spent by now
	RPM         int64   `json:"rpm,omitempty"`
	TPM         int64   `json:"tpm,omitempty"`
	MaxInFlight int64   `json:"max_in_flight,omitempty"`
	KeepQuality float64 `json:"keep_quality,omitempty"`
	CreatedAt   string  `json:"created_at"`
}

func (kc keysCommand) print(ctx context.Context, all []keys.Key) error {
	now := kc.now().UTC()
	views := make([]keyView, 0, len(all))
	for _, k := range all {
		v := keyView{Name: k.Name, Prefix: k.Prefix + "…", Status: "live", BudgetUSD: k.Budget.USD(), Period: string(k.Period),
			RPM: k.RPM, TPM: k.TPM, MaxInFlight: k.MaxInFlight, KeepQuality: k.KeepQuality, CreatedAt: k.CreatedAt.Format(time.RFC3339)}
		if k.Revoked() {
			v.Status = "revoked " + k.RevokedAt.Format(time.RFC3339)
		}
		period := k.Period
		if period == "" {
			period = keys.Day
		}
		start, end := period.Bounds(now)
		days, err := kc.st.KeySpend(ctx, k.Name, start, end.Add(-time.Nanosecond))
		if err != nil {
			return err
		}
		var spent router.Micros
		for _, d := range days {
			spent += d.Total
		}
		v.SpentUSD = spent.USD()
		if k.Budget > 0 {
			v.PaceUSD = keys.DefaultPacing().Of(k, spent, now).Elapsed * k.Budget.USD()
		}
		views = append(views, v)
	}
	if kc.json {
		return json.NewEncoder(kc.out).Encode(views)
	}
	tw := tabwriter.NewWriter(kc.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKEY\tSTATUS\tSPENT\tBUDGET\tPACE\tRPM\tTPM\tIN FLIGHT\tKEEP")
	dash := func(n int64) string {
		if n == 0 {
			return "-"
		}
		return fmt.Sprint(n)
	}
	for _, v := range views {
		budget, pace, keep := "-", "-", "-"
		if v.BudgetUSD > 0 {
			budget = fmt.Sprintf("$%.4f/%s", v.BudgetUSD, v.Period)
			pace = fmt.Sprintf("$%.4f", v.PaceUSD)
		}
		if v.KeepQuality > 0 {
			keep = fmt.Sprint(v.KeepQuality)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t$%.4f\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Name, v.Prefix, v.Status, v.SpentUSD, budget, pace, dash(v.RPM), dash(v.TPM), dash(v.MaxInFlight), keep)
	}
	return tw.Flush()
}
