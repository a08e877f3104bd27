package web

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// AuditLog keeps who changed the active version; *store.Store implements
// it.
type AuditLog interface {
	// Audit returns the entries about a version (from or to it), newest
	// first; version zero returns all.
	Audit(ctx context.Context, version int64, limit int) ([]router.AuditEntry, error)
	// RecordAudit writes an entry that changes no version by itself (a
	// learner run started here).
	RecordAudit(ctx context.Context, e router.AuditEntry) (router.AuditEntry, error)
}

// LearnerRunner runs the learner once (*learner.Job); a run that may
// write takes the learner lock, the one the scheduled run takes too, so
// the button and the cron never learn at once.
type LearnerRunner interface {
	Run(ctx context.Context, dryRun bool) (learner.Report, error)
}

// LearnRuns keeps the learner runs confirmed on the page by their form's
// run id; *store.Store implements it.
type LearnRuns interface {
	// ClaimLearnRun records that run id starts now and returns claimed
	// true, or, when the id was claimed before (on any replica), the
	// run as stored and claimed false.
	ClaimLearnRun(ctx context.Context, id string) (run router.LearnRun, claimed bool, err error)
	// FinishLearnRun stores how a claimed run ended; an unclaimed id is
	// a router.KindNotFound error.
	FinishLearnRun(ctx context.Context, run router.LearnRun) error
}

// historyLen is how many audit entries a version's page lists.
const historyLen = 50

// maxFormBytes bounds a confirmation form's body.
const maxFormBytes = 4 << 10

// defaultLearnTimeout bounds a learner run started from the page.
const defaultLearnTimeout = 10 * time.Minute

// actionRoutes adds the console's actions. Each is a GET that shows what
// would change and a confirmation form, with its JSON twin under
// /admin/api (read-only too: the plan and the form's fields), and a POST
// that checks the form's token and does it; without Changer (or Learner
// and Runs) they answer 404.
func (h *handler) actionRoutes(mux *http.ServeMux) {
	if h.opts.Changer != nil {
		mux.HandleFunc("GET /admin/versions/{id}/promote", h.confirmPromote)
		mux.HandleFunc("GET /admin/api/versions/{id}/promote", h.apiConfirmPromote)
		mux.HandleFunc("POST /admin/versions/{id}/promote", h.promote)
		mux.HandleFunc("GET /admin/rollback", h.confirmRollback)
		mux.HandleFunc("GET /admin/api/rollback", h.apiConfirmRollback)
		mux.HandleFunc("POST /admin/rollback", h.rollback)
	}
	if h.opts.Learner != nil && h.opts.Runs != nil {
		mux.HandleFunc("GET /admin/learn", h.learnDryRun)
		mux.HandleFunc("GET /admin/api/learn", h.apiLearnDryRun)
		mux.HandleFunc("POST /admin/learn", h.learn)
	}
}

// confirmPage shows a planned change and the form that confirms it.
type confirmPage struct {
	C       router.Change
	Changed []router.BucketDiff
	// Action is the form's target; CSRF its token.
	Action, CSRF string
}

// planPromotion is the confirmation of promoting the version the path
// names.
func (h *handler) planPromotion(w http.ResponseWriter, r *http.Request) (confirmPage, error) {
	id, err := parseID(r.PathValue("id"), "id")
	if err != nil {
		return confirmPage{}, err
	}
	c, err := router.PlanPromotion(r.Context(), h.opts.Changer, id)
	if err != nil {
		return confirmPage{}, err
	}
	return h.confirmation(w, r, c, promotePurpose(id), fmt.Sprintf("/admin/versions/%d/promote", id)), nil
}

// planRollback is the confirmation of rolling back.
func (h *handler) planRollback(w http.ResponseWriter, r *http.Request) (confirmPage, error) {
	c, err := router.PlanRollback(r.Context(), h.opts.Changer)
	if err != nil {
		return confirmPage{}, err
	}
	return h.confirmation(w, r, c, router.ActionRollback, "/admin/rollback"), nil
}

// confirmation is c with the form that confirms it; a no-op change gets
// no form token, there being nothing to confirm.
func (h *handler) confirmation(w http.ResponseWriter, r *http.Request, c router.Change, purpose, action string) confirmPage {
	p := confirmPage{C: c, Changed: c.Diff.Changed(), Action: action}
	if !c.Noop() {
		p.CSRF = h.csrf.issue(session(w, r, true), purpose)
	}
	return p
}

func (h *handler) confirmPromote(w http.ResponseWriter, r *http.Request) {
	h.renderConfirm(w, r, h.planPromotion)
}

func (h *handler) confirmRollback(w http.ResponseWriter, r *http.Request) {
	h.renderConfirm(w, r, h.planRollback)
}

func (h *handler) renderConfirm(w http.ResponseWriter, r *http.Request, plan func(http.ResponseWriter, *http.Request) (confirmPage, error)) {
	p, err := plan(w, r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "confirm", p)
}

func promotePurpose(id int64) string { return router.ActionPromote + " v" + strconv.FormatInt(id, 10) }

