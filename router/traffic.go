package router

import (
	"cmp"
	"slices"
)

// TrafficGroup is the requests of one UTC day answered by one model for
// one bucket under one table version: the grain from which the admin
// page's traffic, quality and version charts are folded.
type TrafficGroup struct {
	Day string // YYYY-MM-DD, UTC
	// Model is the answering model; empty when no model answered.
	Model string
	// Bucket is BucketOf(complexity, category); empty for requests sent
	// straight to a named model (never classified).
	Bucket       string
	TableVersion int64
	Requests     int
	// Answered counts the requests that ended OutcomeOK: the model's
	// answer was delivered. A request whose stream broke, or whose client
	// went away, after the model began is among Requests but not here.
	Answered int
	Cost     Micros
	Baseline Micros
}

// The kinds of signal SignalRate separates: what clients said, and what
// the service saw for itself (AutoOutcomes).
const (
	SignalFeedback  = "feedback"
	SignalAutomatic = "automatic"
)

// SignalRate is one model's success rate in one bucket by one kind of
// signal, with the number of judgements behind it, for an interval
// (SuccessInterval) beside the rate.
type SignalRate struct {
	Bucket string  `json:"bucket"`
	Model  string  `json:"model"`
	Kind   string  `json:"kind"`
	Rate   float64 `json:"rate"`
	N      int     `json:"n"`
}

// SignalCount is a group of the outcomes of the requests served in a
// window: those of one source about one model's work in one bucket under
// one table version, with the sum of their scores. The charts need only
// these sums, so the store counts them in one grouped query instead of
// returning every Observation. Feedback is attributed to the model that
// answered, as in Observations.
type SignalCount struct {
	Bucket       string
	Model        string
	Source       string
	TableVersion int64
	N            int
	// Score is the sum of the N scores.
	Score float64
}

// SignalRates folds outcome counts and traffic of the same window into
// each (bucket, model)'s success rate by kind, sorted by bucket, model,
// kind.
//
// Feedback: the mean score of the feedback on the model's answers, N the
// feedback count. Automatic: the share of the model's judged attempts
// that drew no failure signal. Automatic signals are failures only
// (AutoOutcomes), so the judged attempts are counted exactly as the
// model's delivered answers (TrafficGroup.Answered; the first OK attempt
// ends a request, so each is one attempt) plus its failed attempts that
// drew a signal (one signal each); a length signal is about a delivered
// answer, already counted. Attempts that drew no signal because the
// provider was unavailable, and requests cancelled or broken mid-answer,
// are judged by nothing and counted nowhere. A (bucket, model) with
// neither kind is left out.
func SignalRates(counts []SignalCount, traffic []TrafficGroup) []SignalRate {
	type key struct{ bucket, model string }
	type tally struct {
		feedback       int
		score          float64
		answers        int
		failures       int
		failedAttempts int // failures that were not the answer
	}
	t := map[key]*tally{}
	at := func(k key) *tally {
		if t[k] == nil {
			t[k] = &tally{}
		}
		return t[k]
	}
	for _, g := range traffic {
		if g.Model == "" || g.Bucket == "" {
			continue
		}
		at(key{g.Bucket, g.Model}).answers += g.Answered
	}
	for _, c := range counts {
		if c.Model == "" || c.Bucket == "" {
			continue
		}
		k := at(key{c.Bucket, c.Model})
		switch c.Source {
		case SourceFeedback:
			k.feedback += c.N
			k.score += c.Score
		case SourceLength:
			k.failures += c.N
		default:
			k.failures += c.N
			k.failedAttempts += c.N
		}
	}
	var out []SignalRate
	for k, c := range t {
		if c.feedback > 0 {
			out = append(out, SignalRate{Bucket: k.bucket, Model: k.model, Kind: SignalFeedback, Rate: c.score / float64(c.feedback), N: c.feedback})
		}
		// Without answers in the window there is no attempt count to set
		// the failures against, and failures over failures would read 0.
		// The bound keeps a length signal on a request that later broke
		// (no answer counted) from reading below zero.
		if judged := c.answers + c.failedAttempts; c.answers > 0 {
			out = append(out, SignalRate{Bucket: k.bucket, Model: k.model, Kind: SignalAutomatic,
				Rate: 1 - float64(min(c.failures, judged))/float64(judged), N: judged})
		}
	}
	slices.SortFunc(out, func(a, b SignalRate) int {
		return cmp.Or(cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.Model, b.Model), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// VersionTraffic is what traffic showed while a table version routed:
// its requests and their cost, and the feedback they drew.
type VersionTraffic struct {
	Version  int64  `json:"version"`
	Requests int    `json:"requests"`
	Cost     Micros `json:"cost_micros"`
	// Quality is the mean feedback score over Feedback judgements; zero
	// without feedback.
	Quality  float64 `json:"quality"`
	Feedback int     `json:"feedback"`
}

// CostPerRequest is the mean cost of the version's requests.
func (v VersionTraffic) CostPerRequest() Micros {
	if v.Requests == 0 {
		return 0
	}
	return v.Cost / Micros(v.Requests)
}

// TrafficByVersion folds outcome counts and traffic of the same window by
// the table version that routed each request, oldest version first.
func TrafficByVersion(counts []SignalCount, traffic []TrafficGroup) []VersionTraffic {
	by := map[int64]*VersionTraffic{}
	at := func(v int64) *VersionTraffic {
		if by[v] == nil {
			by[v] = &VersionTraffic{Version: v}
		}
		return by[v]
	}
	for _, g := range traffic {
		if g.TableVersion == 0 {
			continue
		}
		vt := at(g.TableVersion)
		vt.Requests += g.Requests
		vt.Cost += g.Cost
	}
	for _, c := range counts {
		if c.Source != SourceFeedback || c.TableVersion == 0 {
			continue
		}
		vt := at(c.TableVersion)
		vt.Feedback += c.N
		vt.Quality += c.Score
	}
	out := make([]VersionTraffic, 0, len(by))
	for _, vt := range by {
		if vt.Feedback > 0 {
			vt.Quality /= float64(vt.Feedback)
		}
		out = append(out, *vt)
	}
	slices.SortFunc(out, func(a, b VersionTraffic) int { return cmp.Compare(a.Version, b.Version) })
	return out
}

// Names under which a learned version's Provenance.Params keep the
// gate's replay estimate of the version (learner.Job), so what the
// replay predicted can be set beside what traffic then showed.
const (
	// ParamReplayQuality is the replayed quality (success rate).
	ParamReplayQuality = "replay_quality"
	// ParamReplayCost is the replayed cost of a request, micro-USD.
	ParamReplayCost = "replay_cost_micros"
	// ParamReplaySamples is how many logged requests the replay rests on.
	ParamReplaySamples = "replay_samples"
)
