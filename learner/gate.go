package learner

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// GateOptions tune the promotion gate.
type GateOptions struct {
	// MinSamples is how many logged requests in a bucket must have gone
	// first to a table's first choice before that bucket's estimate for
	// it counts: a bucket short of it on either side can neither block
	// nor justify a promotion.
	MinSamples int
	// Tolerance is the largest quality drop accepted in any bucket that
	// counts, and on the labeled dataset.
	Tolerance float64
	// MaxWeight caps an importance weight 1/propensity, trading a little
	// bias for much less variance when exploration was rare.
	MaxWeight float64
	// Margin is how many standard errors of the estimated quality drop
	// are added to it before it is compared with Tolerance: with 1, a
	// bucket blocks unless the drop is within tolerance by one standard
	// error. Zero compares the point estimates.
	Margin float64
}

// DefaultGateOptions returns 30 samples, 0.01 tolerance, weights capped
// at 20 (an explored share of 5% a model) and a margin of one standard
// error: the estimates rest on the data the candidate was fitted to, so
// the gate leans against it.
func DefaultGateOptions() GateOptions {
	return GateOptions{MinSamples: 30, Tolerance: 0.01, MaxWeight: 20, Margin: 1}
}

// Logged is one routed request as the gate replays it: its analysis, the
// model routing tried first and the probability it had, and how that
// model did on it.
type Logged struct {
	// ID is the request's id: which fold it is held out in (GateHeldOut).
	ID         string
	Analysis   router.Analysis
	Model      string
	Propensity float64
	// Score is the first model's outcome in [0, 1]: its feedback, or zero
	// when it failed (and the request escalated or errored).
	Score float64
	// Cost is what the first model's call cost, in micro-USD.
	Cost float64
}

// LabeledSet replays tables offline on a labeled dataset, where every
// model's outcome on every prompt is known (eval implements it).
type LabeledSet interface {
	// Replay returns t's mean quality and mean cost per prompt (micro-USD)
	// on the dataset, and the number of prompts.
	Replay(t router.Table) (quality, cost float64, n int)
}

// Estimate is a table's estimated quality and cost per success.
type Estimate struct {
	Quality float64 `json:"quality"`
	// CostPerSuccess is micro-USD per unit of quality; zero when the
	// table has no success.
	CostPerSuccess float64 `json:"cost_per_success_micros"`
	// Samples is how many logged requests (or dataset prompts) the
	// estimate rests on.
	Samples int `json:"samples"`
	// StdErr is the quality estimate's standard error (zero on the
	// labeled dataset, where every outcome is known).
	StdErr float64 `json:"std_err,omitempty"`
	cost   float64
}

// BucketVerdict is the gate's view of one bucket.
type BucketVerdict struct {
	Bucket string `json:"bucket"`
	// Requests is the bucket's logged traffic, agreeing or not.
	Requests       int      `json:"requests"`
	ActiveModel    string   `json:"active_model"`
	CandidateModel string   `json:"candidate_model"`
	Active         Estimate `json:"active"`
	Candidate      Estimate `json:"candidate"`
	// Counts says the first choices differ, both have MinSamples and,
	// when the candidate was cross-fitted, the choice is stable.
	Counts bool `json:"counts"`
	// FoldModels are the first choices the candidate's fit made here
	// with each fold held out, in fold order, when it was cross-fitted
	// ("" for a fold with nothing to fit): what the held-out estimate
	// scored each fold's requests at.
	FoldModels []string `json:"fold_models,omitempty"`
	// Unstable says the first choice changes here, both choices have
	// MinSamples, but the fit did not make it with every fold held out:
	// the change rests on which requests the fit saw, so the bucket does
	// not count and HoldBack keeps the active choice.
	Unstable bool `json:"unstable,omitempty"`
	// Margin is what the gate adds to the estimated quality drop before
	// comparing it with the tolerance (GateOptions.Margin standard
	// errors of the drop); zero where the bucket does not count.
	Margin float64 `json:"margin,omitempty"`
	// Blocks says the candidate may lose more than the tolerance here:
	// its estimated drop does (Drops), or the drop plus Margin does.
	Blocks bool `json:"blocks"`
	// Drops says the estimate itself drops by more than the tolerance;
	// a bucket that blocks without it is one whose margin is too wide.
	Drops bool `json:"drops,omitempty"`
}