func (h *handler) promote(w http.ResponseWriter, r *http.Request) {
	id, err := parseID(r.PathValue("id"), "id")
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	if !h.checkForm(w, r, promotePurpose(id)) {
		return
	}
	c, err := router.PlanPromotion(r.Context(), h.opts.Changer, id)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.apply(w, r, c)
}

func (h *handler) rollback(w http.ResponseWriter, r *http.Request) {
	if !h.checkForm(w, r, router.ActionRollback) {
		return
	}
	c, err := router.PlanRollback(r.Context(), h.opts.Changer)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.apply(w, r, c)
}

// apply carries out c when it is still the change the form confirmed
// (the same from and to versions), then shows the version made active,
// whose history now lists the change. A form confirmed twice, or against
// a page gone stale, changes nothing: 409.
func (h *handler) apply(w http.ResponseWriter, r *http.Request, c router.Change) {
	from, err := formID(r, "from", true)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	to, err := formID(r, "to", false)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	if from != c.From.ID || to != c.To.ID {
		h.pageFail(w, r, router.Errorf(router.KindConflict, "from",
			"this confirmation was for %s -> v%d, but the change is now %s -> v%d (confirmed twice, or changed meanwhile): nothing was done",
			vname(from), to, vname(c.From.ID), c.To.ID))
		return
	}
	if c.Noop() {
		h.pageFail(w, r, router.Errorf(router.KindConflict, "to", "v%d is already the active version: nothing was done", c.To.ID))
		return
	}
	who, err := h.who(r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	e, err := router.Apply(r.Context(), h.opts.Changer, c, who)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.log.Info("admin changed the active version", "action", e.Action, "from", e.From, "to", e.To, "actor", e.Actor, "label", e.Label, "address", e.Address)
	if h.opts.OnActivate != nil {
		// Swap it in here at once; other replicas poll for it.
		if err := h.opts.OnActivate(r.Context(), c.To); err != nil {
			h.log.Error("activate promoted version", "version", c.To.ID, "err", err)
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/versions/%d", c.To.ID), http.StatusSeeOther)
}

// checkForm parses a POSTed form and checks its token for purpose; a
// refusal is answered 403 naming why, before anything is read or
// changed.
func (h *handler) checkForm(w http.ResponseWriter, r *http.Request, purpose string) bool {
	if !h.parseForm(w, r) {
		return false
	}
	if err := h.csrf.check(session(w, r, false), purpose, r.PostForm.Get("csrf")); err != nil {
		h.log.Warn("admin form refused", "path", r.URL.Path, "reason", err, "address", clientAddress(r))
		msg := "refused (CSRF protection): " + err.Error() + "; open the page again and confirm from there. Nothing was changed."
		h.render(w, r, http.StatusForbidden, "error", errorPage{Status: http.StatusForbidden, Message: msg})
		return false
	}
	return true
}

// parseForm reads a POSTed form, at most maxFormBytes, once: a second
// call finds it read. An unreadable form is answered 400.
func (h *handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if r.PostForm != nil {
		return true
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.pageFail(w, r, router.Errorf(router.KindInvalid, "form", "form: unreadable or over %d bytes", maxFormBytes))
		return false
	}
	return true
}

// labelHeader lets a script name the operator behind the admin token, as
// the forms' "label" field lets a person.
const labelHeader = "X-Admin-User"

// maxLabel bounds a label, in characters.
const maxLabel = 64

// who is the audit's account of whoever sent r: the token's name (the
// only thing authenticated), the client's address, and the label they
// gave themselves, if any. Every holder of the token can write any
// label, so it tells honest colleagues apart and proves nothing. A
// label too long, or with control characters, is a KindInvalid error.
func (h *handler) who(r *http.Request) (router.AuditEntry, error) {
	label := strings.TrimSpace(r.Header.Get(labelHeader))
	if f := strings.TrimSpace(r.PostFormValue("label")); f != "" {
		label = f
	}
	if label != "" {
		if err := router.CheckID("label", label); err != nil {
			return router.AuditEntry{}, err
		}
		if n := utf8.RuneCountInString(label); n > maxLabel {
			return router.AuditEntry{}, router.Errorf(router.KindInvalid, "label", "at most %d characters, got %d", maxLabel, n)
		}
	}
	return router.AuditEntry{Actor: h.auth.actor(), Address: clientAddress(r), Label: label}, nil
}

// formID reads a version id from the POSTed form; zero is allowed where
// zeroOK (no version was active).
func formID(r *http.Request, field string, zeroOK bool) (int64, error) {
	s := r.PostForm.Get(field)
	if zeroOK && s == "0" {
		return 0, nil
	}
	return parseID(s, field)
}

// clientAddress is the request's peer address, without its port.
// Forwarded headers are not trusted: anyone can set them.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// vname is "v7", or "none" for zero.
func vname(id int64) string {
	if id == 0 {
		return "none"
	}
	return "v" + strconv.FormatInt(id, 10)
}

// history is the audit of version id, newest first; empty without an
// audit log.
func (h *handler) history(ctx context.Context, id int64) ([]router.AuditEntry, error) {
	if h.opts.Audit == nil {
		return []router.AuditEntry{}, nil
	}
	return h.opts.Audit.Audit(ctx, id, historyLen)
}
