package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "small.jsonl.gz")
	if err := run([]string{"-o", out, "-seed", "9", "-n", "25"}); err != nil {
		t.Fatalf("run: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := datasets.DemoConfig()
	cfg.Seed, cfg.N = 9, 25
	var want bytes.Buffer
	if err := datasets.WriteGzip(&want, datasets.Generate(cfg)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("gen output differs from WriteGzip(Generate(cfg))")
	}
	if err := run([]string{"-n", "x"}); err == nil {
		t.Error("got nil for a bad flag, want an error")
	}
}
