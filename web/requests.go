package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/router"
)

// RequestReader reads stored request records and their outcome signals;
// *store.Store implements it.
type RequestReader interface {
	FindRequests(ctx context.Context, q router.RequestQuery) ([]router.Record, error)
	GetRequest(ctx context.Context, id string) (router.Record, error)
	Outcomes(ctx context.Context, id string) ([]router.Outcome, error)
}

// PromptReader returns a kept prompt's text by its hash; *store.Store
// implements it. Wired only when learner.keep_prompts is on.
type PromptReader interface {
	PromptText(ctx context.Context, hash string) (text string, ok bool, err error)
}

// listedRequests is how many requests the explorer lists unless ?limit=
// says otherwise.
const listedRequests = 50

// maxRequestID bounds the id a search may carry (ids are short).
const maxRequestID = 200

// requestFilter is the explorer's query as the form shows it back.
type requestFilter struct {
	Q    router.RequestQuery
	From string
	To   string
}

// parseRequestQuery reads ?model=&bucket=&status=&key=&from=&to=&limit=;
// from and to are RFC 3339 times or YYYY-MM-DD days (to's day included).
func parseRequestQuery(v url.Values) (requestFilter, error) {
	f := requestFilter{Q: router.RequestQuery{
		Model: strings.TrimSpace(v.Get("model")), Bucket: strings.TrimSpace(v.Get("bucket")),
		Status: strings.TrimSpace(v.Get("status")), Key: strings.TrimSpace(v.Get("key")), Limit: listedRequests,
	}, From: v.Get("from"), To: v.Get("to")}
	var err error
	if f.Q.From, err = parseWhen(f.From, "from", false); err != nil {
		return f, err
	}
	if f.Q.To, err = parseWhen(f.To, "to", true); err != nil {
		return f, err
	}
	if !f.Q.From.IsZero() && !f.Q.To.IsZero() && !f.Q.From.Before(f.Q.To) {
		return f, router.Errorf(router.KindInvalid, "to", "to: want a time after from")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > router.MaxRequestQuery {
			return f, router.Errorf(router.KindInvalid, "limit", "limit: want 1 to %d", router.MaxRequestQuery)
		}
		f.Q.Limit = n
	}
	return f, nil
}

// parseWhen reads an RFC 3339 time or a YYYY-MM-DD day; a day as the end
// of a range means the end of that day.
func parseWhen(s, field string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	day, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, router.Errorf(router.KindInvalid, field, "%s: want YYYY-MM-DD or an RFC 3339 time", field)
	}
	if end {
		day = day.AddDate(0, 0, 1)
	}
	return day, nil
}

type requestsPage struct {
	F        requestFilter
	Records  []router.Record
	Statuses []string
	Limited  bool
}

// requests lists the latest requests; ?id= jumps to one request's page.
func (h *handler) requests(w http.ResponseWriter, r *http.Request) {
	if h.opts.Requests == nil {
		h.pageFail(w, r, noRequests())
		return
	}
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		if len(id) > maxRequestID {
			h.pageFail(w, r, router.Errorf(router.KindInvalid, "id", "id: at most %d characters", maxRequestID))
			return
		}
		http.Redirect(w, r, "/admin/requests/"+url.PathEscape(id), http.StatusSeeOther)
		return
	}
	f, err := parseRequestQuery(r.URL.Query())
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	recs, err := h.opts.Requests.FindRequests(r.Context(), f.Q)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "requests", requestsPage{F: f, Records: recs, Limited: len(recs) == f.Q.Limit,
		Statuses: []string{router.OutcomeOK, router.OutcomeError, router.OutcomeTimeout, router.OutcomeEmpty, router.OutcomeCancelled}})
}

func (h *handler) apiRequests(w http.ResponseWriter, r *http.Request) {
	if h.opts.Requests == nil {
		h.apiFail(w, r, noRequests())
		return
	}
	f, err := parseRequestQuery(r.URL.Query())
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	recs, err := h.opts.Requests.FindRequests(r.Context(), f.Q)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := make([]requestJSON, len(recs))
	for i, rec := range recs {
		out[i] = toRequestJSON(rec)
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func noRequests() error {
	return router.Errorf(router.KindNotFound, "requests", "request records are not available on this server")
}

// candidateRow is one model the request's table offered, and what became
// of it.
type candidateRow struct {
	Model string
	// Fate is "answered", an attempt's failure, "skipped: <capability>",
	// or "not tried" when an earlier candidate answered.
	Fate string
}

type requestPage struct {
	R router.Record
	// Bucket is the table bucket that gave the candidates (a refined
	// bucket falls back to its complexity's); BucketOf's name when the
	// version is gone.
	Bucket   string
	Outcomes []router.Outcome
	// Candidates is empty when the record's version is gone.
	Candidates []candidateRow
	Prompt     string
	PromptKept bool
}

// requestStory gathers everything the request page and its JSON twin
// show.
func (h *handler) requestStory(r *http.Request) (requestPage, error) {
	if h.opts.Requests == nil {
		return requestPage{}, noRequests()
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxRequestID {
		return requestPage{}, router.Errorf(router.KindInvalid, "id", "id: want a request id of at most %d characters", maxRequestID)
	}
	ctx := r.Context()
	rec, err := h.opts.Requests.GetRequest(ctx, id)
	if err != nil {
		return requestPage{}, err
	}
	p := requestPage{R: rec, Bucket: router.BucketOf(rec.Complexity, rec.Category)}
	if p.Outcomes, err = h.opts.Requests.Outcomes(ctx, id); err != nil {
		return requestPage{}, err
	}
	if rec.TableVersion > 0 && rec.Complexity != "" {
		// A version that is gone leaves the candidates out, not the page.
		if v, err := h.opts.Versions.GetVersion(ctx, rec.TableVersion); err == nil {
			p.Bucket = v.Table.Bucket(rec.Analysis)
			p.Candidates = candidates(v.Table.Candidates(rec.Analysis), rec)
		}
	}
	if h.opts.Prompts != nil {
		if p.Prompt, p.PromptKept, err = h.opts.Prompts.PromptText(ctx, rec.PromptHash); err != nil {
			return requestPage{}, err
		}
	}
	return p, nil
}

// candidates tells, for each model of the table's bucket, what became of
// it in rec: an attempt's status, a capability that filtered it out, or
// not tried. Attempted models outside the bucket (a policy's or a
// budget's order) are added after.
func candidates(models []string, rec router.Record) []candidateRow {
	fate := map[string]string{}
	for _, f := range rec.Filtered {
		fate[f.Model] = "skipped: needs " + f.Capability
	}
	var extra []string
	for _, a := range rec.Attempts {
		s := a.Status
		if s == router.OutcomeOK {
			s = "answered"
		} else if a.Error != "" {
			s += ": " + a.Error
		}
		fate[a.Model] = s
		if !slices.Contains(models, a.Model) && !slices.Contains(extra, a.Model) {
			extra = append(extra, a.Model)
		}
	}
	out := make([]candidateRow, 0, len(models)+len(extra))
	for _, m := range append(slices.Clone(models), extra...) {
		f, ok := fate[m]
		if !ok {
			f = "not tried"
		}
		out = append(out, candidateRow{Model: m, Fate: f})
	}
	return out
}

func (h *handler) request(w http.ResponseWriter, r *http.Request) {
	p, err := h.requestStory(r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "request", p)
}
