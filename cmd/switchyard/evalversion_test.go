package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

// TestEvalVersion scores stored versions offline: the seeded table
// sends the fixture's test prompts to big, a second version to small,
// and eval-version's figures are those rows of the dataset.
func TestEvalVersion(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	cfg := `
providers: [{name: p, base_url: "http://127.0.0.1:1/v1"}]
models:
  - {name: small, provider: p, input_per_mtok: 0.1, output_per_mtok: 0.2}
  - {name: big, provider: p, input_per_mtok: 5, output_per_mtok: 15}
routing: {simple: [big, small], moderate: [big, small], complex: [big, small]}
baseline_model: big
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "sqlite:" + filepath.Join(dir, "db.sqlite")
	ctx := context.Background()
	st, err := store.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v1, err := st.SeedVersion(ctx, router.Table{"simple": {"big", "small"}, "moderate": {"big", "small"}, "complex": {"big", "small"}})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := st.CreateVersion(ctx, router.Version{ParentID: v1.ID, Status: router.StatusCandidate, Source: "test",
		Table: router.Table{"simple": {"small"}, "moderate": {"small"}, "complex": {"small"}}})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	env := map[string]string{"DATABASE_URL": url}
	score := func(version string) versionScore {
		t.Helper()
		out, stderr, err := runEval(t, env, []string{"eval-version", "--config", cfgPath, "--dataset", "testdata/eval/small.jsonl",
			"--prices", "testdata/eval/prices.json", "--version", version, "--json"})
		if err != nil {
			t.Fatalf("eval-version %s: %v\n%s", version, err, stderr)
		}
		var s versionScore
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		return s
	}
	// What eval reports for always:MODEL on the same split.
	out, stderr, err := runEval(t, nil, evalArgs("--json", "--no-store", "--policy", "always:big", "--policy", "always:small"))
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	var res struct {
		NTest    int `json:"n_test"`
		Policies []struct {
			Name    string  `json:"name"`
			Quality float64 `json:"quality"`
			CostUSD float64 `json:"cost_usd"`
		} `json:"policies"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	n := res.NTest
	want := map[string][2]float64{}
	for _, p := range res.Policies {
		want[strings.TrimPrefix(p.Name, "always:")] = [2]float64{p.Quality * float64(n), p.CostUSD}
	}
	for _, tt := range []struct {
		version, model string
		id             int64
	}{{"active", "big", v1.ID}, {"1", "big", v1.ID}, {"2", "small", v2.ID}} {
		s := score(tt.version)
		w := want[tt.model]
		if s.Version != tt.id || s.N != n || s.Calls[tt.model] != n || math.Abs(s.Quality-w[0]/float64(n)) > 1e-9 || math.Abs(s.CostUSD-w[1]) > 1e-12 {
			t.Errorf("version %s: %+v; want v%d, %d prompts to %s, quality %v, cost %v", tt.version, s, tt.id, n, tt.model, w[0]/float64(n), w[1])
		}
	}
	if _, stderr, err := runEval(t, env, []string{"eval-version", "--config", cfgPath, "--dataset", "testdata/eval/small.jsonl", "--version", "x"}); err == nil || !strings.Contains(err.Error()+stderr, "--version") {
		t.Errorf("--version x: err %v, want one naming --version", err)
	}

	// --record stores the held-out measurement where the admin page
	// reads eval runs, with the fields its learning curve plots.
	if _, stderr, err := runEval(t, env, []string{"eval-version", "--config", cfgPath, "--dataset", "testdata/eval/small.jsonl",
		"--prices", "testdata/eval/prices.json", "--version", "2", "--static", "1", "--replayed", "500", "--record", "--json"}); err != nil {
		t.Fatalf("eval-version --record: %v\n%s", err, stderr)
	}
	st, err = store.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListEvalRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d eval runs stored, want 1", len(runs))
	}
	var params struct {
		Kind            string `json:"kind"`
		Version         int64  `json:"version"`
		PromptsReplayed int    `json:"prompts_replayed"`
		StaticVersion   int64  `json:"static_version"`
		Split           string `json:"split"`
	}
	var result struct {
		Quality      float64 `json:"quality"`
		CostUSD      float64 `json:"cost_usd"`
		CostShare    float64 `json:"cost_share"`
		QualityDelta float64 `json:"quality_delta"`
		Static       struct {
			Quality float64 `json:"quality"`
			CostUSD float64 `json:"cost_usd"`
		} `json:"static"`
	}
	if err := json.Unmarshal(runs[0].Params, &params); err != nil {
		t.Fatalf("params %s: %v", runs[0].Params, err)
	}
	if err := json.Unmarshal(runs[0].Result, &result); err != nil {
		t.Fatalf("result %s: %v", runs[0].Result, err)
	}
	big, small := want["big"], want["small"]
	if got := params; got.Kind != "eval-version" || got.Version != v2.ID || got.PromptsReplayed != 500 || got.StaticVersion != v1.ID || got.Split != "test" {
		t.Errorf("params %s: want kind eval-version, version %d, 500 replayed, static %d, split test", runs[0].Params, v2.ID, v1.ID)
	}
	if runs[0].Dataset != "small.jsonl" {
		t.Errorf("dataset %q, want small.jsonl", runs[0].Dataset)
	}
	if math.Abs(result.CostShare-small[1]/big[1]) > 1e-9 || math.Abs(result.Static.CostUSD-big[1]) > 1e-12 ||
		math.Abs(result.QualityDelta-(small[0]-big[0])/float64(n)) > 1e-9 || math.Abs(result.Quality-small[0]/float64(n)) > 1e-9 {
		t.Errorf("result %s: want cost share %v, static cost %v, quality delta %v", runs[0].Result, small[1]/big[1], big[1], (small[0]-big[0])/float64(n))
	}
}
