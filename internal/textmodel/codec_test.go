package textmodel

import (
	"bytes"
	"errors"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	exs := tokenExamples(600, 11, 0.9, 0.2)
	m := mustTrain(t, exs, Options{Seed: 1, CategoryMin: 50})
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalBinary(b)
	if err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	for _, ex := range exs[:100] {
		want, have := m.Predict(ex.Prompt, nil), got.Predict(ex.Prompt, nil)
		for h := range want {
			if want[h] != have[h] {
				t.Fatalf("prediction for %q head %d: %v after round trip, want %v", ex.Prompt, h, have[h], want[h])
			}
		}
	}
	again, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Error("re-encoding a decoded model gives different bytes")
	}
	d1, _ := m.Digest()
	d2, _ := got.Digest()
	if d1 != d2 || len(d1) != 64 {
		t.Errorf("Digest() = %q and %q, want equal SHA-256 hex", d1, d2)
	}
	if got.Samples() != m.Samples() || got.Params() != m.Params() || got.Features() != m.Features() {
		t.Errorf("header after round trip: %d %+v %+v, want %d %+v %+v",
			got.Samples(), got.Params(), got.Features(), m.Samples(), m.Params(), m.Features())
	}
}

func TestUnmarshalRejects(t *testing.T) {
	m := mustTrain(t, tokenExamples(200, 12, 0.9, 0.2), Options{Seed: 1})
	good, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"newer version", mutate(func(b []byte) []byte { b[4] = 3; return b })},
		{"version 2 without topic heads", mutate(func(b []byte) []byte { b[4] = 2; return b })},
		{"version 0", mutate(func(b []byte) []byte { b[4] = 0; return b })},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(bytes.Clone(good), 0)},
		{"header only", good[:20]},
	}
	for _, tt := range tests {
		if _, err := UnmarshalBinary(tt.data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: UnmarshalBinary() = %v, want ErrFormat", tt.name, err)
		}
	}
}

func TestMarshalRoundTripTopics(t *testing.T) {
	exs := topicExamples(3000, 21)
	m := mustTrain(t, exs, Options{Seed: 1, TopicMin: 50, CategoryMin: 50, Isotonic: true})
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := b[4]; got != 2 {
		t.Errorf("format version of a model with topic heads = %d, want 2", got)
	}
	got, err := UnmarshalBinary(b)
	if err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	for _, ex := range exs[:100] {
		want, have := m.Predict(ex.Prompt, nil), got.Predict(ex.Prompt, nil)
		for h := range want {
			if want[h] != have[h] {
				t.Fatalf("prediction for %q head %d: %v after round trip, want %v", ex.Prompt, h, have[h], want[h])
			}
		}
	}
	again, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Error("re-encoding a decoded model with topic heads gives different bytes")
	}

	plain, err := mustTrain(t, exs, Options{Seed: 1}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if got := plain[4]; got != 1 {
		t.Errorf("format version of a model without topic heads = %d, want 1", got)
	}
}
