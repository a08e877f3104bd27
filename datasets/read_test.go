package datasets

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func intp(v int) *int           { return &v }
func floatp(v float64) *float64 { return &v }

func TestScanValid(t *testing.T) {
	// Lines as the public conversions write them: nulls, a "correct"
	// without score, unknown fields.
	const file = `{"id": "a", "prompt": "What is 2+2?", "source": "demo/x", "split": "test", "outcomes": {"m1": {"score": 1, "prompt_tokens": 12, "completion_tokens": 3, "cost_usd": 0.00215, "latency_ms": 640}, "m2": {"score": 0}}, "label": {"complexity": "simple"}, "reference": "4"}

{"id": "b", "prompt": "p", "question": "q", "outcomes": {"m1": {"correct": true, "score": null, "prompt_tokens": null, "completion_tokens": null, "cost_usd": null, "response_chars": 12}, "m2": {"correct": false}}, "label": {"difficulty": null, "answer": 18}, "meta": {"contaminated": true}}
   
{"id": "c", "prompt": "p2", "outcomes": {}, "label": {"difficulty": 3, "difficulty_scale": "1..5", "subject": "Algebra", "answer": "p - q"}, "meta": {}}
{"id": "d", "prompt": "p3", "outcomes": {"m1": {"correct": null, "score": 0.25}}, "label": {"difficulty": "hard", "category": "writing"}}
`
	want := []Item{
		{ID: "a", Prompt: "What is 2+2?", Source: "demo/x", Split: "test", Reference: "4",
			Outcomes: map[string]Outcome{
				"m1": {Score: 1, PromptTokens: intp(12), CompletionTokens: intp(3), CostUSD: floatp(0.00215), LatencyMS: intp(640)},
				"m2": {Score: 0},
			},
			Label: Label{Complexity: "simple"}},
		{ID: "b", Prompt: "p", Outcomes: map[string]Outcome{"m1": {Score: 1}, "m2": {Score: 0}}, Label: Label{Answer: "18"}},
		{ID: "c", Prompt: "p2", Outcomes: map[string]Outcome{}, Label: Label{Difficulty: floatp(3), Answer: "p - q"}},
		{ID: "d", Prompt: "p3", Outcomes: map[string]Outcome{"m1": {Score: 0.25}}, Label: Label{Category: "writing"}},
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"plain", []byte(file)},
		{"gzip", gzipped(t, file)},
		{"crlf", []byte(strings.ReplaceAll(file, "\n", "\r\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if g, w := dump(got), dump(want); g != w {
				t.Errorf("got\n%s\nwant\n%s", g, w)
			}
		})
	}
}

// dump renders items with pointers followed, for comparison and messages.
func dump(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%s %q %s %s ref=%q label={%s %v %s %q}\n", it.ID, it.Prompt, it.Source, it.Split, it.Reference,
			it.Label.Complexity, deref(it.Label.Difficulty), it.Label.Category, it.Label.Answer)
		for _, m := range sortedModels(it.Outcomes) {
			o := it.Outcomes[m]
			fmt.Fprintf(&b, "  %s: %v %v %v %v %v\n", m, o.Score, deref(o.PromptTokens), deref(o.CompletionTokens), deref(o.CostUSD), deref(o.LatencyMS))
		}
	}
	return b.String()
}

