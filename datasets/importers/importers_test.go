package importers

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the importers' output")

// TestImportGolden imports each fixture, saves it, reads it back with
// datasets.Load and compares it with the reviewed golden file.
func TestImportGolden(t *testing.T) {
	tests := []struct {
		name, format, in string
		// What the import reports besides its items.
		files, rows, dups int
		skipped           []string
		models            []string
	}{
		{
			name: "routellm", format: RouteLLM, in: "testdata/routellm",
			files: 4, rows: 3 + 1 + 2 + 7,
			skipped: []string{
				"testdata/routellm/custom_dataset/custom_dataset_toy.csv",
				"testdata/routellm/mt_bench/contaminated_prompts.jsonl",
				"testdata/routellm/mt_bench/question.jsonl",
			},
			models: []string{"gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
		},
		{
			name: "routellm_mmlu_file", format: RouteLLM, in: "testdata/routellm/mmlu/responses/mmlu_toy_astronomy.csv",
			files: 1, rows: 3,
			models: []string{"gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
		},
		{
			// Given by itself, any CSV in the response layout is read.
			name: "routellm_custom_file", format: RouteLLM, in: "testdata/routellm/custom_dataset/custom_dataset_toy.csv",
			files: 1, rows: 1,
			models: []string{"gpt-4o", "gpt-4o-mini"},
		},
		{
			name: "routellm_mt_bench_file", format: RouteLLM, in: "testdata/routellm/mt_bench/judgements.jsonl",
			files: 1, rows: 7,
			models: []string{"gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
		},
		{
			name: "routerbench", format: RouterBench, in: "testdata/routerbench/routerbench_toy.csv",
			files: 1, rows: 4,
			models: []string{"gpt-4-1106-preview", "meta/llama-2-70b-chat", "mistralai/mistral-7b-chat"},
		},
		{
			name: "llmrouter_dcrouter", format: LLMRouter, in: "testdata/llmrouter/dcrouter",
			files: 2, rows: 1 + 2,
			skipped: []string{"testdata/llmrouter/dcrouter/default_llm.json"},
			models:  []string{"gemma-2-9b-it", "llama-3.1-8b-instruct", "qwen2.5-7b-instruct"},
		},
		{
			name: "llmrouter_lists", format: LLMRouter, in: "testdata/llmrouter/router_train_data_toy.json",
			files: 1, rows: 2,
			models: []string{"meta/llama-3.1-70b-instruct", "meta/llama-3.1-8b-instruct"},
		},
		{
			name: "llmrouter_routing", format: LLMRouter, in: "testdata/llmrouter/routing/default_routing_test_data.jsonl",
			files: 1, rows: 5, dups: 1,
			models: []string{"llama3-chatqa-1.5-8b", "qwen2.5-7b-instruct"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Import(context.Background(), tt.format, tt.in)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if res.Files != tt.files || res.Rows != tt.rows || res.Duplicates != tt.dups {
				t.Errorf("got files %d rows %d duplicates %d, want %d %d %d", res.Files, res.Rows, res.Duplicates, tt.files, tt.rows, tt.dups)
			}
			if !reflect.DeepEqual(res.Skipped, tt.skipped) {
				t.Errorf("got skipped %q, want %q", res.Skipped, tt.skipped)
			}
			if got := res.Models(); !reflect.DeepEqual(got, tt.models) {
				t.Errorf("got models %q, want %q", got, tt.models)
			}

			out := filepath.Join(t.TempDir(), "out.jsonl")
			if err := Save(out, res.Items); err != nil {
				t.Fatalf("Save: %v", err)
			}
			golden := filepath.Join("testdata", "golden", tt.name+".jsonl")
			if *update {
				if err := Save(golden, res.Items); err != nil {
					t.Fatal(err)
				}
			}
			got, err := datasets.Load(out)
			if err != nil {
				t.Fatalf("reading the output back: %v", err)
			}
			if !reflect.DeepEqual(got, res.Items) {
				t.Errorf("the output read back differs from the imported items")
			}
			want, err := datasets.Load(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", golden, diffIDs(got, want))
			}
			gotBytes, _ := os.ReadFile(out)
			wantBytes, _ := os.ReadFile(golden)
			if !bytes.Equal(gotBytes, wantBytes) {
				t.Errorf("output bytes differ from %s", golden)
			}
		})
	}
}

// diffIDs names the first item that differs, for a readable failure.
func diffIDs(got, want []datasets.Item) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return "first difference at item " + got[i].ID + " / " + want[i].ID
		}
	}
	return "different item counts"
}

