package router

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"time"
)

// OutcomeCounter reads the recorded outcomes counted by bucket and model
// (the store's SignalCounts, which the admin page's charts read too).
type OutcomeCounter interface {
	// SignalCounts returns the outcomes of the requests served in [from,
	// to) counted by bucket, model, source and table version; an error
	// when they cannot be read now.
	SignalCounts(ctx context.Context, from, to time.Time) ([]SignalCount, error)
}

// posterior is the Beta(1 + successes, 1 + failures) posterior of a
// model's success rate in a bucket, summarised by its mean and variance.
type posterior struct{ n, mean, variance float64 }

func newPosterior(n, successes float64) posterior {
	mean := (successes + 1) / (n + 2)
	return posterior{n: n, mean: mean, variance: mean * (1 - mean) / (n + 3)}
}

// bucketEvidence holds the posteriors by bucket (both the refined
// complexity/category buckets and the complexity alone) and model.
type bucketEvidence map[string]map[string]posterior

// newBucketEvidence sums counts into both bucket levels, so a table
// without refined buckets reads the complexity's sum. Each outcome counts
// with its source's default weight, as the learner weighs it.
func newBucketEvidence(counts []SignalCount) bucketEvidence {
	w := DefaultOutcomeWeights()
	type acc struct{ n, s float64 }
	sums := map[string]map[string]acc{}
	add := func(bucket, model string, n, score float64) {
		if sums[bucket] == nil {
			sums[bucket] = map[string]acc{}
		}
		a := sums[bucket][model]
		sums[bucket][model] = acc{a.n + n, a.s + score}
	}
	for _, c := range counts {
		ws := w.Of(c.Source)
		if c.Bucket == "" || c.Model == "" || c.N == 0 || !(ws > 0) {
			continue
		}
		n, score := ws*float64(c.N), ws*c.Score
		complexity, _, refined := strings.Cut(c.Bucket, "/")
		add(complexity, c.Model, n, score)
		if refined {
			add(c.Bucket, c.Model, n, score)
		}
	}
	out := make(bucketEvidence, len(sums))
	for b, byModel := range sums {
		out[b] = make(map[string]posterior, len(byModel))
		for m, a := range byModel {
			out[b][m] = newPosterior(a.n, a.s)
		}
	}
	return out
}

// SetOutcomes replaces the recorded evidence that aims the bucket table's
// exploration (see frontierWeights); WatchOutcomes calls it.
func (s *Service) SetOutcomes(counts []SignalCount) {
	ev := newBucketEvidence(counts)
	s.outcomes.Store(&ev)
}

// exploreNear is how much a model may trail a cheaper one in a bucket's
// mean success and still be explored: a per-prompt rule can choose it on
// the prompts where it does better, so only a model clearly worse than a
// cheaper one is left to the uniform share.
const exploreNear = 0.05

// exploreReach is how far a cheaper model may trail the routed choice in
// a bucket's mean success and still be explored: beyond it, it could be
// the acceptable choice on few prompts.
const exploreReach = 0.2

// frontierWeights weighs each alternative in a's bucket by its chance,
// under the outcomes the service has recorded (a Beta posterior per
// model), of being a cheaper acceptable choice. For a model cheaper than
// the routed first choice that is the least of: its chance of being
// within exploreNear of every candidate at most as expensive (not
// clearly worse than a cheaper model) and within exploreReach of the
// first choice. A model at least as expensive as the first choice can
// only raise quality: its weight is its chance of beating the first.
// Each chance is a normal approximation to the Beta comparison, so an
// unknown model (a wide posterior) keeps a fair weight until its
// outcomes say otherwise. The weights are deterministic in the evidence,
// so the recorded propensity stays exact for the draw; exploreUniform of
// the budget stays uniform. Without evidence for the bucket it returns
// the version's provenance weights (tableEvidence).
func frontierWeights(ev bucketEvidence, v *Version, a Analysis, candidates []string, models Catalog) exploreWeights {
	byModel := ev[v.Table.Bucket(a)]
	if len(byModel) == 0 {
		byModel = ev[string(a.Complexity)]
	}
	if len(byModel) == 0 || len(candidates) < 2 {
		return tableEvidence(v, a, candidates)
	}
	post := func(m string) posterior {
		if p, ok := byModel[m]; ok {
			return p
		}
		return newPosterior(0, 0)
	}
	// chance that x's success exceeds y's minus slack.
	chance := func(x, y posterior, slack float64) float64 {
		return normalCDF((x.mean - y.mean + slack) / math.Sqrt(x.variance+y.variance))
	}
	price := policyCosts(candidates, models)
	posts := make([]posterior, len(candidates))
	for i, c := range candidates {
		posts[i] = post(c)
	}
	out := exploreWeights{w: make([]float64, len(candidates)-1), u: -1}
	for k := range out.w {
		i, pk := k+1, posts[k+1]
		if price[i] >= price[0] {
			out.w[k] = chance(pk, posts[0], 0)
			continue
		}
		out.w[k] = chance(pk, posts[0], exploreReach)
		for j := 1; j < len(candidates); j++ {
			if candidates[j] != candidates[i] && price[j] <= price[i] {
				out.w[k] = min(out.w[k], chance(pk, posts[j], exploreNear))
			}
		}
	}
	mixUniform(out.w)
	return out
}

