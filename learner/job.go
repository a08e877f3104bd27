package learner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/router"
)

// ObservationSource reads the outcomes a run learns from.
type ObservationSource interface {
	// Observations returns the outcomes of requests served in [from, to).
	Observations(ctx context.Context, from, to time.Time) ([]router.Observation, error)
}

// VersionStore keeps routing-table versions.
type VersionStore interface {
	// ActiveVersion returns the active version (a KindNotFound error when
	// there is none).
	ActiveVersion(ctx context.Context) (router.Version, error)
	// ListVersions returns every version, newest first.
	ListVersions(ctx context.Context) ([]router.Version, error)
	// CreateVersion stores a version whole, in one transaction, and
	// returns it with its id.
	CreateVersion(ctx context.Context, v router.Version) (router.Version, error)
	// PromoteOver makes version id active and retires the one that was,
	// in one transaction, only while version expect is still the active
	// one (an operator may have promoted another meanwhile); otherwise it
	// returns an error and changes nothing.
	PromoteOver(ctx context.Context, id, expect int64) error
}

// Locker makes sure only one learner runs across replicas.
type Locker interface {
	// TryLearnerLock takes the lock without waiting; ok is false when
	// another learner holds it. An error means the lock is not held.
	TryLearnerLock(ctx context.Context) (unlock func(), ok bool, err error)
}

