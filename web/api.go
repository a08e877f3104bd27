package web

import (
	"net/http"
	"time"

	"github.com/switchyard/switchyard/internal/edge"
	"github.com/switchyard/switchyard/router"
)

func (h *handler) apiVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.opts.Versions.ListVersions(r.Context())
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (h *handler) apiVersion(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r.PathValue("id"), "id")
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	v, err := h.opts.Versions.GetVersion(r.Context(), id)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	hist, err := h.history(r.Context(), id)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	// The version's own fields, plus its history.
	writeJSON(w, http.StatusOK, struct {
		router.Version
		History []router.AuditEntry `json:"history"`
	}{v, hist})
}

func (h *handler) apiDiff(w http.ResponseWriter, r *http.Request) {
	a, b, err := h.diffVersions(r)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, router.Diff(a, b))
}

// apiSpend answers ?from=YYYY-MM-DD&to=YYYY-MM-DD, by default the last
// seven days.
func (h *handler) apiSpend(w http.ResponseWriter, r *http.Request) {
	to := h.opts.Now().UTC()
	from := to.AddDate(0, 0, -(spendDays - 1))
	var err error
	q := r.URL.Query()
	if s := q.Get("from"); s != "" {
		if from, err = time.Parse(time.DateOnly, s); err != nil {
			h.apiFail(w, r, router.Errorf(router.KindInvalid, "from", "from: want YYYY-MM-DD"))
			return
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = time.Parse(time.DateOnly, s); err != nil {
			h.apiFail(w, r, router.Errorf(router.KindInvalid, "to", "to: want YYYY-MM-DD"))
			return
		}
	}
	if to.Before(from) || to.Sub(from) > maxSpendDays*24*time.Hour {
		h.apiFail(w, r, router.Errorf(router.KindInvalid, "to", "want from <= to, at most %d days apart", maxSpendDays))
		return
	}
	days, err := h.spend(r, from, to)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := make([]edge.Day, len(days))
	for i, d := range days {
		out[i] = edge.NewDay(d, h.opts.Baseline)
	}
	writeJSON(w, http.StatusOK, map[string]any{"days": out})
}

// apiCharts answers what the overview's charts draw, over the same
// window: days of spend and requests by model and bucket, quality
// signals with their intervals, versions with their replay estimates and
// traffic, and the latest eval runs' curves.
func (h *handler) apiCharts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	versions, err := h.opts.Versions.ListVersions(ctx)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	runs, err := h.evalRuns(ctx)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	d, err := h.charts(ctx, versions, runs)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
