// Package web is Switchyard's admin page: routing-table versions and
// their diffs, spend and savings, eval runs and provider health, rendered
// with html/template from what the domain computes (router.Diff,
// router.Spend.Savings). It is a plain net/http handler, mounted by
// internal/httpapi at /admin, and computes nothing of its own.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/internal/edge"
	"github.com/switchyard/switchyard/router"
)

//go:embed templates/*.html
var templateFS embed.FS

// timeScript shows times in the viewer's zone (static/time.js says how).
//
//go:embed static/time.js
var timeScript []byte

// Versions reads routing-table versions; *store.Store implements it.
type Versions interface {
	ListVersions(ctx context.Context) ([]router.Version, error)
	GetVersion(ctx context.Context, id int64) (router.Version, error)
	ActiveVersion(ctx context.Context) (router.Version, error)
}

// SpendReader reports spend per UTC day in [from, to]; *store.Store
// implements it.
type SpendReader interface {
	Spend(ctx context.Context, from, to time.Time) ([]router.Spend, error)
}

// EvalRuns lists stored eval runs, newest first; *store.Store implements
// it.
type EvalRuns interface {
	ListEvalRuns(ctx context.Context, limit int) ([]router.EvalRun, error)
}

// Options are the admin page's collaborators.
type Options struct {
	// Token is the admin token; empty disables the page (every request
	// answers 404 saying so).
	Token    string
	Versions Versions
	Spend    SpendReader
	// Evals is optional; nil leaves the eval-runs section empty.
	Evals EvalRuns
	// Providers reports provider health (router.Service.Providers);
	// optional.
	Providers func() []router.ProviderHealth
	// Keys lists API keys with their spend; nil leaves the keys section
	// out.
	Keys KeyReader
	// Baseline names the model savings are measured against.
	Baseline string
	// Requests is optional; nil leaves the request explorer answering
	// 404.
	Requests RequestReader
	// Prompts is optional and set only when prompts are kept: nil shows
	// no prompt text.
	Prompts PromptReader
	// Traffic and Signals feed the overview's traffic, quality and
	// version charts; either may be nil, leaving what it feeds empty.
	Traffic TrafficReader
	Signals SignalReader
	// MinSamples is the learner's min_samples: a success rate on fewer
	// samples is marked thin. Zero uses defaultMinSamples.
	MinSamples int
	Logger     *slog.Logger
	Now        func() time.Time

	// Changer promotes and rolls back (router.Apply, audited); nil
	// leaves the page read-only.
	Changer router.VersionChanger
	// Audit lists a version's history and records learner runs started
	// here; nil shows no history.
	Audit AuditLog
	// Learner runs the learner from the page; nil leaves it out, and so
	// does a nil Runs, which keeps each confirmed run under its form's
	// run id so that the form submitted twice runs the learner once.
	Learner LearnerRunner
	Runs    LearnRuns
	// LearnTimeout bounds a run started here; zero is 10 minutes.
	LearnTimeout time.Duration
	// OnActivate swaps a version promoted or rolled back here into this
	// replica's routing at once (others poll); optional.
	OnActivate func(ctx context.Context, v router.Version) error
}

// defaultMinSamples is the learner's default min_samples.
const defaultMinSamples = 30

// recentEvalRuns is how many eval runs the overview lists.
const recentEvalRuns = 10

// spendDays is how many days the overview's spend table covers.
const spendDays = 7

// maxSpendDays bounds /admin/api/spend so one request cannot ask for
// decades.
const maxSpendDays = 366

type handler struct {
	opts Options
	log  *slog.Logger
	auth *auth
	csrf *csrf
	tmpl map[string]*template.Template
	mux  *http.ServeMux
}

// New returns the admin page's handler, expecting paths under /admin.
func New(opts Options) http.Handler {
	if opts.Token == "" {
		return disabled{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MinSamples <= 0 {
		opts.MinSamples = defaultMinSamples
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LearnTimeout <= 0 {
		opts.LearnTimeout = defaultLearnTimeout
	}
	h := &handler{opts: opts, log: opts.Logger, auth: newAuth(opts.Token), csrf: newCSRF(opts.Token, opts.Now), tmpl: parseTemplates(opts.MinSamples)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin", h.overview)
	mux.HandleFunc("GET /admin/{$}", h.overview)
	mux.HandleFunc("GET /admin/versions/{id}", h.version)
	mux.HandleFunc("GET /admin/diff", h.diff)
	mux.HandleFunc("GET /admin/api/versions", h.apiVersions)
	mux.HandleFunc("GET /admin/api/versions/{id}", h.apiVersion)
	mux.HandleFunc("GET /admin/api/diff", h.apiDiff)
	mux.HandleFunc("GET /admin/api/spend", h.apiSpend)
	mux.HandleFunc("GET /admin/api/charts", h.apiCharts)
	mux.HandleFunc("GET /admin/static/time.js", serveTimeScript)
	mux.HandleFunc("GET /admin/api/keys", h.apiKeys)
	mux.HandleFunc("GET /admin/requests", h.requests)
	mux.HandleFunc("GET /admin/requests/{id}", h.request)
	mux.HandleFunc("GET /admin/api/requests", h.apiRequests)
	mux.HandleFunc("GET /admin/api/requests/{id}", h.apiRequest)
	h.actionRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path, "not_found")
	})
	h.mux = mux
	return h
}

// ServeHTTP authenticates before anything else: no collaborator is asked
// anything for a request without the token (FAULTS.md B6).
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// form-action: the console's forms (promote, roll back, learn) post
	// only to this page, even if markup were ever injected.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if !h.auth.serve(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// serveTimeScript serves static/time.js, the page's one script: CSP
// allows scripts from this origin only, never inline.
func serveTimeScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write(timeScript) // the client went away; nothing to do
}

// disabled answers every request while no admin token is configured: the
// page is off rather than open to all.
type disabled struct{}

func (disabled) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	writeJSONError(w, http.StatusNotFound, "the admin page is disabled: set the variable server.admin_token_env names (SWITCHYARD_ADMIN_TOKEN by default)", "admin_disabled")
}

// writeJSONError writes OpenAI's error envelope, as the rest of the API
// does.
func writeJSONError(w http.ResponseWriter, status int, message, code string) {
	typ := "invalid_request_error"
	switch {
	case status == http.StatusUnauthorized:
		typ = "authentication_error"
	case status >= 500:
		typ = "server_error"
	}
	writeJSON(w, status, edge.ErrorBody(message, typ, "", code))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

// statusOf maps a collaborator's error to a status and the message the
// client may see, in the edge's one vocabulary (internal/edge); only
// *router.Error messages are shown.
func (h *handler) statusOf(r *http.Request, err error) (int, string) {
	e := edge.ClientError(err)
	status := edge.Status(e.Kind)
	if status >= 500 {
		h.log.Error("admin request failed", "path", r.URL.Path, "err", err)
	}
	return status, e.Message
}

// apiFail writes err for a JSON route.
func (h *handler) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.statusOf(r, err)
	writeJSONError(w, status, msg, http.StatusText(status))
}

// pageFail renders err for an HTML route.
func (h *handler) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := h.statusOf(r, err)
	h.render(w, r, status, "error", errorPage{Status: status, Message: msg})
}
