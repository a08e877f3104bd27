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
	Cost         Micros
	Baseline     Micros
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

// SignalRates folds outcomes and traffic of the same window into each
// (bucket, model)'s success rate by kind, sorted by bucket, model, kind.
//
// Feedback: the mean score of the feedback on the model's answers, N the
// feedback count. Automatic: the share of the model's judged attempts
// that drew no failure signal. Automatic signals are failures only
// (AutoOutcomes), so the judged attempts are the model's answers (from
// traffic) plus its failed attempts that drew a signal; a length signal
// is about an answer already counted. A (bucket, model) with neither
// kind is left out.
func SignalRates(obs []Observation, traffic []TrafficGroup) []SignalRate {
	type key struct{ bucket, model string }
	type tally struct {
		feedback, score float64
		answers         int
		failures        int
		failedAttempts  int // failures that were not the answer
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
		at(key{g.Bucket, g.Model}).answers += g.Requests
	}
	for _, o := range obs {
		if o.Model == "" || o.Bucket == "" {
			continue
		}
		c := at(key{o.Bucket, o.Model})
		switch o.Source {
		case SourceFeedback:
			c.feedback++
			c.score += o.Score
		case SourceLength:
			c.failures++
		default:
			c.failures++
			c.failedAttempts++
		}
	}
	var out []SignalRate
	for k, c := range t {
		if c.feedback > 0 {
			out = append(out, SignalRate{Bucket: k.bucket, Model: k.model, Kind: SignalFeedback, Rate: c.score / c.feedback, N: int(c.feedback)})
		}
		// Without traffic rows for the window an attempt count cannot be
		// had, and a rate of failures over failures would read 0.
		if judged := c.answers + c.failedAttempts; c.answers > 0 && judged > 0 {
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

// TrafficByVersion folds outcomes and traffic of the same window by the
// table version that routed each request, oldest version first.
func TrafficByVersion(obs []Observation, traffic []TrafficGroup) []VersionTraffic {
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
	for _, o := range obs {
		if o.Source != SourceFeedback || o.TableVersion == 0 {
			continue
		}
		vt := at(o.TableVersion)
		vt.Feedback++
		vt.Quality += o.Score
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
