package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

// KeyReader lists API keys and their spend; *store.Store implements it.
type KeyReader interface {
	Keys(ctx context.Context) ([]keys.Key, error)
	KeySpend(ctx context.Context, key string, from, to time.Time) ([]router.Spend, error)
}

// keyRow is one key on the admin page: its spend this period against its
// budget and against the pace (the share of the budget the period's
// elapsed share allows).
type keyRow struct {
	Name     string        `json:"name"`
	Prefix   string        `json:"prefix"`
	Revoked  bool          `json:"revoked"`
	Period   keys.Period   `json:"period,omitempty"`
	Budget   router.Micros `json:"budget_micros"`
	Spent    router.Micros `json:"spent_micros"`
	Pace     router.Micros `json:"pace_micros"` // what spending on pace would have spent by now
	Prompts  int           `json:"prompts"`
	Ahead    bool          `json:"ahead_of_pace"`
	PctSpent string        `json:"-"`
}

// keyRows reads every key's spend in its current period (a day for keys
// without a budget).
func (h *handler) keyRows(ctx context.Context) ([]keyRow, error) {
	if h.opts.Keys == nil {
		return nil, nil
	}
	all, err := h.opts.Keys.Keys(ctx)
	if err != nil {
		return nil, err
	}
	now := h.opts.Now().UTC()
	rows := make([]keyRow, 0, len(all))
	for _, k := range all {
		period := k.Period
		if period == "" {
			period = keys.Day
		}
		start, end := period.Bounds(now)
		days, err := h.opts.Keys.KeySpend(ctx, k.Name, start, end.Add(-time.Nanosecond))
		if err != nil {
			return nil, err
		}
		row := keyRow{Name: k.Name, Prefix: k.Prefix, Revoked: k.Revoked(), Period: k.Period, Budget: k.Budget}
		for _, d := range days {
			row.Spent += d.Total
			row.Prompts += d.Prompts
		}
		if k.Budget > 0 {
			elapsed := float64(now.Sub(start)) / float64(end.Sub(start))
			row.Pace = router.Micros(elapsed * float64(k.Budget))
			row.Ahead = row.Spent > row.Pace
			row.PctSpent = pct(float64(row.Spent) / float64(k.Budget))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// apiKeys is /admin/api/keys: every key's spend against budget and pace.
func (h *handler) apiKeys(w http.ResponseWriter, r *http.Request) {
	rows, err := h.keyRows(r.Context())
	if err != nil {
		h.log.Error("admin keys", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "internal error", "internal")
		return
	}
	if rows == nil {
		rows = []keyRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": rows})
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
