package datasets

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteScanRoundTrip(t *testing.T) {
	items := []Item{
		{ID: "a", Prompt: "Is 1 < 2 & 3 > 2?\nTwo lines, \"quoted\".", Source: "s/x", Split: "train", Reference: "yes",
			Outcomes: map[string]Outcome{
				"z-model": {Score: 0.5, PromptTokens: intp(10), CompletionTokens: intp(0), CostUSD: floatp(1.5e-7), LatencyMS: intp(12)},
				"a-model": {Score: 1},
			},
			Label: Label{Complexity: "moderate", Difficulty: floatp(2.5), Category: "c", Answer: "42"}},
		{ID: "b", Prompt: "p", Outcomes: map[string]Outcome{"m": {Score: 0}}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, items); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, buf.String())
	}
	if g, w := dump(got), dump(items); g != w {
		t.Errorf("round trip: got\n%s\nwant\n%s", g, w)
	}

	// Stable, readable field order; HTML characters left alone; empty
	// optional fields left out.
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2", len(lines))
	}
	wantFirst := `{"id":"a","prompt":"Is 1 < 2 & 3 > 2?\nTwo lines, \"quoted\".","source":"s/x","split":"train",` +
		`"outcomes":{"a-model":{"score":1},"z-model":{"score":0.5,"prompt_tokens":10,"completion_tokens":0,"cost_usd":1.5e-7,"latency_ms":12}},` +
		`"label":{"complexity":"moderate","difficulty":2.5,"category":"c","answer":"42"},"reference":"yes"}`
	if lines[0] != wantFirst {
		t.Errorf("got line\n%s\nwant\n%s", lines[0], wantFirst)
	}
	if want := `{"id":"b","prompt":"p","outcomes":{"m":{"score":0}}}`; lines[1] != want {
		t.Errorf("got line\n%s\nwant\n%s", lines[1], want)
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		item Item
		want string
	}{
		{"no id", Item{Prompt: "p", Outcomes: map[string]Outcome{"m": {Score: 1}}}, "missing id"},
		{"bad score", Item{ID: "x", Prompt: "p", Outcomes: map[string]Outcome{"m": {Score: 2}}}, "outside [0, 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, []Item{tc.item})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteGzipDeterministic(t *testing.T) {
	items := Generate(GenConfig{Seed: 3, N: 20})
	var a, b bytes.Buffer
	if err := WriteGzip(&a, items); err != nil {
		t.Fatal(err)
	}
	if err := WriteGzip(&b, items); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two WriteGzip calls on the same items gave different bytes")
	}
	// Header bytes 4-7 are the modification time; zero means none.
	if got := a.Bytes()[4:8]; !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("got gzip mtime bytes %v, want zero", got)
	}
	got, err := Read(&a)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if g, w := dump(got), dump(items); g != w {
		t.Error("gzip round trip changed the items")
	}
}
