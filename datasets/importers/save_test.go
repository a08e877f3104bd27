package importers

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

func testItems() []datasets.Item {
	return []datasets.Item{{ID: "x/0", Prompt: "p", Outcomes: map[string]datasets.Outcome{"m": {Score: 1}}}}
}

func TestSaveCompressesByName(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		gz   bool
	}{{"out.jsonl", false}, {"out.jsonl.gz", true}} {
		path := filepath.Join(dir, tt.name)
		if err := Save(path, testItems()); err != nil {
			t.Fatalf("Save %s: %v", tt.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(b, []byte{0x1f, 0x8b}); got != tt.gz {
			t.Errorf("%s: got gzip %v, want %v", tt.name, got, tt.gz)
		}
		if tt.gz {
			if _, err := gzip.NewReader(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		items, err := datasets.Load(path)
		if err != nil || len(items) != 1 || items[0].ID != "x/0" {
			t.Errorf("%s: got %v, %v, want the one item back", tt.name, items, err)
		}
		info, _ := os.Stat(path)
		if got := info.Mode().Perm(); got != 0o644 {
			t.Errorf("%s: got mode %v, want 0644", tt.name, got)
		}
	}
}

// TestSaveFailureLeavesNothing: an item Write refuses must leave neither a
// new file nor a temporary one, and must not touch an existing file.
func TestSaveFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := append(testItems(), datasets.Item{ID: "x/1", Prompt: "p", Outcomes: map[string]datasets.Outcome{"m": {Score: 2}}})

	if err := Save(filepath.Join(dir, "new.jsonl.gz"), bad); err == nil {
		t.Fatal("Save of an invalid item: got no error")
	}
	existing := filepath.Join(dir, "existing.jsonl")
	if err := os.WriteFile(existing, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Save(existing, bad); err == nil {
		t.Fatal("Save of an invalid item: got no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "existing.jsonl" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("got files %q, want only existing.jsonl", names)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Errorf("existing file changed to %q", b)
	}
}

func TestSaveMissingDirectory(t *testing.T) {
	if err := Save(filepath.Join(t.TempDir(), "no", "such", "out.jsonl"), testItems()); err == nil {
		t.Error("got no error for a missing directory")
	}
}
