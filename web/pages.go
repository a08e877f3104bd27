package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/router"
)

// listedVersions is how many versions the overview lists.
const listedVersions = 20

// evidence is a success rate as the page shows it: with its 95% interval
// and sample count, and marked thin below the learner's min_samples.
type evidence struct {
	Rate, Lo, Hi string
	N            int
	Thin         bool
}

// parseTemplates parses each page together with the shared layout;
// minSamples is what the learner calls enough evidence.
func parseTemplates(minSamples int) map[string]*template.Template {
	funcs := template.FuncMap{
		"ev": func(rate float64, n int) evidence {
			lo, hi := router.SuccessInterval(rate, n)
			return evidence{Rate: fmt.Sprintf("%.3f", rate), Lo: fmt.Sprintf("%.2f", lo), Hi: fmt.Sprintf("%.2f", hi), N: n, Thin: n < minSamples}
		},
		"minSamples": func() int { return minSamples },
		"usd":        usd,
		"rate":       func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"chain":      func(ms []string) string { return strings.Join(ms, " > ") },
		"join":       func(ms []string) string { return strings.Join(ms, ", ") },
		"bucket": func(r router.Record) string {
			if r.Complexity == "" {
				return "-"
			}
			return router.BucketOf(r.Complexity, r.Category)
		},
		// policy is a version's per-prompt policy in a few words.
		"policy": func(p *router.PromptPolicy) string {
			if p == nil {
				return "none (the bucket table routes)"
			}
			return p.Point.String() + " over " + strings.Join(p.Models, " < ")
		},
		"short": func(digest string) string {
			if digest == "" {
				return "(none)"
			}
			return digest[:min(12, len(digest))]
		},
		"when": when,
	}
	out := map[string]*template.Template{}
	funcs["vname"] = vname
	for _, page := range []string{"overview", "version", "diff", "error", "requests", "request", "confirm", "learn"} {
		out[page] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/changes.html", "templates/"+page+".html"))
	}
	return out
}

// when shows t as a <time> in UTC, its exact instant in datetime for
// static/time.js to show in the viewer's zone (UTC then moves to the
// title, on hover); "-" for the zero time.
func when(t time.Time) template.HTML {
	if t.IsZero() {
		return "-"
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `">` + u.Format("2006-01-02 15:04 UTC") + `</time>`) //nolint:gosec // digits and fixed text only
}

// render executes page into a buffer first, so a template error becomes
// a 500 rather than half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := h.tmpl[page].Execute(&buf, data); err != nil {
		h.log.Error("render admin page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w) // the client went away; nothing to do
}

type errorPage struct {
	Status  int
	Message string
}

// spendRow is one day (or the week) of spend; Savings comes from
// router.Spend.Savings.
type spendRow struct {
	Date     string
	Prompts  int
	Total    router.Micros
	Baseline router.Micros
	Savings  router.Micros
	// SavingsPct is empty without a baseline cost.
	SavingsPct string
	// EmptyDays is how many consecutive days without traffic this row
	// stands for (Date then names the first and last); zero for a day
	// with traffic.
	EmptyDays int
}

// usd shows an amount in units that suit its size: cents for dollars,
// four decimals for cents, microdollars (the store's unit) below a cent,
// where one request's cost usually lies; zero is "$0".
func usd(m router.Micros) string {
	v := m.USD()
	a := math.Abs(v)
	switch {
	case m == 0:
		return "$0"
	case a >= 1:
		return fmt.Sprintf("$%.2f", v)
	case a >= 0.01:
		return fmt.Sprintf("$%.4f", v)
	default:
		return fmt.Sprintf("$%.6f", v)
	}
}

// collapseEmpty folds each run of days without traffic into one row, so
// a quiet week is one line rather than seven rows of $0.
func collapseEmpty(days []router.Spend) []spendRow {
	var out []spendRow
	for _, d := range days {
		if d.Prompts > 0 || d.Total != 0 {
			out = append(out, toRow(d))
			continue
		}
		if n := len(out); n > 0 && out[n-1].EmptyDays > 0 {
			last := &out[n-1]
			first, _, _ := strings.Cut(last.Date, " ")
			last.EmptyDays++
			last.Date = first + " to " + d.Date
			continue
		}
		out = append(out, spendRow{Date: d.Date, EmptyDays: 1})
	}
	return out
}

func toRow(s router.Spend) spendRow {
	row := spendRow{Date: s.Date, Prompts: s.Prompts, Total: s.Total, Baseline: s.Baseline, Savings: s.Savings()}
	if s.Baseline > 0 {
		row.SavingsPct = fmt.Sprintf("%+.1f%%", 100*float64(s.Savings())/float64(s.Baseline))
	}
	return row
}

type overviewPage struct {
	Active    router.Version
	Versions  []router.Version
	Providers []router.ProviderHealth
	Baseline  string
	Today     spendRow
	Days      []spendRow
	Week      spendRow
	Evals     []evalRow
	Keys      []keyRow
	Charts    chartSet
	ChartFrom string
	ChartTo   string
	// Actions and Learn say the page offers promotion and rollback, and
	// a learner run.
	Actions, Learn bool
}

type evalRow struct {
	ID      int64
	Created time.Time
	Dataset string
	Params  string
}

