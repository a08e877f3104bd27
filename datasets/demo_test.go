package datasets

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite demo.jsonl.gz from Generate(DemoConfig())")

// TestDemoGolden keeps the committed demo.jsonl.gz equal to what the
// generator produces; `go test ./datasets -update` (or `go generate
// ./datasets`) rewrites it after an intended change.
func TestDemoGolden(t *testing.T) {
	var want bytes.Buffer
	if err := WriteGzip(&want, Generate(DemoConfig())); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("demo.jsonl.gz", want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("demo.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	// Compare the content first, for a clearer message if it differs.
	if g, w := gunzip(t, got), gunzip(t, want.Bytes()); !bytes.Equal(g, w) {
		t.Fatalf("demo.jsonl.gz content differs from Generate(DemoConfig()) (%d vs %d bytes); run go generate ./datasets", len(g), len(w))
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("demo.jsonl.gz has the right content but different compressed bytes; run go generate ./datasets")
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDemo(t *testing.T) {
	items, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if len(items) != DemoSize {
		t.Errorf("got %d items, want %d", len(items), DemoSize)
	}
	got, want := Models(items), []string{"claude-haiku-4-5", "claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini", "llama-3.1-8b-instant"}
	if len(got) != len(want) {
		t.Fatalf("got models %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("got models %v, want %v", got, want)
			break
		}
	}
	// Each call returns fresh items that callers may modify.
	items[0].Prompt = "changed"
	again, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Prompt == "changed" {
		t.Error("Demo returned shared items")
	}
}
