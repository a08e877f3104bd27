package router

import (
	"fmt"
	"math"
	"time"
	"unicode"
	"unicode/utf8"
)

// Outcome sources: where a quality signal came from. Explicit feedback
// is a client's judgement of the answer; the automatic ones are derived
// from the request record when it is written.
const (
	SourceFeedback = "feedback"
	// SourceEscalation labels a model that failed while a later
	// candidate answered the same prompt: evidence that this model was
	// not enough for the bucket. Detail says how it failed.
	SourceEscalation = "auto:escalation"
	SourceError      = "auto:error"   // the provider returned an error and nothing answered
	SourceTimeout    = "auto:timeout" // no answer within the deadline and nothing answered
	SourceEmpty      = "auto:empty"   // an empty answer and nothing answered
	SourceLength     = "auto:length"  // the answer was cut off (finish_reason=length)
)

// AnswerAttempt is the Attempt of an outcome about the request's answer,
// whichever attempt gave it: explicit feedback, which may arrive before
// the record (and so its attempts) is written.
const AnswerAttempt = -1

// Outcome is one quality signal about one model's work on one request.
type Outcome struct {
	RequestID string
	// Attempt indexes the record's Attempts, or is AnswerAttempt.
	Attempt int
	// Model is the attempt's model; empty for AnswerAttempt, whose model
	// is the record's answering model.
	Model  string
	Source string
	// Detail qualifies Source: for an escalation, the failed attempt's
	// status or finish reason.
	Detail string
	Score  float64 // in [0, 1]; 1 is a good answer
	Weight float64 // how much the learner trusts the signal
	Cost   Micros  // what the attempt cost; zero for AnswerAttempt
	Time   time.Time
}

// OutcomeWeights say how much the learner trusts each source. Explicit
// feedback outweighs every automatic signal: a client saw the answer.
type OutcomeWeights struct {
	Feedback   float64
	Escalation float64
	Error      float64
	Timeout    float64
	Empty      float64
	Length     float64
}

// DefaultOutcomeWeights is the one place the weights are set. Provider
// errors and timeouts say more about the provider's health than about
// the model's ability, so they count least; an escalation shows the
// prompt was answerable by a stronger model, so it counts more.
func DefaultOutcomeWeights() OutcomeWeights {
	return OutcomeWeights{
		Feedback:   1,
		Escalation: 0.5,
		Error:      0.1,
		Timeout:    0.2,
		Empty:      0.4,
		Length:     0.4,
	}
}

// Of returns the weight of source; zero for an unknown source.
func (w OutcomeWeights) Of(source string) float64 {
	switch source {
	case SourceFeedback:
		return w.Feedback
	case SourceEscalation:
		return w.Escalation
	case SourceError:
		return w.Error
	case SourceTimeout:
		return w.Timeout
	case SourceEmpty:
		return w.Empty
	case SourceLength:
		return w.Length
	}
	return 0
}

// FinishLength is the finish reason of an answer cut off at the token
// limit.
const FinishLength = "length"

// AutoOutcomes derives the automatic signals of rec: a failure (score 0)
// for every attempt that errored, timed out or answered empty, labelled
// an escalation when a later attempt answered; and a failure for an
// answer cut off by the token limit. Skipped and cancelled attempts say
// nothing about the model and give no signal; neither does an answer
// nobody judged.
func AutoOutcomes(rec Record, w OutcomeWeights) []Outcome {
	answered := -1
	for i, a := range rec.Attempts {
		if a.Status == OutcomeOK {
			answered = i
		}
	}
	var out []Outcome
	for i, a := range rec.Attempts {
		source, detail := "", ""
		switch a.Status {
		case OutcomeError:
			source = SourceError
		case OutcomeTimeout:
			source = SourceTimeout
		case OutcomeEmpty:
			source = SourceEmpty
		case OutcomeOK:
			if a.FinishReason == FinishLength {
				source = SourceLength
			}
		}
		if source == "" || unavailable(a.StatusCode) {
			continue
		}
		if a.Status != OutcomeOK && i < answered {
			source, detail = SourceEscalation, a.Status
		}
		if a.Status != OutcomeOK && a.FinishReason == FinishLength {
			detail = FinishLength
		}
		out = append(out, Outcome{
			RequestID: rec.ID,
			Attempt:   i,
			Model:     a.Model,
			Source:    source,
			Detail:    detail,
			Score:     0,
			Weight:    w.Of(source),
			Cost:      a.Cost,
			Time:      rec.Time,
		})
	}
	return out
}

// NewFeedback is a client's judgement of request id's answer. Exactly
// one of success and score must be given; a bad input is a KindInvalid
// error naming the field.
func NewFeedback(id string, success *bool, score *float64, at time.Time, w OutcomeWeights) (Outcome, error) {
	if err := CheckID("id", id); err != nil {
		return Outcome{}, err
	}
	var s float64
	switch {
	case success != nil && score != nil:
		return Outcome{}, Errorf(KindInvalid, "score", "give success or score, not both")
	case success == nil && score == nil:
		return Outcome{}, Errorf(KindInvalid, "score", "one of success (true/false) or score (0 to 1) is required")
	case success != nil:
		if *success {
			s = 1
		}
	default:
		if math.IsNaN(*score) || *score < 0 || *score > 1 {
			return Outcome{}, Errorf(KindInvalid, "score", "must be between 0 and 1, got %s", fmt.Sprint(*score))
		}
		s = *score
	}
	return Outcome{
		RequestID: id,
		Attempt:   AnswerAttempt,
		Source:    SourceFeedback,
		Score:     s,
		Weight:    w.Feedback,
		Time:      at,
	}, nil
}

// AnswerAttemptOf returns the index of the attempt that answered rec, or
// -1 when none did.
func AnswerAttemptOf(rec Record) int {
	for i := len(rec.Attempts) - 1; i >= 0; i-- {
		if a := rec.Attempts[i]; a.Status == OutcomeOK && a.Model == rec.Model {
			return i
		}
	}
	return -1
}

// Observation is what the learner learns from: one outcome of one model
// on one request, with the request's bucket, the attempt's cost and the
// propensity of the routing decision. The store builds it by joining
// requests and outcomes.
type Observation struct {
	RequestID  string
	Time       time.Time // when the request was served
	Complexity Complexity
	Category   string
	// Bucket is BucketOf(Complexity, Category).
	Bucket string
	Model  string
	// Attempt is the attempt's index in the record; for feedback it is
	// resolved to the answering attempt (AnswerAttempt if unknown).
	Attempt int
	Source  string
	Detail  string
	Score   float64
	Weight  float64
	// Cost is what the attempt cost.
	Cost Micros
	// Propensity is the chance routing tried the request's first model
	// (1 without exploration); Explored says exploration picked it.
	Propensity   float64
	Explored     bool
	TableVersion int64
}

// unavailable reports whether a failed call's status says the provider
// was unavailable (rate limit, overload, credentials) rather than that the
// model could not answer: such failures say nothing about the model's
// ability and teach the learner nothing.
func unavailable(status int) bool {
	return status == 429 || status == 401 || status == 403 || status >= 500
}

// CheckID validates a client-supplied id before it reaches a database:
// non-empty, valid UTF-8, no control characters (PostgreSQL refuses a
// NUL in text, which would surface as a server error).
func CheckID(field, id string) error {
	if id == "" {
		return Errorf(KindInvalid, field, "is required")
	}
	if !utf8.ValidString(id) {
		return Errorf(KindInvalid, field, "must be valid UTF-8")
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return Errorf(KindInvalid, field, "must not contain control characters")
		}
	}
	return nil
}
