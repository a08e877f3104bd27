package web

import (
	"context"
	"fmt"
	"net/http"

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
	// CSRF is set on a dry run that would write a version.
	CSRF string
}

// learnPurpose is the form purpose of a confirmed learner run.
const learnPurpose = router.ActionLearn

// maxAuditNote bounds the run's reason kept in the audit.
const maxAuditNote = 500

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

// learnDryRun fits and gates without writing, and shows what a run would
// do, with the form that runs it.
func (h *handler) learnDryRun(w http.ResponseWriter, r *http.Request) {
	rep, err := h.opts.Learner.Run(r.Context(), true)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p := newLearnPage(rep)
	if rep.Status == learner.RunPromoted || rep.Status == learner.RunKept {
		p.CSRF = h.csrf.issue(session(w, r, true), learnPurpose)
	}
	h.render(w, r, http.StatusOK, "learn", p)
}

// learn runs the learner for real. The run takes the learner lock: while
// the scheduled run (or another replica's) holds it, nothing is done and
// the page says so (409). A run that wrote a version is audited with who
// started it and shows that version.
func (h *handler) learn(w http.ResponseWriter, r *http.Request) {
	if !h.checkForm(w, r, learnPurpose) {
		return
	}
	// The run goes on if the browser leaves: the learner leaves nothing
	// half-done either way, but a finished run is more use.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.opts.LearnTimeout)
	defer cancel()
	rep, err := h.opts.Learner.Run(ctx, false)
	if err != nil {
		h.pageFail(w, r, err)
		return
	}
	p := newLearnPage(rep)
	if rep.Status == learner.RunLocked {
		h.render(w, r, http.StatusConflict, "learn", p)
		return
	}
	e := router.AuditEntry{Action: router.ActionLearn, From: rep.Active.ID, Actor: h.auth.actor(), Address: clientAddress(r),
		Note: truncate(rep.Status+": "+rep.Reason, maxAuditNote)}
	if c := rep.Candidate; c != nil {
		e.To = c.ID
	}
	if h.opts.Audit != nil {
		if _, err := h.opts.Audit.RecordAudit(r.Context(), e); err != nil {
			// The run is done; losing its audit line must not hide that.
			h.log.Error("audit learner run", "err", err)
		}
	}
	h.log.Info("admin ran the learner", "status", rep.Status, "version", e.To, "actor", e.Actor, "address", e.Address)
	if e.To != 0 {
		http.Redirect(w, r, fmt.Sprintf("/admin/versions/%d", e.To), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "learn", p)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