// JobOptions are a Job's collaborators and settings.
type JobOptions struct {
	Outcomes ObservationSource
	Versions VersionStore
	// Lock is taken for every run that may write; nil runs unlocked.
	Lock Locker
	// Window is how far back outcomes are read; zero means 7 days.
	Window time.Duration
	// Fit tunes the fit; without KeepQuality, a zero Target takes
	// DefaultOptions' (a live table is never fitted to "anything goes").
	// A zero Evidence takes Gate.MinSamples.
	Fit  Options
	Gate GateOptions
	// Models, when set, restricts learning to the configured models and
	// checks the fitted table against them.
	Models router.Catalog
	// Labeled, when set, loads the labeled dataset the gate replays too;
	// it is called once a run.
	Labeled func(ctx context.Context) (LabeledSet, error)
	// Local trains the local classifier with each table; see
	// LocalOptions.
	Local LocalOptions
	// OnPromote is told of a version this job promoted (serve swaps it
	// in at once rather than at its next poll).
	OnPromote func(router.Version)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Job is the learner: read a window of outcomes, fit a table, write it
// as a candidate version and promote it if the gate agrees.
type Job struct {
	opts JobOptions
}

// DefaultWindow is how far back a run reads outcomes by default.
const DefaultWindow = 7 * 24 * time.Hour

// NewJob returns a Job; Outcomes and Versions are required.
func NewJob(opts JobOptions) (*Job, error) {
	if opts.Outcomes == nil || opts.Versions == nil {
		return nil, errors.New("learner job: outcomes and versions are required")
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	d := DefaultGateOptions()
	if opts.Gate.MinSamples <= 0 {
		opts.Gate.MinSamples = d.MinSamples
	}
	if opts.Gate.MaxWeight <= 0 {
		opts.Gate.MaxWeight = d.MaxWeight
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Fit.Target == 0 && opts.Fit.KeepQuality == 0 {
		opts.Fit.Target = DefaultOptions().Target
	}
	if opts.Fit.Evidence == 0 {
		// What the fit calls enough samples is what the gate does.
		opts.Fit.Evidence = opts.Gate.MinSamples
	}
	if opts.Local.MinSamples <= 0 {
		opts.Local.MinSamples = DefaultLocalMinSamples
	}
	if opts.Local.Train.CategoryMin == 0 {
		opts.Local.Train.CategoryMin = DefaultLocalLabelMin
	}
	if opts.Local.Train.TopicMin == 0 {
		opts.Local.Train.TopicMin = DefaultLocalLabelMin
	}
	if opts.Local.Train.Seed == 0 {
		opts.Local.Train.Seed = 1
	}
	if _, err := opts.Fit.withDefaults(); err != nil {
		return nil, fmt.Errorf("learner job: %w", err)
	}
	return &Job{opts: opts}, nil
}

// Run statuses: what a run did.
const (
	// RunPromoted: a candidate was written and promoted.
	RunPromoted = "promoted"
	// RunKept: a candidate was written; the gate refused it (Note says why).
	RunKept = "kept"
	// RunUnchanged: the fitted table is the active one, or the candidate
	// already kept for it; nothing written.
	RunUnchanged = "unchanged"
	// RunNoData: no usable outcome in the window; nothing written.
	RunNoData = "no_data"
	// RunLocked: another learner is running; nothing done.
	RunLocked = "locked"
)

// Report is what one run did and why.
type Report struct {
	Status string `json:"status"`
	DryRun bool   `json:"dry_run"`
	// Reason says why, in a sentence.
	Reason       string    `json:"reason"`
	WindowFrom   time.Time `json:"window_from"`
	WindowTo     time.Time `json:"window_to"`
	Observations int       `json:"observations"`
	// Requests is how many logged requests the gate replayed.
	Requests  int               `json:"requests"`
	Active    router.Version    `json:"active"`
	Candidate *router.Version   `json:"candidate,omitempty"`
	Diff      *router.TableDiff `json:"diff,omitempty"`
	Verdict   *Verdict          `json:"verdict,omitempty"`
	// Local is what the run did about the local classifier; nil when
	// training is off.
	Local *LocalReport `json:"local,omitempty"`
	// Policy is what the run did about the per-prompt policy; nil when
	// no local model was trained.
	Policy *PolicyReport `json:"policy,omitempty"`
}

// Run runs the learner once. A dry run reads, fits and gates but writes
// nothing and takes no lock. Any store error ends the run with nothing
// changed beyond what is already whole (a candidate written before a
// failed promotion stays a candidate): a database outage never leaves a
// half-written version or a half-done promotion.
func (j *Job) Run(ctx context.Context, dryRun bool) (Report, error) {
	o := j.opts
	if !dryRun && o.Lock != nil {
		unlock, ok, err := o.Lock.TryLearnerLock(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("learn: %w", err)
		}
		if !ok {
			return Report{Status: RunLocked, Reason: "another learner is running"}, nil
		}
		defer unlock()
	}

	now := o.Now().UTC()
	rep := Report{DryRun: dryRun, WindowFrom: now.Add(-o.Window), WindowTo: now}
	active, err := o.Versions.ActiveVersion(ctx)
	if err != nil {
		return rep, fmt.Errorf("learn: %w", err)
	}
	rep.Active = active
	obs, err := o.Outcomes.Observations(ctx, rep.WindowFrom, rep.WindowTo)
	if err != nil {
		return rep, fmt.Errorf("learn: %w", err)
	}
	fitObs := FromOutcomes(obs, o.Models, o.Gate.MaxWeight)
	logged := LoggedFromOutcomes(obs, o.Models)
	rep.Observations, rep.Requests = len(fitObs), len(logged)
	if len(fitObs) == 0 {
		rep.Status, rep.Reason = RunNoData, "no usable outcome in the window"
		return rep, nil
	}
	fit := o.Fit
	table, prov, err := Fit(fitObs, fit)
	if err != nil {
		return rep, fmt.Errorf("learn: fit: %w", err)
	}
	if err := stopped(ctx); err != nil {
		return rep, err
	}
	if o.Models != nil {
		if err := table.Validate(o.Models); err != nil {
			return rep, fmt.Errorf("learn: fitted table: %w", err)
		}
	}
	prov.WindowFrom, prov.WindowTo = rep.WindowFrom, rep.WindowTo
	prov.Params["window_hours"] = o.Window.Hours()
	prov.Params["gate_min_samples"] = float64(o.Gate.MinSamples)
	prov.Params["gate_tolerance"] = o.Gate.Tolerance
	prov.Params["max_weight"] = o.Gate.MaxWeight
	if o.Local.Store != nil {
		model, lr, data, err := j.trainLocal(ctx, obs, rep.WindowFrom, rep.WindowTo, dryRun)
		if err != nil {
			return rep, fmt.Errorf("learn: local classifier: %w", err)
		}
		rep.Local = &lr
		if lr.Status != LocalTrained {
			o.Logger.Info("local classifier not trained", "status", lr.Status, "reason", lr.Reason)
		} else if !o.Local.NoPolicy {
			pr, err := j.learnPolicy(ctx, obs, data, model, active)
			if err != nil {
				return rep, fmt.Errorf("learn: per-prompt policy: %w", err)
			}
			rep.Policy = &pr
		}
	}
	localProvenance(&prov, rep.Local, active)
	cand := router.Version{
		ParentID:   active.ID,
		Status:     router.StatusCandidate,
		Source:     "learner",
		CreatedAt:  now,
		Table:      table,
		Provenance: prov,
	}
	// The gate scores the fit's choice on requests it did not see: the
	// same fit with each fold of the requests held out.
	heldOut := func() []router.Table {
		return crossFitTables(obs, o.Models, o.Gate.MaxWeight, fit, gateFolds)
	}
	if rep.Policy != nil && rep.Policy.Status == PolicyProposed && rep.Policy.Verdict.Promote {
		return j.runPolicy(ctx, rep, cand, logged, heldOut, dryRun)
	}
	// A refused policy leaves the run to the table (rep.Policy says why).
	if active.Policy != nil {
		// No new policy: the active one stays, with the local model its
		// point was chosen for.
		cand.Policy = active.Policy
		cand.Provenance.LocalModel = active.Provenance.LocalModel
	}
	diff := router.Diff(active, cand)
	rep.Candidate, rep.Diff = &cand, &diff

	if table.Equal(active.Table) {
		// cand's model, not prov's: an active policy keeps its own.
		if cand.Provenance.LocalModel != active.Provenance.LocalModel {
			return j.promoteLocal(ctx, rep, cand, dryRun)
		}
		rep.Status, rep.Reason = RunUnchanged, fmt.Sprintf("the fitted table is the active one (v%d)", active.ID)
		return rep, nil
	}
	var labeled LabeledSet
	if o.Labeled != nil {
		if labeled, err = o.Labeled(ctx); err != nil {
			return rep, fmt.Errorf("learn: labeled dataset: %w", err)
		}
	}
	folds := heldOut()
	v := GateHeldOut(active.Table, table, folds, logged, labeled, o.Gate)
	held := ""
	if v.Promote {
		if amended, names := HoldBack(active.Table, table, v); len(names) > 0 {
			table, held = amended, heldBackWhy(v, names)
			v = GateHeldOut(active.Table, table, folds, logged, labeled, o.Gate)
			cand.Table = table
			diff = router.Diff(active, cand)
		}
	}
	rep.Verdict = &v
	rep.Reason = v.Reason
	// The replay's estimate stays with the version, so the admin page can
	// set it beside what traffic showed once the version routed.
	cand.Provenance.Params[router.ParamReplayQuality] = v.Candidate.Quality
	cand.Provenance.Params[router.ParamReplayCost] = v.Candidate.cost
	cand.Provenance.Params[router.ParamReplaySamples] = float64(v.Candidate.Samples)
	if held != "" {
		rep.Reason += "; held back " + held
	}
	if v.Promote {
		cand.Note = "promoted by the gate: " + rep.Reason
	} else {
		cand.Note = "kept as candidate: " + rep.Reason
	}
	// The verdict in a sentence goes with the version, so its diff can
	// say why after the run's report is gone.
	cand.Provenance.Gate = v.Explain()
	diff = router.Diff(active, cand)
	rep.Status = RunKept
	if v.Promote {
		rep.Status = RunPromoted
	}
	if dryRun {
		return rep, nil
	}
	if !v.Promote {
		// Refused again for a table already kept: one candidate says so.
		prev, ok, err := j.keptAlready(ctx, active.ID, table)
		if err != nil {
			return rep, fmt.Errorf("learn: %w", err)
		}
		if ok {
			rep.Status = RunUnchanged
			rep.Reason = fmt.Sprintf("the fitted table is candidate v%d's, still refused: %s", prev.ID, v.Reason)
			return rep, nil
		}
	}

	return j.write(ctx, rep, active, cand, v.Promote, "version")
}

// heldBackWhy says why HoldBack kept the active choice in the buckets
// names, by the reason v gives for each: "on too few samples: complex;
// as unstable across folds: moderate".
func heldBackWhy(v Verdict, names []string) string {
	unstableBucket := func(name string) bool {
		i := slices.IndexFunc(v.Buckets, func(b BucketVerdict) bool { return b.Bucket == name })
		return i >= 0 && v.Buckets[i].Unstable
	}
	var thin, unstable []string
	for _, name := range names {
		if unstableBucket(name) {
			unstable = append(unstable, name)
		} else {
			thin = append(thin, name)
		}
	}
	var parts []string
	if len(thin) > 0 {
		parts = append(parts, "on too few samples: "+strings.Join(thin, ", "))
	}
	if len(unstable) > 0 {
		parts = append(parts, "as unstable across folds: "+strings.Join(unstable, ", "))
	}
	return strings.Join(parts, "; ")
}

// write stores cand, promotes it over active when promote says so, and
// fills rep with the stored version and its diff; what names the kind of
// version in the log ("version", "per-prompt policy").
func (j *Job) write(ctx context.Context, rep Report, active, cand router.Version, promote bool, what string) (Report, error) {
	o := j.opts
	if err := stopped(ctx); err != nil {
		return rep, err
	}
	stored, err := o.Versions.CreateVersion(ctx, cand)
	if err != nil {
		return rep, fmt.Errorf("learn: %w", err)
	}
	rep.Candidate = &stored
	d := router.Diff(active, stored)
	rep.Diff = &d
	if !promote {
		o.Logger.Info("learner kept a candidate "+what, "version", stored.ID, "active", active.ID, "reason", rep.Reason)
		return rep, nil
	}
	if err := stopped(ctx); err != nil {
		rep.Status = RunKept
		return rep, fmt.Errorf("learn: candidate v%d written, not promoted: %w", stored.ID, err)
	}
	if err := o.Versions.PromoteOver(ctx, stored.ID, active.ID); err != nil {
		rep.Status = RunKept
		return rep, fmt.Errorf("learn: candidate v%d written: %w", stored.ID, err)
	}
	stored.Status = router.StatusActive
	rep.Candidate = &stored
	o.Logger.Info("learner promoted a "+what, "version", stored.ID, "previous", active.ID, "reason", rep.Reason)
	if o.OnPromote != nil {
		o.OnPromote(stored)
	}
	return rep, nil
}

// stopped is the error of a run whose context has ended (serve's
// SIGTERM cancels it, or its timeout passed): the run stops before its
// next step rather than gate or write for nobody, and never begins a
// write. A version it wrote before is whole (one transaction each), so
// a run stopped part-way leaves a candidate at most, never half of one.
func stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("learn: stopped: %w", context.Cause(ctx))
}

// keptAlready finds a learner candidate of the active version with the
// same table, so that unchanged evidence does not pile up candidates.
func (j *Job) keptAlready(ctx context.Context, activeID int64, t router.Table) (router.Version, bool, error) {
	versions, err := j.opts.Versions.ListVersions(ctx)
	if err != nil {
		return router.Version{}, false, err
	}
	for _, v := range versions {
		if v.Status == router.StatusCandidate && v.Source == "learner" && v.ParentID == activeID && v.Table.Equal(t) {
			return v, true, nil
		}
	}
	return router.Version{}, false, nil
}