func (h *handler) overview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := overviewPage{Actions: h.opts.Changer != nil, Learn: h.opts.Learner != nil}
	var err error
	if p.Active, err = h.opts.Versions.ActiveVersion(ctx); err != nil {
		h.pageFail(w, r, err)
		return
	}
	if p.Versions, err = h.opts.Versions.ListVersions(ctx); err != nil {
		h.pageFail(w, r, err)
		return
	}
	versions := p.Versions
	if len(p.Versions) > listedVersions {
		p.Versions = p.Versions[:listedVersions]
	}
	if h.opts.Providers != nil {
		p.Providers = h.opts.Providers()
	}
	p.Baseline = h.opts.Baseline
	today := h.opts.Now().UTC()
	days, err := h.spend(r, today.AddDate(0, 0, -(spendDays-1)), today)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	// The week's row is the sum of the days, its savings still
	// router.Spend's.
	p.Today = spendRow{Date: today.Format(time.DateOnly)}
	p.Days = collapseEmpty(days)
	for _, d := range days {
		if d.Date == p.Today.Date {
			p.Today = toRow(d)
		}
	}
	p.Week = toRow(router.SumSpend(fmt.Sprintf("last %d days", spendDays), days))
	runs, err := h.evalRuns(ctx)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	for _, run := range runs[:min(len(runs), recentEvalRuns)] {
		p.Evals = append(p.Evals, evalRow{ID: run.ID, Created: run.CreatedAt, Dataset: run.Dataset, Params: string(run.Params)})
	}
	cd, err := h.charts(ctx, versions, runs)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p.Charts, p.ChartFrom, p.ChartTo = cd.draw(), cd.From, cd.To
	if p.Keys, err = h.keyRows(ctx); err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "overview", p)
}

// evalRuns lists the latest eval runs, as many as the learning curves
// may plot; none without an EvalRuns.
func (h *handler) evalRuns(ctx context.Context) ([]router.EvalRun, error) {
	if h.opts.Evals == nil {
		return nil, nil
	}
	return h.opts.Evals.ListEvalRuns(ctx, maxLearningRuns)
}

func (h *handler) spend(r *http.Request, from, to time.Time) ([]router.Spend, error) {
	return h.opts.Spend.Spend(r.Context(), from, to)
}

// statRow is one (bucket, model) line of a version's provenance.
type statRow struct {
	Bucket string
	Model  string
	Stat   router.ModelStat
}

type bucketRow struct {
	Bucket string
	Models []string
}

type paramRow struct {
	Name  string
	Value float64
}

type versionPage struct {
	V       router.Version
	Buckets []bucketRow
	Stats   []statRow
	Params  []paramRow
	// History is who made the version active or moved away from it;
	// Actions says the page may offer promotion and rollback.
	History []router.AuditEntry
	Actions bool
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r.PathValue("id"), "id")
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	v, err := h.opts.Versions.GetVersion(r.Context(), id)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p := versionPage{V: v, Actions: h.opts.Changer != nil}
	if p.History, err = h.history(r.Context(), id); err != nil {
		h.pageFail(w, r, err)
		return
	}
	for _, b := range sortedKeys(v.Table) {
		p.Buckets = append(p.Buckets, bucketRow{Bucket: b, Models: v.Table[b]})
	}
	for _, b := range sortedKeys(v.Provenance.Stats) {
		for _, m := range sortedKeys(v.Provenance.Stats[b]) {
			p.Stats = append(p.Stats, statRow{Bucket: b, Model: m, Stat: v.Provenance.Stats[b][m]})
		}
	}
	for _, n := range sortedKeys(v.Provenance.Params) {
		p.Params = append(p.Params, paramRow{Name: n, Value: v.Provenance.Params[n]})
	}
	h.render(w, r, http.StatusOK, "version", p)
}

type diffPage struct {
	A, B      router.Version
	D         router.TableDiff
	Changed   []router.BucketDiff
	Unchanged []string
}

func (h *handler) diff(w http.ResponseWriter, r *http.Request) {
	a, b, err := h.diffVersions(r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p := diffPage{A: a, B: b, D: router.Diff(a, b)}
	p.Changed = p.D.Changed()
	for _, bd := range p.D.Buckets {
		if !bd.Changed() {
			p.Unchanged = append(p.Unchanged, bd.Bucket)
		}
	}
	h.render(w, r, http.StatusOK, "diff", p)
}

// diffVersions reads ?a= and ?b=: b defaults to the active version, a to
// b's parent, or to b itself when b has none.
func (h *handler) diffVersions(r *http.Request) (router.Version, router.Version, error) {
	ctx := r.Context()
	q := r.URL.Query()
	var b router.Version
	var err error
	if s := q.Get("b"); s != "" {
		id, err := parseID(s, "b")
		if err != nil {
			return router.Version{}, router.Version{}, err
		}
		b, err = h.opts.Versions.GetVersion(ctx, id)
		if err != nil {
			return router.Version{}, router.Version{}, err
		}
	} else if b, err = h.opts.Versions.ActiveVersion(ctx); err != nil {
		return router.Version{}, router.Version{}, err
	}
	aID := b.ParentID
	if s := q.Get("a"); s != "" {
		if aID, err = parseID(s, "a"); err != nil {
			return router.Version{}, router.Version{}, err
		}
	}
	if aID == 0 {
		// The first version has no parent: compared with itself it shows
		// every bucket unchanged rather than an error (the header's
		// "Latest diff" link on a fresh install).
		return b, b, nil
	}
	a, err := h.opts.Versions.GetVersion(ctx, aID)
	if err != nil {
		return router.Version{}, router.Version{}, err
	}
	return a, b, nil
}

// parseID reads a positive version id.
func parseID(s, field string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, router.Errorf(router.KindInvalid, field, "%s: want a positive version number", field)
	}
	return id, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
