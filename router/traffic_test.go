package router

import (
	"reflect"
	"testing"
)

func TestSignalRates(t *testing.T) {
	traffic := []TrafficGroup{
		// Two of mini's requests broke or were cancelled mid-answer: not
		// judged answers.
		{Day: "d1", Model: "mini", Bucket: "simple", TableVersion: 1, Requests: 10, Answered: 8},
		{Day: "d2", Model: "mini", Bucket: "simple", TableVersion: 2, Requests: 2, Answered: 2},
		{Day: "d1", Model: "big", Bucket: "complex", TableVersion: 1, Requests: 4, Answered: 4},
		{Day: "d1", Model: "", Bucket: "simple", Requests: 3}, // nothing answered
	}
	obs := []SignalCount{
		{Bucket: "simple", Model: "mini", Source: SourceFeedback, TableVersion: 1, N: 1, Score: 1},
		{Bucket: "simple", Model: "mini", Source: SourceFeedback, TableVersion: 2, N: 1, Score: 0.5},
		{Bucket: "simple", Model: "mini", Source: SourceLength, N: 1},     // an answer cut off: already counted
		{Bucket: "simple", Model: "mini", Source: SourceEscalation, N: 1}, // a failed attempt before another answered
		{Bucket: "complex", Model: "tiny", Source: SourceError, N: 3},     // no answers in traffic: no automatic rate
		{Bucket: "", Model: "mini", Source: SourceError, N: 5},            // not routed: no bucket to chart
	}
	want := []SignalRate{
		{Bucket: "simple", Model: "mini", Kind: SignalAutomatic, Rate: 1 - float64(2)/float64(11), N: 11},
		{Bucket: "simple", Model: "mini", Kind: SignalFeedback, Rate: 0.75, N: 2},
		// big has traffic and no failure: every judged attempt succeeded.
	}
	want = append([]SignalRate{{Bucket: "complex", Model: "big", Kind: SignalAutomatic, Rate: 1, N: 4}}, want...)
	if got := SignalRates(obs, traffic); !reflect.DeepEqual(got, want) {
		t.Errorf("SignalRates =\n%+v\nwant\n%+v", got, want)
	}
	if got := SignalRates(nil, nil); len(got) != 0 {
		t.Errorf("SignalRates(nothing) = %+v, want none", got)
	}
}

func TestTrafficByVersion(t *testing.T) {
	traffic := []TrafficGroup{
		{Model: "mini", Bucket: "simple", TableVersion: 2, Requests: 3, Cost: 30},
		{Model: "big", Bucket: "complex", TableVersion: 1, Requests: 1, Cost: 500},
		{Model: "big", Bucket: "complex", TableVersion: 2, Requests: 1, Cost: 70},
		{Model: "big", TableVersion: 0, Requests: 5, Cost: 1}, // routed by no version
	}
	obs := []SignalCount{
		{TableVersion: 2, Model: "mini", Source: SourceFeedback, N: 2, Score: 1},
		{TableVersion: 2, Model: "big", Source: SourceFeedback, N: 1, Score: 1},
		{TableVersion: 1, Source: SourceError, N: 4}, // not feedback
	}
	want := []VersionTraffic{
		{Version: 1, Requests: 1, Cost: 500},
		{Version: 2, Requests: 4, Cost: 100, Quality: 2.0 / 3, Feedback: 3},
	}
	got := TrafficByVersion(obs, traffic)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TrafficByVersion =\n%+v\nwant\n%+v", got, want)
	}
	if c := got[1].CostPerRequest(); c != 25 {
		t.Errorf("CostPerRequest = %d, want 25", c)
	}
}
