// Package learner turns outcome records into routing tables. Fit is the
// pure core shared by the nightly learner and the offline eval harness: a
// Beta posterior of each model's success rate per bucket, and per bucket
// the model with the lowest expected cost per successful answer among
// those credibly good enough.
//
// The fitting imports no web framework, database driver or LLM SDK; it
// neither reads clocks nor does I/O.
package learner

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchyard/switchyard/router"
)

// Sample is one outcome: how one model did on one prompt of a
// bucket. The live learner makes one from a request row joined with its
// outcome (Weight 1/propensity); the eval harness makes one per dataset
// prompt and model (Weight 1).
type Sample struct {
	Complexity router.Complexity
	// Category refines the bucket ("math"); empty for none. Categories
	// that router.Table.Validate would reject are ignored.
	Category string
	Model    string
	// Score is the answer's quality in [0, 1]; a correct answer is 1.
	Score float64
	// CostMicros is what the call cost, in micro-USD. It is a float
	// because a short prompt to a cheap model costs a fraction of a micro.
	CostMicros float64
	// Weight is the sample's importance weight, > 0: 1 for a dataset row,
	// 1/propensity for live traffic where exploration chose the model.
	Weight float64
	// At is when the outcome was observed; zero when unknown (datasets).
	At time.Time
}

// Options tune Fit. Zero fields take the defaults of DefaultOptions,
// except Target, where zero is a valid target (anything goes).
type Options struct {
	// Target is the absolute quality target: a model is adequate for a
	// bucket when the lower credible bound of its success rate reaches
	// it. KeepQuality, when set, replaces it.
	Target float64
	// KeepQuality, when positive, makes the goal relative: in each
	// bucket a model is adequate when the lower credible bound of its
	// success rate reaches KeepQuality times Baseline's posterior mean
	// there. A dataset whose best model scores 0.7 then still has cheap
	// models worth choosing, where an absolute 0.9 would send everything
	// to the strongest.
	KeepQuality float64
	// Baseline names the model the relative goal is measured against and
	// the one a complexity bucket keeps when no model reaches the goal on
	// enough evidence; empty: the bucket's strongest model.
	Baseline string
	// Credibility is the one-sided credible level of that lower bound
	// (0.95: the 5% quantile of the posterior).
	Credibility float64
	// PriorAlpha and PriorBeta are the Beta prior of a model's success
	// rate in a complexity bucket.
	PriorAlpha, PriorBeta float64
	// PriorStrength is the pseudo-count with which a category bucket is
	// shrunk toward its complexity bucket: its prior is the parent's
	// posterior mean, worth this many samples.
	PriorStrength float64
	// MinSamples is how many samples some model needs in a category
	// bucket before the bucket is fitted at all.
	MinSamples int
	// MaxCandidates bounds each bucket's list (the choice plus escalation).
	MaxCandidates int
	// Evidence is the samples a model needs in a bucket before it can be
	// chosen there as adequate, or lead as the strongest: a model never
	// wins a bucket on a handful of lucky samples (or, in a category
	// bucket, on its parent's prior alone).
	Evidence int
}

// DefaultOptions returns the defaults: target 0.9, 95% credibility,
// uniform prior, categories shrunk with 50 pseudo-samples and fitted from
// 100 samples, three candidates a bucket, one sample of evidence for a
// model to be chosen (the live learner asks for its gate's min_samples;
// a full-information dataset has every model's outcome on every prompt).
// The category settings are
// deliberately conservative: a refined bucket fitted on noise is worse
// than none.
func DefaultOptions() Options {
	return Options{
		Target:        0.9,
		Credibility:   0.95,
		PriorAlpha:    1,
		PriorBeta:     1,
		PriorStrength: 50,
		MinSamples:    100,
		MaxCandidates: 3,
		Evidence:      1,
	}
}

// withDefaults fills zero fields and checks ranges.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Credibility == 0 {
		o.Credibility = d.Credibility
	}
	if o.PriorAlpha == 0 {
		o.PriorAlpha = d.PriorAlpha
	}
	if o.PriorBeta == 0 {
		o.PriorBeta = d.PriorBeta
	}
	if o.PriorStrength == 0 {
		o.PriorStrength = d.PriorStrength
	}
	if o.MinSamples == 0 {
		o.MinSamples = d.MinSamples
	}
	if o.MaxCandidates == 0 {
		o.MaxCandidates = d.MaxCandidates
	}
	if o.Evidence == 0 {
		o.Evidence = d.Evidence
	}
	switch {
	case !(o.Target >= 0 && o.Target <= 1):
		return o, fmt.Errorf("target %g: want a value in [0, 1]", o.Target)
	case !(o.Credibility > 0 && o.Credibility < 1):
		return o, fmt.Errorf("credibility %g: want a value in (0, 1)", o.Credibility)
	case !(o.PriorAlpha > 0 && o.PriorBeta > 0 && o.PriorStrength > 0):
		return o, errors.New("prior alpha, beta and strength must be positive")
	case !(o.KeepQuality >= 0 && o.KeepQuality <= 1):
		return o, fmt.Errorf("keep quality %g: want a share in (0, 1], or 0 for the absolute target", o.KeepQuality)
	case o.MinSamples < 0 || o.MaxCandidates < 0 || o.Evidence < 0:
		return o, errors.New("min samples, max candidates and evidence must not be negative")
	}
	return o, nil
}

// params names the options for Provenance.Params.
func (o Options) params() map[string]float64 {
	return map[string]float64{
		"target":         o.Target,
		"credibility":    o.Credibility,
		"prior_alpha":    o.PriorAlpha,
		"prior_beta":     o.PriorBeta,
		"prior_strength": o.PriorStrength,
		"min_samples":    float64(o.MinSamples),
		"max_candidates": float64(o.MaxCandidates),
		"evidence":       float64(o.Evidence),
		"keep_quality":   o.KeepQuality,
	}
}

// ErrNoObservations is returned by Fit when there is nothing to fit.
var ErrNoObservations = errors.New("no observations")

// Fit fits a routing table to obs toward opts' goal: KeepQuality of
// Baseline's quality when set, else the absolute Target. Every complexity
// bucket is present: a complexity without data gets the models that are
// strongest over all the data. Refined buckets ("complex/math") appear
// only where their first choice differs from their complexity's. The
// provenance holds the data window, the sample count, the options and, per
// emitted bucket and model, the samples, posterior mean, lower bound and
// mean cost.
func Fit(obs []Sample, opts Options) (router.Table, router.Provenance, error) {
	e, err := Summarize(obs, opts)
	if err != nil {
		return nil, router.Provenance{}, err
	}
	t, p := e.table(e.goal())
	return t, p, nil
}

// validate checks one observation.
func (o *Sample) validate() error {
	if o.Model == "" {
		return errors.New("no model")
	}
	if complexityIndex(o.Complexity) < 0 {
		return fmt.Errorf("complexity %q: want simple, moderate or complex", o.Complexity)
	}
	if !(o.Score >= 0 && o.Score <= 1) {
		return fmt.Errorf("score %g outside [0, 1]", o.Score)
	}
	if !(o.Weight > 0) || math.IsInf(o.Weight, 1) {
		return fmt.Errorf("weight %g: want a positive finite number", o.Weight)
	}
	if !(o.CostMicros >= 0) || math.IsInf(o.CostMicros, 1) {
		return fmt.Errorf("cost %g: want a non-negative finite number", o.CostMicros)
	}
	return nil
}
