package learner

import (
	"fmt"
	"strings"
)

// Causes: which of the gate's rules decided a Verdict, in the order the
// gate checks them.
const (
	// CauseDrops: a bucket's estimated quality drops beyond the tolerance.
	CauseDrops = "drops"
	// CauseMargin: no estimate drops beyond the tolerance, but a margin
	// is too wide to rule it out.
	CauseMargin = "margin"
	// CauseLabeledQuality: quality drops on the labeled dataset.
	CauseLabeledQuality = "labeled_quality"
	// CauseUnstable: changed buckets have enough logged requests, but in
	// none of them did the fit make its choice with every fold held out.
	CauseUnstable = "unstable"
	// CauseEvidence: no changed bucket has enough logged requests.
	CauseEvidence = "evidence"
	// CauseCost: cost per success rises on the logged traffic.
	CauseCost = "cost"
	// CauseLabeledCost: cost per success rises on the labeled dataset.
	CauseLabeledCost = "labeled_cost"
	// CausePromoted: every rule passed.
	CausePromoted = "promoted"
)

// Explain says in one sentence why the gate promoted or kept the
// candidate, from the rule that decided and the bucket it decided on,
// with the estimates and margins it used, named held-out estimates when
// the candidate was cross-fitted. It reads true in the case that is easy
// to misread: an estimate that rises but whose margin is too wide to
// rule out a drop.
func (v Verdict) Explain() string {
	tol := fmt.Sprintf("%.3f", v.Tolerance)
	est := "" // what the margin in brackets is the margin of
	if v.HeldOutFolds > 0 {
		est = "held-out estimate "
	}
	switch v.Cause {
	case CauseDrops:
		b, others := v.pick(func(b BucketVerdict) bool { return b.Drops },
			func(b BucketVerdict) float64 { return b.Active.Quality - b.Candidate.Quality })
		return fmt.Sprintf("Kept: in %s quality would drop from %.3f to %.3f (%s±%.3f, %s), more than the %s tolerance%s.",
			b.Bucket, b.Active.Quality, b.Candidate.Quality, est, b.Margin, b.models(), tol, andOthers(others))
	case CauseMargin:
		b, others := v.pick(func(b BucketVerdict) bool { return b.Blocks },
			func(b BucketVerdict) float64 { return b.Margin })
		how := fmt.Sprintf("the %sestimate rises from %.3f to %.3f", est, b.Active.Quality, b.Candidate.Quality)
		if b.Candidate.Quality < b.Active.Quality {
			how = fmt.Sprintf("the %sestimate falls from %.3f to %.3f, within the %s tolerance", est, b.Active.Quality, b.Candidate.Quality, tol)
		} else if b.Candidate.Quality == b.Active.Quality {
			how = fmt.Sprintf("the %sestimate holds at %.3f", est, b.Active.Quality)
		}
		return fmt.Sprintf("Kept: in %s %s, but its margin of ±%.3f (%s) is too wide to rule out a drop of more than %s%s.",
			b.Bucket, how, b.Margin, b.models(), tol, andOthers(others))
	case CauseLabeledQuality:
		l := v.Labeled
		return fmt.Sprintf("Kept: on the labeled dataset (%d prompts) quality would drop from %.3f to %.3f, more than the %s tolerance.",
			l.Active.Samples, l.Active.Quality, l.Candidate.Quality, tol)
	case CauseUnstable:
		b, others := v.pick(func(b BucketVerdict) bool { return b.Unstable },
			func(b BucketVerdict) float64 { return float64(b.Requests) })
		return fmt.Sprintf("Kept: in %s the fit chose %s on all logged requests but, with each of %d folds held out in turn, %s, so the change rests on which requests it saw (held-out estimate %.3f -> %.3f, %s)%s.",
			b.Bucket, b.CandidateModel, v.HeldOutFolds, strings.Join(b.FoldChoices(), ", "),
			b.Active.Quality, b.Candidate.Quality, b.models(), andOthers(others))
	case CauseEvidence:
		b, _ := v.pick(func(b BucketVerdict) bool { return b.ActiveModel != b.CandidateModel },
			func(b BucketVerdict) float64 { return float64(min(b.Active.Samples, b.Candidate.Samples)) })
		if b.Bucket == "" {
			return "Kept: no bucket's first choice changes in the logged traffic, so nothing could justify a promotion."
		}
		return fmt.Sprintf("Kept: no bucket whose first choice changes has %d logged requests on both models; the closest, %s, has %s.",
			v.MinSamples, b.Bucket, b.models())
	case CauseCost:
		return fmt.Sprintf("Kept: quality holds within the %s tolerance, but cost per success would rise from %s to %s.",
			tol, micros(v.Active.CostPerSuccess), micros(v.Candidate.CostPerSuccess))
	case CauseLabeledCost:
		l := v.Labeled
		return fmt.Sprintf("Kept: on the labeled dataset cost per success would rise from %s to %s.",
			micros(l.Active.CostPerSuccess), micros(l.Candidate.CostPerSuccess))
	case CausePromoted:
		b, others := v.pick(func(b BucketVerdict) bool { return b.Counts },
			func(b BucketVerdict) float64 { return float64(b.Requests) })
		return fmt.Sprintf("Promoted: in %s quality goes from %.3f to %.3f (%s±%.3f, %s)%s, no bucket loses more than the %s tolerance counting its margin, and cost per success goes from %s to %s.",
			b.Bucket, b.Active.Quality, b.Candidate.Quality, est, b.Margin, b.models(), andOthers(others), tol,
			micros(v.Active.CostPerSuccess), micros(v.Candidate.CostPerSuccess))
	}
	return v.Reason
}

// pick returns the bucket that matches with the largest key, and how
// many others match.
func (v Verdict) pick(match func(BucketVerdict) bool, key func(BucketVerdict) float64) (BucketVerdict, int) {
	var best BucketVerdict
	n := 0
	for _, b := range v.Buckets {
		if !match(b) {
			continue
		}
		if n == 0 || key(b) > key(best) {
			best = b
		}
		n++
	}
	return best, max(n-1, 0)
}

// models is "gpt-4o n=120 vs gpt-4o-mini n=45".
func (b BucketVerdict) models() string {
	return fmt.Sprintf("%s n=%d vs %s n=%d", b.ActiveModel, b.Active.Samples, b.CandidateModel, b.Candidate.Samples)
}

func andOthers(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return ", and in 1 other bucket"
	}
	return fmt.Sprintf(", and in %d other buckets", n)
}
