package importers

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportMalformed feeds each importer a broken file and checks that the
// error names the file and the row, line or item at fault.
func TestImportMalformed(t *testing.T) {
	const rlHeader = "prompt,mistralai/Mixtral-8x7B-Instruct-v0.1,gpt-4-1106-preview\n"
	const rbHeader = "sample_id,prompt,eval_name,m1,m1|model_response,m1|total_cost\n"
	tests := []struct {
		name, format, file, content string
		want                        string // the error must end with this
		rowError                    bool   // and be a *RowError
	}{
		{
			name: "routellm not a number", format: RouteLLM, file: "mmlu_anatomy.csv",
			content:  rlHeader + "Q1,True,False\nQ2,False,x\n",
			want:     `mmlu_anatomy.csv: row 2 (line 3): column "gpt-4-1106-preview": not a number "x"`,
			rowError: true,
		},
		{
			name: "routellm row after a multi-line prompt", format: RouteLLM, file: "mmlu_anatomy.csv",
			content:  rlHeader + "\"Q1\nA. a\nB. b\",True,False\nQ2,2,True\n",
			want:     `mmlu_anatomy.csv: row 2 (line 5): column "mistralai/Mixtral-8x7B-Instruct-v0.1": score 2 outside [0, 1]`,
			rowError: true,
		},
		{
			name: "routellm short row", format: RouteLLM, file: "gsm8k_responses.csv",
			content:  rlHeader + "Q1,True\n",
			want:     "gsm8k_responses.csv: row 1 (line 2): wrong number of fields",
			rowError: true,
		},
		{
			name: "routellm empty prompt", format: RouteLLM, file: "mmlu_x.csv",
			content:  rlHeader + "Q1,True,True\n\"\",True,True\n",
			want:     "mmlu_x.csv: row 2 (line 3): empty prompt",
			rowError: true,
		},
		{
			name: "routellm no scores", format: RouteLLM, file: "mmlu_x.csv",
			content:  rlHeader + "Q1,,\n",
			want:     "mmlu_x.csv: row 1 (line 2): no model column has a score",
			rowError: true,
		},
		{
			name: "routellm missing prompt column", format: RouteLLM, file: "mmlu_x.csv",
			content: "question,gpt-4\nQ1,True\n",
			want:    `mmlu_x.csv: header: missing column "prompt" (have question, gpt-4)`,
		},
		{
			name: "routellm unknown file", format: RouteLLM, file: "notes.txt",
			content: "hello\n",
			want:    "notes.txt: not a RouteLLM file: want a response CSV (mmlu_<subject>.csv, gsm8k_responses.csv) or MT-Bench judgements.jsonl",
		},
		{
			name: "mt-bench bad JSON", format: RouteLLM, file: "judgements.jsonl",
			content:  `{"question_id": 1, "model": "m", "score": 5, "turn": 1, "user_prompt": "[Question]\nq\n\n[The Start of"}` + "\n{oops\n",
			want:     "judgements.jsonl: line 2: decoding JSON: invalid character 'o' looking for beginning of object key string",
			rowError: true,
		},
		{
			name: "mt-bench score above scale", format: RouteLLM, file: "judgements.jsonl",
			content:  `{"question_id": 1, "model": "m", "score": 11, "turn": 1}` + "\n",
			want:     "judgements.jsonl: line 1: score 11 above the judge's scale of 1-10",
			rowError: true,
		},
		{
			name: "mt-bench missing model", format: RouteLLM, file: "judgements.jsonl",
			content:  "\n" + `{"question_id": 1, "score": 3, "turn": 1}` + "\n",
			want:     "judgements.jsonl: line 2: missing model",
			rowError: true,
		},
		{
			name: "mt-bench no prompt", format: RouteLLM, file: "judgements.jsonl",
			content: `{"question_id": 7, "model": "m", "score": 3, "turn": 1, "user_prompt": "no template here"}` + "\n",
			want:    "judgements.jsonl: question 7: no prompt found; put MT-Bench's question.jsonl beside it",
		},
		{
			name: "routerbench negative cost", format: RouterBench, file: "rb.csv",
			content:  rbHeader + "s0,\"['hi']\",e,1.0,['x'],0.1\ns1,\"['yo']\",e,0.0,['y'],-0.5\n",
			want:     `rb.csv: row 2 (line 3): column "m1|total_cost": cost -0.5: want a non-negative amount`,
			rowError: true,
		},
		{
			name: "routerbench score out of range", format: RouterBench, file: "rb.csv",
			content:  rbHeader + "s0,hi,e,7,['x'],0.1\n",
			want:     `rb.csv: row 1 (line 2): column "m1": score 7 outside [0, 1]`,
			rowError: true,
		},
		{
			name: "routerbench cost without score", format: RouterBench, file: "rb.csv",
			content: "sample_id,prompt,eval_name,m2|total_cost\ns0,hi,e,0.1\n",
			want:    `rb.csv: header: missing column "m2" (have sample_id, prompt, eval_name, m2|total_cost)`,
		},
		{
			name: "routerbench pickle", format: RouterBench, file: "routerbench_0shot.pkl",
			content: "\x80\x04",
			want:    "routerbench_0shot.pkl: not a CSV file: convert RouterBench's pickle with pandas' to_csv first (see README)",
		},
		{
			name: "llmrouter score out of range", format: LLMRouter, file: "train.json",
			content:  `[{"question": "q1", "scores": {"a": 1}}, {"question": "q2", "scores": {"a": 1.5}}]`,
			want:     `train.json: item 2: model "a": score 1.5 outside [0, 1]`,
			rowError: true,
		},
		{
			name: "llmrouter list lengths", format: LLMRouter, file: "router_train_data.json",
			content:  `[{"query": "q", "llm_name_list": ["a", "b"], "perf_list": [0.5]}]`,
			want:     "router_train_data.json: item 1: llm_name_list has 2 names but perf_list 1 scores",
			rowError: true,
		},
		{
			name: "llmrouter mixed shapes", format: LLMRouter, file: "routing.jsonl",
			content: `{"query": "q", "model_name": "a", "performance": 1}` + "\n" +
				`{"query": "q", "model_name": "b", "performance": 0}` + "\n" +
				`{"question": "q", "scores": {"a": 1}}` + "\n",
			want:     "routing.jsonl: line 3: a question+scores record among query+model_name+performance records",
			rowError: true,
		},
		{
			name: "llmrouter fractional tokens", format: LLMRouter, file: "routing.jsonl",
			content:  `{"query": "q", "model_name": "a", "performance": 1, "input_tokens": 2.5}` + "\n",
			want:     "routing.jsonl: line 1: input_tokens 2.5: want a non-negative whole number",
			rowError: true,
		},
		{
			name: "llmrouter missing performance", format: LLMRouter, file: "routing.jsonl",
			content:  `{"query": "q", "model_name": "a", "performance": null}` + "\n",
			want:     `routing.jsonl: line 1: model "a": missing performance`,
			rowError: true,
		},
		{
			name: "llmrouter truncated array", format: LLMRouter, file: "test.json",
			content:  `[{"question": "q1", "scores": {"a": 1}}, {"question": "q2", "sco`,
			want:     "test.json: item 2: decoding JSON: unexpected EOF",
			rowError: true,
		},
		{
			name: "llmrouter not routing data", format: LLMRouter, file: "default_llm.json",
			content: `{"a": {"size": "7B"}}`,
			want:    "default_llm.json: not LLMRouter routing data: want question+scores, query+llm_name_list+perf_list or query+model_name+performance records",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Import(context.Background(), tt.format, path)
			if err == nil {
				t.Fatalf("got %d items and no error, want %q", len(res.Items), tt.want)
			}
			if !strings.HasSuffix(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got error\n  %v\nwant it to name %s and end with\n  %s", err, path, tt.want)
			}
			var re *RowError
			if got := errors.As(err, &re); got != tt.rowError {
				t.Errorf("got *RowError %v, want %v", got, tt.rowError)
			}
		})
	}
}

// TestImportDuplicateIDs: two files giving the same ids cannot be merged.
func TestImportDuplicateIDs(t *testing.T) {
	dir := t.TempDir()
	csv := "prompt,a,b\nQ1,True,False\n"
	for _, sub := range []string{"one", "two"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		if err := os.WriteFile(filepath.Join(dir, sub, "mmlu_x.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Import(context.Background(), RouteLLM, dir)
	if err == nil || !strings.Contains(err.Error(), `same id "mmlu/x/0"`) {
		t.Errorf("got %v, want a duplicate id error", err)
	}
}