// LabeledVerdict is both tables on the labeled dataset.
type LabeledVerdict struct {
	Active    Estimate `json:"active"`
	Candidate Estimate `json:"candidate"`
}

// Verdict is the gate's decision and its evidence.
type Verdict struct {
	Promote bool   `json:"promote"`
	Reason  string `json:"reason"`
	// Cause is which of the gate's rules decided (one of the Cause
	// constants); Explain reads it.
	Cause string `json:"cause"`
	// Tolerance and MinSamples are the options the gate judged with.
	Tolerance  float64 `json:"tolerance"`
	MinSamples int     `json:"min_samples"`
	// HeldOutFolds is how many folds the candidate's estimates were
	// cross-fitted in (GateHeldOut): each request scored at a choice
	// fitted without it. Zero: the estimates are in-sample (Gate).
	HeldOutFolds int `json:"held_out_folds,omitempty"`
	// Active and Candidate are traffic-weighted totals over the buckets
	// that count and the unchanged ones.
	Active    Estimate        `json:"active"`
	Candidate Estimate        `json:"candidate"`
	Buckets   []BucketVerdict `json:"buckets"`
	Labeled   *LabeledVerdict `json:"labeled,omitempty"`
}

// Gate decides whether candidate may replace active, replaying the logged
// requests off-policy and, when labeled is not nil, the labeled dataset,
// with in-sample estimates: right for a candidate chosen without the
// logged requests (a hand-written table). A candidate fitted on them
// goes through GateHeldOut, or the estimate is optimistic by the
// selection (the winner's curse: the best-looking of nine equal models
// looks about 1.5 standard errors better than it is).
func Gate(active, candidate router.Table, logged []Logged, labeled LabeledSet, opts GateOptions) Verdict {
	return GateHeldOut(active, candidate, nil, logged, labeled, opts)
}

