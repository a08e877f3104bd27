package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
)

var updateEval = flag.Bool("update-eval", false, "rewrite testdata/eval/*.golden.json")

// evalArgs runs eval on the fixture with the fixture's prices.
func evalArgs(extra ...string) []string {
	return append([]string{"eval", "--dataset", "testdata/eval/small.jsonl", "--prices", "testdata/eval/prices.json"}, extra...)
}

func runEval(t *testing.T, env map[string]string, args []string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

func TestEvalJSONGolden(t *testing.T) {
	out, stderr, err := runEval(t, nil, evalArgs("--json", "--no-store"))
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	golden := filepath.Join("testdata", "eval", "small.golden.json")
	if *updateEval {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-eval to create it)", err)
	}
	if out != string(want) {
		t.Errorf("eval --json differs from %s (run with -update-eval after checking):\n%s", golden, out)
	}

	// DESIGN.md's shape: every documented field present and filled.
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("output is not one JSON object: %v", err)
	}
	for _, k := range []string{"dataset", "n_train", "n_test", "policies", "curve", "apgr"} {
		if v, ok := obj[k]; !ok || v == nil {
			t.Errorf("JSON lacks %q", k)
		}
	}
	policies, _ := obj["policies"].([]any)
	if len(policies) == 0 {
		t.Fatal("no policies")
	}
	for _, p := range policies {
		pm := p.(map[string]any)
		for _, k := range []string{"name", "n", "quality", "cost_usd", "cost_per_1k", "calls_by_model", "savings_vs_strongest", "quality_vs_strongest"} {
			if _, ok := pm[k]; !ok {
				t.Errorf("policy %v lacks %q", pm["name"], k)
			}
		}
	}
}

func TestEvalErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed line", []string{"eval", "--dataset", "testdata/eval/malformed.jsonl", "--prices", "testdata/eval/prices.json", "--no-store"}, "line 3"},
		{"no price", []string{"eval", "--dataset", "testdata/eval/small.jsonl", "--no-store"}, `model "big" has no recorded cost and no price`},
		{"no dataset", []string{"eval"}, "--dataset is required"},
		{"unknown policy", evalArgs("--policy", "always:gpt-5", "--no-store"), `no model "gpt-5"`},
		{"bad classifier", evalArgs("--classifier", "llm"), "--classifier"},
		{"empty source", evalArgs("--source", "nothing/", "--no-store"), `no item's source starts with "nothing/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runEval(t, nil, tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEvalStoresRunAndWritesReport(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectSQLite)
	dir := t.TempDir()
	out, stderr, err := runEval(t, map[string]string{"DATABASE_URL": dbURL},
		evalArgs("--source", "fixture/", "--policy", "learned", "--policy", "oracle", "--report", dir))
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "learned") || !strings.Contains(out, "APGR") {
		t.Errorf("terminal output lacks the table:\n%s", out)
	}
	if strings.Contains(out, "\r") {
		t.Error("progress bar drawn on a non-terminal")
	}
	html, err := os.ReadFile(filepath.Join(dir, "eval-small-fixture.html"))
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if !bytes.Contains(html, []byte("<svg")) {
		t.Error("report has no SVG")
	}

	st := storetest.OpenURL(t, dbURL)
	runs, err := st.ListEvalRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Dataset != "small.jsonl (source fixture/)" {
		t.Fatalf("stored runs = %+v, want one for small.jsonl (source fixture/)", runs)
	}
	var params evalParams
	if err := json.Unmarshal(runs[0].Params, &params); err != nil || params.Seed != 1 || len(params.Policies) != 2 {
		t.Errorf("stored params = %s (%v), want seed 1 and two policies", runs[0].Params, err)
	}
	var res struct {
		NTest    int `json:"n_test"`
		Policies []struct{ Name string }
	}
	if err := json.Unmarshal(runs[0].Result, &res); err != nil || res.NTest != 20 || len(res.Policies) != 2 {
		t.Errorf("stored result: n_test %d, %d policies (%v); want 20, 2", res.NTest, len(res.Policies), err)
	}
}
