package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

// importFixtures are the importers' own test inputs.
const importFixtures = "../../datasets/importers/testdata"

func runDataset(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(string) string { return "" }
	err = run(context.Background(), append([]string{"dataset"}, args...), getenv, &out, &errb)
	return out.String(), errb.String(), err
}

func TestDatasetImport(t *testing.T) {
	tests := []struct {
		name   string
		args   func(in, out string) []string
		format string
		in     string
		out    string
		items  int
		stdout []string
	}{
		{
			name: "routellm directory to gzip", format: "routellm", in: "routellm", out: "routellm.jsonl.gz", items: 8,
			args: func(in, out string) []string { return []string{"import", "--format", "routellm", in, out} },
			stdout: []string{
				"read 13 rows from 4 files, wrote 8 items, 2 models (gpt-4-1106-preview, mistralai/Mixtral-8x7B-Instruct-v0.1)",
				"skipped 3 files not in the routellm format",
			},
		},
		{
			name: "flags after the arguments", format: "routerbench", in: "routerbench/routerbench_toy.csv", out: "rb.jsonl", items: 4,
			args:   func(in, out string) []string { return []string{"import", in, out, "--format=routerbench"} },
			stdout: []string{"read 4 rows from 1 files, wrote 4 items, 3 models"},
		},
		{
			name: "llmrouter routing data", format: "llmrouter", in: "llmrouter/routing", out: "lr.jsonl", items: 2,
			args: func(in, out string) []string { return []string{"import", "-format", "llmrouter", in, out} },
			stdout: []string{
				"read 5 rows from 1 files, wrote 2 items, 2 models",
				"ignored 1 repeated (prompt, model) records",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := filepath.Join(importFixtures, tt.in)
			out := filepath.Join(t.TempDir(), tt.out)
			stdout, stderr, err := runDataset(t, tt.args(in, out)...)
			if err != nil {
				t.Fatalf("run: %v; stderr:\n%s", err, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout %q does not contain %q", stdout, want)
				}
			}
			items, err := datasets.Load(out)
			if err != nil {
				t.Fatalf("loading the output: %v", err)
			}
			if len(items) != tt.items {
				t.Errorf("got %d items, want %d", len(items), tt.items)
			}
			raw, _ := os.ReadFile(out)
			if gz := bytes.HasPrefix(raw, []byte{0x1f, 0x8b}); gz != strings.HasSuffix(out, ".gz") {
				t.Errorf("got gzip %v for %s", gz, out)
			}
		})
	}
}

func TestDatasetImportUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(importFixtures, "routellm")
	out := filepath.Join(dir, "out.jsonl")
	self := filepath.Join(dir, "self.jsonl")
	if err := os.WriteFile(self, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "dataset: want a subcommand: import"},
		{"unknown subcommand", []string{"export"}, `dataset: unknown subcommand "export"`},
		{"missing format", []string{"import", in, out}, "--format is required: one of llmrouter, routellm, routerbench"},
		{"unknown format", []string{"import", "--format", "martian", in, out}, `unknown format "martian": want one of llmrouter, routellm, routerbench`},
		{"missing OUT", []string{"import", "--format", "routellm", in}, "want IN and OUT"},
		{"extra argument", []string{"import", "--format", "routellm", in, out, "more"}, "want IN and OUT"},
		{"bad flag", []string{"import", "--formats", "routellm", in, out}, "flag provided but not defined"},
		{"OUT is IN", []string{"import", "--format", "llmrouter", self, self}, "OUT must not be IN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runDataset(t, tt.args...)
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("got %v, want a usage error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a usage error left %s behind", out)
	}
}

// TestDatasetImportBadInput: a malformed row is reported with its file and
// row, and no output (not even a temporary file) is left behind.
func TestDatasetImportBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "mmlu_anatomy.csv")
	csv := "prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview\nQ1,True,True\nQ2,True,maybe\n"
	if err := os.WriteFile(in, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := runDataset(t, "import", "--format", "routellm", in, filepath.Join(outDir, "out.jsonl.gz"))
	if err == nil {
		t.Fatal("got no error")
	}
	var u usageError
	if errors.As(err, &u) {
		t.Errorf("got a usage error %v, want an input error", err)
	}
	want := `mmlu_anatomy.csv: row 2 (line 3): column "gpt-4-1106-preview": not a number "maybe"`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want it to contain %q", err, want)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("got %d files in the output directory, want none", len(entries))
	}
}