// GateHeldOut is Gate for a candidate fitted on the logged requests:
// folds[f] is the candidate's fit with the requests of fold f
// (foldOf(ID, len(folds))) held out, and the candidate's estimate in a
// bucket scores each request at its own fold's choice there, a choice
// made without it: the estimate of the fitting procedure's choice on
// requests it did not see, not of the best-looking model on the requests
// that made it look best. A changed bucket counts only when every fold
// made the proposed choice (it is not Unstable), and then every request
// is scored at that one choice, so its held-out estimate equals the
// in-sample one: what guards a counting bucket against the winner's
// curse is this stability rule (a model that wins only on the requests
// of some folds is not promoted), not a different number. The held-out
// sums differ only in unstable buckets, which never count. With no
// folds it is the in-sample Gate.
//
// The estimator: requests are grouped by the bucket the two tables route
// them by. In a bucket, a table would have sent every request to its
// first choice f; the requests whose logged first model was f are the
// ones whose outcome under that table is known. Exploration chose among a
// bucket's candidates at random, independently of the prompt, so these
// requests are a fair sample of the bucket once each is weighted by
// w = 1/propensity (capped at MaxWeight): the inverse-propensity weight
// that undoes exploration's (and earlier tables') preference for some
// models. The table's quality in the bucket is the self-normalised
// estimate sum(w*score)/sum(w) over the agreeing requests, its cost a
// request sum(w*cost)/sum(w). Self-normalising costs a bias of order 1/n
// but bounds the estimate to [0, 1] and cuts its variance, which matters
// with the few explored samples a bucket gets.
//
// A candidate is promoted when no bucket that counts loses more than
// Tolerance in quality, counting Margin standard errors of the estimated
// drop against it, at least one bucket whose first choice changes
// counts, the total cost per success (buckets weighted by their traffic)
// does not rise, and on the labeled dataset quality does not drop beyond
// Tolerance nor cost per success rise. The active table's estimate is
// in-sample: if an earlier run fitted it on some of these requests, it
// is optimistic for the active table, which only leans against change.
func GateHeldOut(active, candidate router.Table, folds []router.Table, logged []Logged, labeled LabeledSet, opts GateOptions) Verdict {
	if opts.MaxWeight <= 0 {
		opts.MaxWeight = DefaultGateOptions().MaxWeight
	}
	type sums struct {
		n             int
		w, ws, wc     float64
		w2, w2s, w2s2 float64 // for the variance
	}
	type bucket struct {
		requests int
		a, c     string // first choices
		byModel  map[string]*sums
		// heldOut sums the requests whose logged model is their fold's
		// choice; foldModels are those choices, disagree counts the
		// requests whose fold chose other than c.
		heldOut    sums
		foldModels []string
		disagree   int
	}
	add := func(s *sums, l Logged) {
		w := importance(l.Propensity, opts.MaxWeight)
		s.n++
		s.w += w
		s.ws += w * l.Score
		s.wc += w * l.Cost
		s.w2 += w * w
		s.w2s += w * w * l.Score
		s.w2s2 += w * w * l.Score * l.Score
	}
	buckets := map[string]*bucket{}
	for _, l := range logged {
		name := gateBucket(active, candidate, l.Analysis)
		b := buckets[name]
		if b == nil {
			b = &bucket{
				a:       first(active.Candidates(l.Analysis)),
				c:       first(candidate.Candidates(l.Analysis)),
				byModel: map[string]*sums{},
			}
			if len(folds) > 0 {
				b.foldModels = make([]string, len(folds))
			}
			buckets[name] = b
		}
		b.requests++
		s := b.byModel[l.Model]
		if s == nil {
			s = &sums{}
			b.byModel[l.Model] = s
		}
		add(s, l)
		if len(folds) > 0 {
			f := foldOf(l.ID, len(folds))
			choice := first(folds[f].Candidates(l.Analysis))
			b.foldModels[f] = choice
			if choice != b.c {
				b.disagree++
			}
			if l.Model == choice {
				add(&b.heldOut, l)
			}
		}
	}
	estimateOfSums := func(s *sums) Estimate {
		if s == nil || s.w == 0 {
			return Estimate{}
		}
		e := Estimate{Quality: s.ws / s.w, cost: s.wc / s.w, Samples: s.n}
		// The delta-method variance of a self-normalised mean:
		// sum(w^2 (score - quality)^2) / sum(w)^2.
		q := e.Quality
		if v := (s.w2s2 - 2*q*s.w2s + q*q*s.w2) / (s.w * s.w); v > 0 {
			e.StdErr = math.Sqrt(v)
		}
		if e.Quality > 0 {
			e.CostPerSuccess = e.cost / e.Quality
		}
		return e
	}
	estimate := func(b *bucket, model string) Estimate { return estimateOfSums(b.byModel[model]) }
	candidateEstimate := func(b *bucket) Estimate {
		if len(folds) == 0 {
			return estimate(b, b.c)
		}
		return estimateOfSums(&b.heldOut)
	}

	v := Verdict{Tolerance: opts.Tolerance, MinSamples: opts.MinSamples, HeldOutFolds: len(folds)}
	names := make([]string, 0, len(buckets))
	for name := range buckets {
		names = append(names, name)
	}
	sort.Strings(names)
	var (
		totA, totC totals
		changed    int
		blocks     []string // estimates that drop beyond tolerance
		unsure     []string // estimates within it, margins too wide
		unstable   []string // enough samples, but the choice is not stable across folds
	)
	for _, name := range names {
		b := buckets[name]
		bv := BucketVerdict{
			Bucket: name, Requests: b.requests,
			ActiveModel: b.a, CandidateModel: b.c,
			Active: estimate(b, b.a), Candidate: candidateEstimate(b),
			FoldModels: b.foldModels,
		}
		enough := bv.Active.Samples >= opts.MinSamples && bv.Candidate.Samples >= opts.MinSamples
		switch {
		case b.a == b.c:
			// Unchanged: both tables route here alike, whatever the folds
			// chose, so both take the active choice's estimate.
			bv.Candidate, bv.FoldModels = bv.Active, nil
			if bv.Active.Samples > 0 {
				totA.add(b.requests, bv.Active)
				totC.add(b.requests, bv.Candidate)
			}
		case !enough:
			// Too few samples: neither counts nor blocks.
		case b.disagree > 0:
			// The proposed choice is not what the fit makes without some
			// fold: the change rests on which requests it saw, which is
			// the selection the held-out estimate is there to undo, and
			// the estimate is partly of other models' choices. It is not
			// evidence for the change (HoldBack keeps the active choice),
			// nor, alone, against the other buckets' changes: they stand
			// on their own held-out estimates. Measured cost: a model
			// truly better by 0.05 with 1,000 requests is promoted a
			// little less often (most of the rest at the next run).
			bv.Unstable = true
			unstable = append(unstable, fmt.Sprintf("%s (%s)", name, strings.Join(bv.FoldChoices(), ", ")))
		default:
			bv.Counts = true
			changed++
			totA.add(b.requests, bv.Active)
			totC.add(b.requests, bv.Candidate)
			drop := bv.Active.Quality - bv.Candidate.Quality
			bv.Margin = opts.Margin * math.Hypot(bv.Active.StdErr, bv.Candidate.StdErr)
			if drop+bv.Margin > opts.Tolerance+1e-12 {
				bv.Blocks = true
				bv.Drops = drop > opts.Tolerance+1e-12
				what := fmt.Sprintf("%s %.3f -> %.3f (±%.3f; %s -> %s, n=%d/%d)", name,
					bv.Active.Quality, bv.Candidate.Quality, bv.Margin, b.a, b.c, bv.Active.Samples, bv.Candidate.Samples)
				if bv.Drops {
					blocks = append(blocks, what)
				} else {
					unsure = append(unsure, what)
				}
			}
		}
		v.Buckets = append(v.Buckets, bv)
	}
	v.Active, v.Candidate = totA.estimate(), totC.estimate()
	if labeled != nil {
		qa, ca, n := labeled.Replay(active)
		qc, cc, _ := labeled.Replay(candidate)
		v.Labeled = &LabeledVerdict{Active: estimateOf(qa, ca, n), Candidate: estimateOf(qc, cc, n)}
	}

	switch {
	case len(blocks) > 0 || len(unsure) > 0:
		var parts []string
		if len(blocks) > 0 {
			parts = append(parts, fmt.Sprintf("quality drops more than %.3f in %s", opts.Tolerance, strings.Join(blocks, "; ")))
		}
		if len(unsure) > 0 {
			parts = append(parts, fmt.Sprintf("the margin is too wide to rule out a drop of more than %.3f in %s", opts.Tolerance, strings.Join(unsure, "; ")))
		}
		v.Reason = strings.Join(parts, "; ")
		v.Cause = CauseDrops
		if len(blocks) == 0 {
			v.Cause = CauseMargin
		}
	case v.Labeled != nil && v.Labeled.Candidate.Quality < v.Labeled.Active.Quality-opts.Tolerance-1e-12:
		v.Reason = fmt.Sprintf("labeled dataset: quality drops more than %.3f: %s", opts.Tolerance, compare(v.Labeled.Active, v.Labeled.Candidate))
		v.Cause = CauseLabeledQuality
	case changed == 0 && len(unstable) > 0:
		v.Reason = fmt.Sprintf("no stable evidence: the fit's choice changes with the fold held out in %s", strings.Join(unstable, "; "))
		v.Cause = CauseUnstable
	case changed == 0:
		v.Reason = fmt.Sprintf("not enough evidence: no bucket whose first choice changes has %d logged requests for both choices", opts.MinSamples)
		v.Cause = CauseEvidence
	case totC.rises(totA):
		v.Reason = "cost per success rises: " + compare(v.Active, v.Candidate)
		v.Cause = CauseCost
	case v.Labeled != nil && v.Labeled.Candidate.cost*v.Labeled.Active.Quality > v.Labeled.Active.cost*v.Labeled.Candidate.Quality*(1+1e-9):
		v.Reason = "labeled dataset: cost per success rises: " + compare(v.Labeled.Active, v.Labeled.Candidate)
		v.Cause = CauseLabeledCost
	default:
		v.Promote = true
		v.Cause = CausePromoted
		v.Reason = fmt.Sprintf("%d changed buckets with evidence: %s", changed, compare(v.Active, v.Candidate))
		if v.Labeled != nil {
			v.Reason += "; labeled dataset: " + compare(v.Labeled.Active, v.Labeled.Candidate)
		}
	}
	return v
}