// TestImportDeterministic imports the same input twice: identical bytes.
func TestImportDeterministic(t *testing.T) {
	for _, f := range Formats() {
		in := map[string]string{RouteLLM: "testdata/routellm", RouterBench: "testdata/routerbench", LLMRouter: "testdata/llmrouter"}[f]
		var outs [2][]byte
		for i := range outs {
			res, err := Import(context.Background(), f, in)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var buf bytes.Buffer
			if err := datasets.Write(&buf, res.Items); err != nil {
				t.Fatal(err)
			}
			outs[i] = buf.Bytes()
		}
		if !bytes.Equal(outs[0], outs[1]) {
			t.Errorf("%s: two imports of %s gave different bytes", f, in)
		}
	}
}

// TestImportGzipInput reads gzip-compressed copies of fixture files, which
// must give the same items as the plain files.
func TestImportGzipInput(t *testing.T) {
	tests := []struct{ format, src, name string }{
		{RouteLLM, "testdata/routellm/mmlu/responses/mmlu_toy_astronomy.csv", "mmlu_toy_astronomy.csv.gz"},
		{RouteLLM, "testdata/routellm/mt_bench/judgements.jsonl", "judgements.jsonl.gz"},
		{RouterBench, "testdata/routerbench/routerbench_toy.csv", "routerbench_toy.csv.gz"},
		{LLMRouter, "testdata/llmrouter/dcrouter/train.json", "train.json.gz"},
		{LLMRouter, "testdata/llmrouter/routing/default_routing_test_data.jsonl", "default_routing_test_data.jsonl.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plain, err := Import(context.Background(), tt.format, tt.src)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			gz := filepath.Join(dir, tt.name)
			writeGzip(t, gz, tt.src)
			// MT-Bench's question file is read from beside the judgements.
			if q := filepath.Join(filepath.Dir(tt.src), "question.jsonl"); strings.HasPrefix(tt.name, "judgements") {
				writeGzip(t, filepath.Join(dir, "question.jsonl.gz"), q)
			}
			got, err := Import(context.Background(), tt.format, gz)
			if err != nil {
				t.Fatalf("Import %s: %v", tt.name, err)
			}
			if !reflect.DeepEqual(got.Items, plain.Items) {
				t.Errorf("gzip input gave different items than %s", tt.src)
			}
		})
	}
}

func writeGzip(t *testing.T, dst, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportUnknownFormat(t *testing.T) {
	_, err := Import(context.Background(), "routeLLM", "testdata/routellm")
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("got %v, want ErrUnknownFormat", err)
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list format %q", err, f)
		}
	}
}

func TestImportCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The check runs on each file's first row, so even a small fixture
	// notices a canceled context.
	if _, err := Import(ctx, RouterBench, "testdata/routerbench"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestSplitFromName(t *testing.T) {
	tests := map[string]string{
		"train.json":                        "train",
		"data/test.json.gz":                 "test",
		"nq_train.json":                     "train",
		"router_test_data_nq.jsonl":         "test",
		"default_routing_train_data.jsonl":  "train",
		"trainee.json":                      "",
		"router_data.json":                  "",
		"dcrouter_preprocessed/latest.json": "",
	}
	for in, want := range tests {
		if got := splitFromName(in); got != want {
			t.Errorf("splitFromName(%q): got %q, want %q", in, got, want)
		}
	}
}
