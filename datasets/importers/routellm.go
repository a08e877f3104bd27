package importers

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// RouteLLM (github.com/lm-sys/RouteLLM, routellm/evals/) publishes:
//
//   - mmlu/responses/mmlu_<subject>.csv: columns prompt, then one column per
//     model holding True/False (the answer was right);
//   - gsm8k/gsm8k_responses.csv: the same, plus <model>_response columns
//     with each model's answer text;
//   - mt_bench/judgements.jsonl: FastChat's single-answer GPT-4 judgements,
//     one line per (question_id, model, turn) with a 1-10 score, and
//     mt_bench/question.jsonl (question_id, category, turns) beside it.

// canonicalModel maps the model column names of RouteLLM's older files
// (gsm8k_responses.csv, the first MMLU CSVs, judgements.jsonl) to the name
// its newer MMLU CSVs use, so that one import gives one name per model.
func canonicalModel(name string) string {
	if name == "mixtral-8x7b-instruct-v0.1" {
		return "mistralai/Mixtral-8x7B-Instruct-v0.1"
	}
	return name
}

func importRouteLLM(ctx context.Context, path string) (*Result, error) {
	files, dir, err := inputFiles(path)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, f := range files {
		var items []datasets.Item
		var rows int
		name := baseName(f)
		switch {
		// In a directory only the benchmark files are read: RouteLLM's
		// evals folder also holds an example CSV with other models.
		case strings.HasSuffix(name, ".csv") && (!dir || isBenchmarkCSV(name)):
			items, rows, err = readRouteLLMCSV(ctx, f)
		case isJudgements(name):
			items, rows, err = readMTBench(ctx, f)
		case dir:
			res.Skipped = append(res.Skipped, f)
			continue
		default:
			return nil, fmt.Errorf("%s: not a RouteLLM file: want a response CSV (mmlu_<subject>.csv, gsm8k_responses.csv) or MT-Bench judgements.jsonl", f)
		}
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, items...)
		res.Rows += rows
		res.Files++
	}
	return res, nil
}

// isBenchmarkCSV recognises RouteLLM's MMLU and GSM8K response files.
func isBenchmarkCSV(name string) bool {
	return strings.HasPrefix(name, "mmlu_") || strings.HasPrefix(name, "gsm8k")
}

// csvSource names a response CSV's benchmark: "mmlu_anatomy.csv" is
// mmlu/anatomy, "gsm8k_responses.csv" is gsm8k, any other file its stem.
func csvSource(path string) string {
	s := stem(path)
	if sub, ok := strings.CutPrefix(s, "mmlu_"); ok && sub != "" {
		return "mmlu/" + sub
	}
	return strings.TrimSuffix(s, "_responses")
}

// responseSuffix marks a column holding a model's answer text.
const responseSuffix = "_response"

// readRouteLLMCSV converts one response CSV. Item ids are the source and the
// 0-based data row: mmlu/anatomy/0, gsm8k/41.
func readRouteLLMCSV(ctx context.Context, path string) ([]datasets.Item, int, error) {
	t, err := openCSVTable(path, "prompt")
	if err != nil {
		return nil, 0, err
	}
	defer t.close()
	type column struct {
		name     string // canonical model name
		score    int
		response int // -1 when the file has no answer text
	}
	var models []column
	seen := map[string]string{}
	for i, h := range t.header {
		if h == "prompt" || h == "" || strings.HasPrefix(h, "Unnamed:") || strings.HasSuffix(h, responseSuffix) {
			continue
		}
		name := canonicalModel(h)
		if other, dup := seen[name]; dup {
			return nil, 0, fmt.Errorf("%s: header: columns %q and %q are the same model", path, other, h)
		}
		seen[name] = h
		resp, ok := t.index[h+responseSuffix]
		if !ok {
			resp = -1
		}
		models = append(models, column{name: name, score: i, response: resp})
	}
	if len(models) == 0 {
		return nil, 0, fmt.Errorf("%s: header: no model columns beside prompt", path)
	}

	source := csvSource(path)
	promptCol := t.index["prompt"]
	items, err := t.items(ctx, func(rec []string) (datasets.Item, error) {
		it := datasets.Item{
			ID:       source + "/" + strconv.Itoa(t.row-1),
			Prompt:   rec[promptCol],
			Source:   source,
			Outcomes: make(map[string]datasets.Outcome, len(models)),
		}
		if strings.TrimSpace(it.Prompt) == "" {
			return it, t.errorf("empty prompt")
		}
		for _, m := range models {
			score, ok, err := t.score(rec, m.score)
			if err != nil {
				return it, err
			}
			if !ok {
				continue
			}
			o := datasets.Outcome{Score: score}
			// The answer text is all the file says about output length;
			// an estimate from it beats one from the prompt alone.
			if m.response >= 0 && rec[m.response] != "" {
				n := datasets.EstimateTokens(rec[m.response])
				o.CompletionTokens = &n
			}
			it.Outcomes[m.name] = o
		}
		return it, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return items, t.row, nil
}