// totals accumulates bucket estimates weighted by their traffic.
type totals struct {
	n                int
	requests         float64
	successes, spent float64
}

func (t *totals) add(requests int, e Estimate) {
	r := float64(requests)
	t.n += e.Samples
	t.requests += r
	t.successes += r * e.Quality
	t.spent += r * e.cost
}

func (t totals) estimate() Estimate {
	if t.requests == 0 {
		return Estimate{}
	}
	return estimateOf(t.successes/t.requests, t.spent/t.requests, t.n)
}

// rises reports whether t's cost per success is above base's, compared
// cross-multiplied so that a table without success compares too.
func (t totals) rises(base totals) bool {
	return t.spent*base.successes > base.spent*t.successes*(1+1e-9)
}

func estimateOf(quality, cost float64, n int) Estimate {
	e := Estimate{Quality: quality, cost: cost, Samples: n}
	if quality > 0 {
		e.CostPerSuccess = cost / quality
	}
	return e
}

// compare renders a before/after pair of estimates.
func compare(a, c Estimate) string {
	s := fmt.Sprintf("quality %.3f -> %.3f, cost per success %s -> %s", a.Quality, c.Quality, micros(a.CostPerSuccess), micros(c.CostPerSuccess))
	if a.CostPerSuccess > 0 && c.CostPerSuccess > 0 {
		s += fmt.Sprintf(" (%+.0f%%)", 100*(c.CostPerSuccess/a.CostPerSuccess-1))
	}
	return s + fmt.Sprintf(", n=%d", c.Samples)
}

