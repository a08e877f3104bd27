package router

import (
	"reflect"
	"testing"
	"time"
)

func TestAutoOutcomes(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	w := OutcomeWeights{Feedback: 1, Escalation: 0.5, Error: 0.1, Timeout: 0.2, Empty: 0.3, Length: 0.4}
	tests := []struct {
		name     string
		attempts []Attempt
		want     []Outcome
	}{
		{"first answer, no signal", []Attempt{{Model: "a", Status: OutcomeOK}}, nil},
		{"escalation past a timeout and an empty answer",
			[]Attempt{
				{Model: "a", Status: OutcomeTimeout, Cost: 1},
				{Model: "b", Status: OutcomeEmpty, Cost: 2},
				{Model: "c", Status: OutcomeOK, Cost: 30},
			},
			[]Outcome{
				{RequestID: "r", Attempt: 0, Model: "a", Source: SourceEscalation, Detail: OutcomeTimeout, Weight: 0.5, Cost: 1, Time: at},
				{RequestID: "r", Attempt: 1, Model: "b", Source: SourceEscalation, Detail: OutcomeEmpty, Weight: 0.5, Cost: 2, Time: at},
			}},
		{"nothing answered: each failure by its cause",
			[]Attempt{
				{Model: "a", Status: OutcomeError},
				{Model: "b", Status: OutcomeTimeout},
				{Model: "c", Status: OutcomeEmpty, FinishReason: FinishLength},
			},
			[]Outcome{
				{RequestID: "r", Attempt: 0, Model: "a", Source: SourceError, Weight: 0.1, Time: at},
				{RequestID: "r", Attempt: 1, Model: "b", Source: SourceTimeout, Weight: 0.2, Time: at},
				{RequestID: "r", Attempt: 2, Model: "c", Source: SourceEmpty, Detail: FinishLength, Weight: 0.3, Time: at},
			}},
		{"truncated answer",
			[]Attempt{{Model: "a", Status: OutcomeOK, FinishReason: FinishLength, Cost: 5}},
			[]Outcome{{RequestID: "r", Attempt: 0, Model: "a", Source: SourceLength, Weight: 0.4, Cost: 5, Time: at}}},
		{"provider unavailable (429, 5xx, 401) says nothing about the model",
			[]Attempt{
				{Model: "a", Status: OutcomeError, StatusCode: 429},
				{Model: "a", Status: OutcomeError, StatusCode: 503},
				{Model: "b", Status: OutcomeError, StatusCode: 401},
				{Model: "c", Status: OutcomeError, StatusCode: 400},
				{Model: "d", Status: OutcomeOK},
			},
			[]Outcome{{RequestID: "r", Attempt: 3, Model: "c", Source: SourceEscalation, Detail: OutcomeError, Weight: 0.5, Time: at}}},
		{"skipped and cancelled say nothing",
			[]Attempt{{Model: "a", Status: OutcomeSkipped}, {Model: "b", Status: OutcomeCancelled}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AutoOutcomes(Record{ID: "r", Time: at, Attempts: tt.attempts}, w)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AutoOutcomes =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestNewFeedback(t *testing.T) {
	yes, no := true, false
	half, over, under := 0.5, 1.01, -0.1
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	w := DefaultOutcomeWeights()
	tests := []struct {
		name      string
		id        string
		success   *bool
		score     *float64
		wantScore float64
		wantField string // "" means valid
	}{
		{"success", "r", &yes, nil, 1, ""},
		{"failure", "r", &no, nil, 0, ""},
		{"score", "r", nil, &half, 0.5, ""},
		{"no id", "", &yes, nil, 0, "id"},
		{"both", "r", &yes, &half, 0, "score"},
		{"neither", "r", nil, nil, 0, "score"},
		{"score above 1", "r", nil, &over, 0, "score"},
		{"score below 0", "r", nil, &under, 0, "score"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewFeedback(tt.id, tt.success, tt.score, at, w)
			if tt.wantField != "" {
				e, ok := err.(*Error)
				if !ok || e.Kind != KindInvalid || e.Field != tt.wantField {
					t.Fatalf("NewFeedback error = %v, want invalid %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Outcome{RequestID: "r", Attempt: AnswerAttempt, Source: SourceFeedback, Score: tt.wantScore, Weight: w.Feedback, Time: at}
			if got != want {
				t.Errorf("NewFeedback = %+v, want %+v", got, want)
			}
		})
	}
}

func TestOutcomeWeightsFeedbackOutweighsAutomatic(t *testing.T) {
	w := DefaultOutcomeWeights()
	for _, src := range []string{SourceEscalation, SourceError, SourceTimeout, SourceEmpty, SourceLength} {
		if got := w.Of(src); got <= 0 || got >= w.Of(SourceFeedback) {
			t.Errorf("weight of %s = %v, want in (0, %v)", src, got, w.Of(SourceFeedback))
		}
	}
	if got := w.Of("bogus"); got != 0 {
		t.Errorf("weight of an unknown source = %v, want 0", got)
	}
}

func TestAnswerAttemptOf(t *testing.T) {
	rec := Record{Model: "b", Attempts: []Attempt{{Model: "a", Status: OutcomeError}, {Model: "b", Status: OutcomeOK}}}
	if got := AnswerAttemptOf(rec); got != 1 {
		t.Errorf("AnswerAttemptOf = %d, want 1", got)
	}
	if got := AnswerAttemptOf(Record{}); got != -1 {
		t.Errorf("AnswerAttemptOf(no attempts) = %d, want -1", got)
	}
}
