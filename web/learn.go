package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// learnPage is a learner run's report: a dry run with the form that
// starts the real run, or the real run's outcome.
type learnPage struct {
	R       learner.Report
	Changed []router.BucketDiff
	// Why is the gate's verdict in one sentence; empty without one.
	Why string
	// Run and CSRF are set on a dry run that would write a version: the
	// form's run id and its token.
	Run, CSRF string
}

// learnPurpose is the form purpose of a confirmed learner run: the
// token is bound to the form's run id, so a run id cannot be swapped
// for another without a new token.
func learnPurpose(run string) string { return router.ActionLearn + " run " + run }

// maxAuditNote bounds the run's reason kept in the audit.
const maxAuditNote = 500

// runFailed is the status kept for a confirmed run that ended in an
// error (the learner's own statuses say what a run that ended did).
const runFailed = "failed"

func newLearnPage(rep learner.Report) learnPage {
	p := learnPage{R: rep}
	if rep.Diff != nil {
		p.Changed = rep.Diff.Changed()
		p.Why = rep.Diff.Why
	}
	if p.Why == "" && rep.Verdict != nil {
		p.Why = rep.Verdict.Explain()
	}
	return p
}

// dryRun fits and gates without writing: what a run would do, with a
// fresh run id and its token when the run would write a version.
func (h *handler) dryRun(w http.ResponseWriter, r *http.Request) (learnPage, error) {
	rep, err := h.opts.Learner.Run(r.Context(), true)
	if err != nil {
		return learnPage{}, err
	}
	p := newLearnPage(rep)
	if rep.Status == learner.RunPromoted || rep.Status == learner.RunKept {
		p.Run = randomID()
		p.CSRF = h.csrf.issue(session(w, r, true), learnPurpose(p.Run))
	}
	return p, nil
}

// learnDryRun shows what a run would do, with the form that runs it.
func (h *handler) learnDryRun(w http.ResponseWriter, r *http.Request) {
	p, err := h.dryRun(w, r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "learn", p)
}

// learn runs the learner for real, once per form: the form's run id is
// claimed before the run starts, so the same form submitted again (a
// double click, a reload, on any replica) runs nothing and is answered
// 409 with the first submission's result. The run takes the learner
// lock: while the scheduled run (or another replica's) holds it, nothing
// is done and the page says so (409). A run that wrote a version is
// audited with who started it and shows that version.
func (h *handler) learn(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	id := r.PostForm.Get("run")
	if !h.checkForm(w, r, learnPurpose(id)) {
		return
	}
	who, err := h.who(r)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	// The run goes on if the browser leaves: the learner leaves nothing
	// half-done either way, but a finished run is more use, and its
	// record must say how it ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.opts.LearnTimeout)
	defer cancel()
	prev, claimed, err := h.opts.Runs.ClaimLearnRun(ctx, id)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	if !claimed {
		h.pageFail(w, r, router.Errorf(router.KindConflict, "run", "%s", submittedBefore(prev)))
		return
	}
	rep, err := h.opts.Learner.Run(ctx, false)
	done := router.LearnRun{ID: id, Status: rep.Status, Reason: truncate(rep.Reason, maxAuditNote)}
	if err != nil {
		done.Status, done.Reason = runFailed, "the run ended in an error (the server's log has it)"
	}
	if c := rep.Candidate; c != nil {
		done.Version = c.ID
	}
	if ferr := h.opts.Runs.FinishLearnRun(ctx, done); ferr != nil {
		// The run is over; a resubmission will read it as still going.
		h.log.Error("record learner run", "run", id, "err", ferr)
	}
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p := newLearnPage(rep)
	if rep.Status == learner.RunLocked {
		h.render(w, r, http.StatusConflict, "learn", p)
		return
	}
	e := who
	e.Action, e.From, e.To = router.ActionLearn, rep.Active.ID, done.Version
	e.Note = truncate(rep.Status+": "+rep.Reason, maxAuditNote)
	if h.opts.Audit != nil {
		if _, err := h.opts.Audit.RecordAudit(ctx, e); err != nil {
			// The run is done; losing its audit line must not hide that.
			h.log.Error("audit learner run", "err", err)
		}
	}
	h.log.Info("admin ran the learner", "status", rep.Status, "version", e.To, "actor", e.Actor, "label", e.Label, "address", e.Address)
	if e.To != 0 {
		http.Redirect(w, r, fmt.Sprintf("/admin/versions/%d", e.To), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "learn", p)
}

// submittedBefore tells a second submission of a form what the first
// one's run did.
func submittedBefore(run router.LearnRun) string {
	const again = " Nothing more was done; open the learner page again for a new run."
	at := run.Started.UTC().Format(time.RFC3339)
	if run.Finished.IsZero() {
		return "this form was already submitted at " + at + " and that learner run is still going." + again
	}
	out := "this form was already submitted at " + at + ": that learner run ended " + run.Status
	if run.Version != 0 {
		out += fmt.Sprintf(", writing v%d (/admin/versions/%d)", run.Version, run.Version)
	}
	if run.Reason != "" {
		out += " (" + run.Reason + ")"
	}
	return out + "." + again
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