func micros(m float64) string {
	if m == 0 {
		return "-"
	}
	return fmt.Sprintf("$%.6f", m/1e6)
}

// importance is the capped inverse-propensity weight; an unknown
// propensity (zero, from records written before it was kept) counts as
// the table's own choice.
func importance(p, limit float64) float64 {
	if !(p > 0) || math.IsNaN(p) {
		return 1
	}
	return min(1/p, limit)
}

// gateBucket names the bucket the two tables route an analysis by: its
// refined bucket when either table has one, else its complexity.
func gateBucket(a, c router.Table, an router.Analysis) string {
	if an.Category != "" {
		refined := router.BucketOf(an.Complexity, an.Category)
		if _, ok := c[refined]; ok {
			return refined
		}
		if _, ok := a[refined]; ok {
			return refined
		}
	}
	return string(an.Complexity)
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}

// HoldBack returns candidate with every bucket whose first choice changes
// on too little evidence, or on a choice unstable across folds (v's
// buckets that neither count nor agree), set
// back to what active routes there, and the names of those buckets. A
// promotion is justified by the buckets with evidence; the others must
// not ride along on it. The result is a new table; candidate is not
// modified.
func HoldBack(active, candidate router.Table, v Verdict) (router.Table, []string) {
	out := make(router.Table, len(candidate))
	for b, list := range candidate {
		out[b] = list
	}
	var held []string
	for _, b := range v.Buckets {
		if b.Counts || b.ActiveModel == b.CandidateModel {
			continue
		}
		c, category, _ := strings.Cut(b.Bucket, "/")
		out[b.Bucket] = active.Candidates(router.Analysis{Complexity: router.Complexity(c), Category: category})
		held = append(held, b.Bucket)
	}
	return out, held
}