func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// Routed returns how many requests the bucket table has routed with
// exploration since the service started; WatchOutcomes paces its reads
// by it.
func (s *Service) Routed() int64 { return s.routed.Load() }

// Defaults of WatchOutcomesOptions.
const (
	// DefaultOutcomesInterval is the longest a reading stays in use while
	// requests come in.
	DefaultOutcomesInterval = 30 * time.Second
	// DefaultOutcomesEvery is the routed requests after which the outcomes
	// are read again: evidence grows with traffic, so a busy service (or
	// a replay) aims by fresh counts, not by those of many requests ago.
	DefaultOutcomesEvery = 200
	// outcomesCostFactor keeps the reads to at most a tenth of the
	// watcher's time: the next read waits ten times as long as the last
	// one took, so a large window on a busy database is read less often.
	outcomesCostFactor = 10
)

// WatchOutcomesOptions configure WatchOutcomes.
type WatchOutcomesOptions struct {
	Source OutcomeCounter
	// Set receives each reading (Service.SetOutcomes).
	Set func([]SignalCount)
	// Routed counts the requests routed so far (Service.Routed); nil
	// reads by Interval alone.
	Routed func() int64
	// Window is how far back outcomes are read (the learner's window).
	Window   time.Duration
	Interval time.Duration // zero: DefaultOutcomesInterval
	Every    int64         // zero: DefaultOutcomesEvery
	// Tick is how often the count is looked at; zero: a second, or
	// Interval when shorter.
	Tick time.Duration
	Now  func() time.Time
	// Outage is told how each read went, so a database outage is
	// reported once (nil: failures are logged).
	Outage OutageReporter
	Logger *slog.Logger // nil: slog.Default()
}

// WatchOutcomes reads the recorded outcomes at once and then again after
// every o.Every routed requests, or o.Interval while any came in,
// handing each reading to o.Set until ctx ends: exploration aims by what
// the service has seen, not only by the active version's provenance,
// which changes only at a promotion. A read waits at least ten times as
// long as the previous one took. A failed read keeps the previous
// reading.
func WatchOutcomes(ctx context.Context, o WatchOutcomesOptions) {
	interval, every := o.Interval, o.Every
	if interval <= 0 {
		interval = DefaultOutcomesInterval
	}
	if every <= 0 {
		every = DefaultOutcomesEvery
	}
	log, now, routed := o.Logger, o.Now, o.Routed
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	byInterval := routed == nil
	if byInterval {
		routed = func() int64 { return 0 }
	}
	tick := o.Tick
	if tick <= 0 {
		tick = min(interval, time.Second)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var (
		lastAt   time.Time
		lastN    int64
		lastCost time.Duration
	)
	for {
		n, at := routed(), now()
		due := lastAt.IsZero() || n-lastN >= every || ((byInterval || n != lastN) && at.Sub(lastAt) >= interval)
		if due && at.Sub(lastAt) >= outcomesCostFactor*lastCost {
			// A minute past now: rows another replica stamped by a clock a
			// little ahead count too.
			counts, err := o.Source.SignalCounts(ctx, at.Add(-o.Window), at.Add(time.Minute))
			lastCost = now().Sub(at)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil && o.Outage != nil:
				o.Outage.Fail("read outcomes for exploration", err)
			case err != nil:
				log.Warn("read outcomes for exploration", "err", err)
			default:
				if o.Outage != nil {
					o.Outage.OK()
				}
				o.Set(counts)
			}
			lastAt, lastN = at, n
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