func deref[T any](p *T) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestScanMalformed(t *testing.T) {
	const ok = `{"id": "ok%d", "prompt": "p%[1]d", "outcomes": {"m": {"score": 1}}}` + "\n"
	for _, tc := range []struct {
		name     string
		bad      string
		wantLine int
		wantText string
	}{
		{"bad json", `{"id": "x", "prompt": `, 4, "decoding JSON"},
		{"not an object", `[1, 2]`, 4, "decoding JSON"},
		{"wrong type", `{"id": 7, "prompt": "p", "outcomes": {"m": {"score": 1}}}`, 4, "decoding JSON"},
		{"missing id", `{"prompt": "p", "outcomes": {"m": {"score": 1}}}`, 4, "missing id"},
		{"missing prompt", `{"id": "x", "prompt": "", "outcomes": {"m": {"score": 1}}}`, 4, "missing prompt"},
		{"score above 1", `{"id": "x", "prompt": "p", "outcomes": {"m": {"score": 1.5}}}`, 4, `outcome "m": score 1.5 outside [0, 1]`},
		{"score below 0", `{"id": "x", "prompt": "p", "outcomes": {"m": {"score": -0.1}}}`, 4, "outside [0, 1]"},
		{"no score", `{"id": "x", "prompt": "p", "outcomes": {"m": {"score": null, "correct": null}}}`, 4, `outcome "m": no score`},
		{"no outcomes", `{"id": "x", "prompt": "p", "outcomes": {}}`, 4, "no outcomes"},
		{"outcomes missing", `{"id": "x", "prompt": "p", "label": {"category": "c"}}`, 4, "no outcomes"},
		{"negative tokens", `{"id": "x", "prompt": "p", "outcomes": {"m": {"score": 1, "prompt_tokens": -1}}}`, 4, "prompt_tokens -1"},
		{"duplicate id", `{"id": "ok1", "prompt": "p", "outcomes": {"m": {"score": 1}}}`, 4, `duplicate id "ok1" (first on line 1)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Three good lines and a blank one before the bad line, so the
			// reported number must count blank lines too.
			file := fmt.Sprintf(ok, 1) + fmt.Sprintf(ok, 2) + "\n" + tc.bad + "\n" + fmt.Sprintf(ok, 3)
			for _, data := range [][]byte{[]byte(file), gzipped(t, file)} {
				calls := 0
				err := Scan(bytes.NewReader(data), func(Item) error { calls++; return nil })
				var le *LineError
				if !errors.As(err, &le) {
					t.Fatalf("got error %v (%T), want *LineError", err, err)
				}
				if le.Line != tc.wantLine {
					t.Errorf("got line %d, want %d", le.Line, tc.wantLine)
				}
				if prefix := fmt.Sprintf("line %d: ", tc.wantLine); !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("got message %q, want prefix %q", err, prefix)
				}
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("got message %q, want it to contain %q", err, tc.wantText)
				}
				if calls != 2 {
					t.Errorf("got %d items before the error, want 2", calls)
				}
			}
		})
	}
}

func TestScanLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20) // far above bufio's default 64 KiB
	file := fmt.Sprintf(`{"id": "a", "prompt": %q, "outcomes": {"m": {"score": 1}}}`, long)
	items, err := Read(strings.NewReader(file))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := len(items[0].Prompt); got != len(long) {
		t.Errorf("got prompt of %d bytes, want %d", got, len(long))
	}
}

func TestScanCallbackError(t *testing.T) {
	stop := errors.New("stop")
	file := `{"id": "a", "prompt": "p", "outcomes": {"m": {"score": 1}}}` + "\n" + `{"id": "b", "prompt": "p", "outcomes": {"m": {"score": 1}}}`
	calls := 0
	err := Scan(strings.NewReader(file), func(Item) error { calls++; return stop })
	if !errors.Is(err, stop) {
		t.Errorf("got %v, want the callback's error", err)
	}
	if calls != 1 {
		t.Errorf("got %d calls, want 1", calls)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	line := `{"id": "a", "prompt": "p", "outcomes": {"m": {"score": 1}}}` + "\n"
	// A gzip file named .jsonl must still be read: detection is by content.
	plain, zipped := filepath.Join(dir, "a.jsonl.gz"), filepath.Join(dir, "b.jsonl")
	if err := os.WriteFile(plain, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zipped, gzipped(t, line), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, zipped} {
		items, err := Load(p)
		if err != nil {
			t.Fatalf("Load(%s): %v", p, err)
		}
		if len(items) != 1 || items[0].ID != "a" {
			t.Errorf("Load(%s): got %v, want one item a", p, items)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing): got %v, want os.ErrNotExist", err)
	}
}

func BenchmarkScan(b *testing.B) {
	var buf bytes.Buffer
	if err := Write(&buf, Generate(GenConfig{Seed: 7, N: 1000})); err != nil {
		b.Fatal(err)
	}
	// 100 copies of 1,000 generated lines, ids made unique per copy.
	var file bytes.Buffer
	for c := range 100 {
		file.Write(bytes.ReplaceAll(buf.Bytes(), []byte(`"id":"demo/`), fmt.Appendf(nil, `"id":"c%d/`, c)))
	}
	data := file.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := Scan(bytes.NewReader(data), func(Item) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 100_000 {
			b.Fatalf("got %d items, want 100000", n)
		}
	}
}
