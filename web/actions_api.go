package web

import (
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// confirmForm is what a script POSTs (form-encoded, as the page does) to
// carry out a planned action: the action's path and its fields. The
// token is bound to the caller's session (bearerSession for a client
// that sends the token in a header) and to this one action, and expires
// like the page's; a change that has moved on since is refused (409) as
// the page's is.
type confirmForm struct {
	Action string            `json:"action"`
	Fields map[string]string `json:"fields"`
}

// confirmJSON is the twin of a confirmation page: the change, the
// buckets whose candidates it changes, and, unless it is a no-op, the
// form that confirms it.
type confirmJSON struct {
	Change  router.Change       `json:"change"`
	Changed []router.BucketDiff `json:"changed"`
	Noop    bool                `json:"noop"`
	Confirm *confirmForm        `json:"confirm,omitempty"`
}

// learnJSON is the twin of the learner page's dry run: the report, the
// gate's sentence, and, when a run would write a version, the form that
// starts it (its run id is single-use).
type learnJSON struct {
	Report  learner.Report      `json:"report"`
	Changed []router.BucketDiff `json:"changed"`
	Why     string              `json:"why,omitempty"`
	Confirm *confirmForm        `json:"confirm,omitempty"`
}

func (h *handler) apiConfirmPromote(w http.ResponseWriter, r *http.Request) {
	h.writeConfirm(w, r, h.planPromotion)
}

func (h *handler) apiConfirmRollback(w http.ResponseWriter, r *http.Request) {
	h.writeConfirm(w, r, h.planRollback)
}

// writeConfirm answers a confirmation page's twin. It reads and changes
// nothing the page would not: a GET is never an action.
func (h *handler) writeConfirm(w http.ResponseWriter, r *http.Request, plan func(http.ResponseWriter, *http.Request) (confirmPage, error)) {
	p, err := plan(w, r)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := confirmJSON{Change: p.C, Changed: nonNil(p.Changed), Noop: p.C.Noop()}
	if p.CSRF != "" {
		out.Confirm = &confirmForm{Action: p.Action, Fields: map[string]string{
			"csrf": p.CSRF, "from": strconv.FormatInt(p.C.From.ID, 10), "to": strconv.FormatInt(p.C.To.ID, 10)}}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiLearnDryRun answers the learner page's twin: a dry run, which
// writes nothing.
func (h *handler) apiLearnDryRun(w http.ResponseWriter, r *http.Request) {
	p, err := h.dryRun(w, r)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := learnJSON{Report: p.R, Changed: nonNil(p.Changed), Why: p.Why}
	if p.CSRF != "" {
		out.Confirm = &confirmForm{Action: "/admin/learn", Fields: map[string]string{"csrf": p.CSRF, "run": p.Run}}
	}
	writeJSON(w, http.StatusOK, out)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
