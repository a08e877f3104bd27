package main

import (
	"encoding/json"
	"testing"
)

func TestEvalCascadeLLMShare(t *testing.T) {
	type out struct {
		Policies []struct {
			Name    string  `json:"name"`
			Quality float64 `json:"quality"`
			CostUSD float64 `json:"cost_usd"`
		} `json:"policies"`
		Cascade *struct {
			LLMShare      float64 `json:"llm_share"`
			LLMShareTrain float64 `json:"llm_share_train"`
			NTest         int     `json:"n_test"`
			NTrain        int     `json:"n_train"`
		} `json:"cascade"`
	}
	// small.jsonl repeats its training prompts in the test split, which
	// leaves the local model nothing to train on; the token dataset does not.
	data := writeTokenDataset(t, 300)
	run := func(args ...string) out {
		t.Helper()
		stdout, stderr, err := runEval(t, nil, append([]string{"eval", "--dataset", data,
			"--prices", "testdata/eval/prices.json", "--json", "--no-store", "--policy", "learned"}, args...))
		if err != nil {
			t.Fatalf("eval %v: %v\n%s", args, err, stderr)
		}
		var res out
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("eval %v: output is not JSON: %v", args, err)
		}
		return res
	}
	label := run("--classifier", "label")
	for _, tc := range []struct {
		threshold string
		want      float64
	}{
		{"0", 0},   // every local answer is confident enough
		{"1.5", 1}, // no confidence reaches it: LLM-only
	} {
		got := run("--classifier", "cascade", "--local-threshold", tc.threshold)
		c := got.Cascade
		if c == nil {
			t.Fatalf("threshold %s: no cascade field", tc.threshold)
		}
		if c.NTest == 0 || c.NTrain == 0 {
			t.Errorf("threshold %s: counted %d test, %d train prompts; want some", tc.threshold, c.NTest, c.NTrain)
		}
		if c.LLMShare != tc.want || c.LLMShareTrain != tc.want {
			t.Errorf("threshold %s: llm_share %g, train %g; want %g", tc.threshold, c.LLMShare, c.LLMShareTrain, tc.want)
		}
		if tc.want == 1 && (len(got.Policies) != 1 || len(label.Policies) != 1 || got.Policies[0] != label.Policies[0]) {
			t.Errorf("LLM-only cascade policies %+v; want the label classifier's %+v", got.Policies, label.Policies)
		}
	}
}
