package router

import (
	"context"
	"fmt"
	"time"
)

// Actions an audit entry records.
const (
	// ActionPromote made a chosen version the active one.
	ActionPromote = "promote"
	// ActionRollback went back to RollbackTarget of the active version.
	ActionRollback = "rollback"
	// ActionLearn is a learner run started by hand; To is the version it
	// wrote (zero when it wrote none) and Note what it did.
	ActionLearn = "learn"
)

// AuditEntry is one change of the active version, or one learner run an
// operator started: who, when, from where, from which version to which.
type AuditEntry struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	// From is the version that was active; zero when none was.
	From int64 `json:"from,omitempty"`
	// To is the version made active (or, for ActionLearn, written).
	To int64 `json:"to,omitempty"`
	// Actor names who did it: "admin token <hash prefix>", "cli:<user>",
	// "learner". Never a secret.
	Actor string `json:"actor"`
	// Address is the client's network address for changes made over
	// HTTP.
	Address string `json:"address,omitempty"`
	Note    string `json:"note,omitempty"`
	// Label is what the operator called themselves (the admin page's
	// X-Admin-User header or form field), kept beside Actor. It is a
	// claim nobody checked: anyone holding the token may write any label.
	Label string `json:"label,omitempty"`
}

// LearnRun is a learner run confirmed by one admin form, kept under the
// form's run id so that the form, submitted again, runs nothing and is
// shown this run instead.
type LearnRun struct {
	ID      string    `json:"run_id"`
	Started time.Time `json:"started_at"`
	// Finished is zero while the run goes on.
	Finished time.Time `json:"finished_at,omitzero"`
	// Status and Reason are the run's (learner.Report); Version is the
	// candidate it wrote, zero when none.
	Status  string `json:"status,omitempty"`
	Version int64  `json:"version,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Change is a planned change of the active version: what an operator is
// asked to confirm, and what Activate then does.
type Change struct {
	Action string `json:"action"`
	// From is the active version when the change was planned (zero ID
	// when none is); the change applies only while it still is.
	From Version   `json:"from"`
	To   Version   `json:"to"`
	Diff TableDiff `json:"diff"`
}

// Noop reports whether To is already the active version.
func (c Change) Noop() bool { return c.From.ID == c.To.ID }

// VersionChanger is what planning and applying a change needs of the
// version store.
type VersionChanger interface {
	// ActiveVersion returns the active version; a KindNotFound error
	// when none is.
	ActiveVersion(ctx context.Context) (Version, error)
	// GetVersion returns a version; a KindNotFound error when unknown.
	GetVersion(ctx context.Context, id int64) (Version, error)
	// ListVersions returns every version, newest first.
	ListVersions(ctx context.Context) ([]Version, error)
	// Activate makes version e.To active and records e, in one
	// transaction, only while version e.From is the active one (zero:
	// none is); otherwise it is a KindConflict error and nothing
	// changes. It returns e as stored (ID and At set).
	Activate(ctx context.Context, e AuditEntry) (AuditEntry, error)
}

// PlanPromotion plans making version id the active one.
func PlanPromotion(ctx context.Context, vs VersionChanger, id int64) (Change, error) {
	to, err := vs.GetVersion(ctx, id)
	if err != nil {
		return Change{}, fmt.Errorf("plan promotion: %w", err)
	}
	from, err := activeOrNone(ctx, vs)
	if err != nil {
		return Change{}, fmt.Errorf("plan promotion: %w", err)
	}
	return Change{Action: ActionPromote, From: from, To: to, Diff: Diff(from, to)}, nil
}

// PlanRollback plans going back to RollbackTarget of the active version.
func PlanRollback(ctx context.Context, vs VersionChanger) (Change, error) {
	from, err := vs.ActiveVersion(ctx)
	if err != nil {
		return Change{}, fmt.Errorf("plan rollback: %w", err)
	}
	all, err := vs.ListVersions(ctx)
	if err != nil {
		return Change{}, fmt.Errorf("plan rollback: %w", err)
	}
	to, err := RollbackTarget(from, all)
	if err != nil {
		return Change{}, fmt.Errorf("plan rollback: %w", err)
	}
	return Change{Action: ActionRollback, From: from, To: to, Diff: Diff(from, to)}, nil
}

// Apply carries out c for who (its Actor, Address, empty outside HTTP,
// and Label are kept; the rest comes from c): the version becomes active and the audit entry is written together, only
// while c.From is still the active version, so a change confirmed
// against a page that has gone stale, or submitted twice, changes
// nothing and is a KindConflict error. A no-op change writes nothing and
// returns a zero entry.
func Apply(ctx context.Context, vs VersionChanger, c Change, who AuditEntry) (AuditEntry, error) {
	if c.Noop() {
		return AuditEntry{}, nil
	}
	e, err := vs.Activate(ctx, AuditEntry{Action: c.Action, From: c.From.ID, To: c.To.ID, Actor: who.Actor, Address: who.Address, Label: who.Label})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("%s v%d: %w", c.Action, c.To.ID, err)
	}
	return e, nil
}

// activeOrNone is the active version, or a zero Version when none is.
func activeOrNone(ctx context.Context, vs VersionChanger) (Version, error) {
	v, err := vs.ActiveVersion(ctx)
	if KindOf(err) == KindNotFound {
		return Version{}, nil
	}
	return v, err
}
