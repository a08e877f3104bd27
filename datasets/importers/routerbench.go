package importers

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// RouterBench (github.com/withmartian/routerbench; data on Hugging Face as
// withmartian/routerbench, routerbench_0shot.pkl and routerbench_5shot.pkl)
// keeps one wide table: sample_id, prompt, eval_name, then per model
// <model> (the performance score in [0, 1]), <model>|model_response and
// <model>|total_cost (US dollars), and oracle_model_to_route_to. The files
// are pandas pickles; this importer reads the same table written as CSV
// (pandas' to_csv), since a pickle is Python-only.

// costSuffix and responseColSuffix end RouterBench's per-model columns.
const (
	costSuffix        = "|total_cost"
	responseColSuffix = "|model_response"
)

func importRouterBench(ctx context.Context, path string) (*Result, error) {
	files, dir, err := inputFiles(path)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, f := range files {
		if !strings.HasSuffix(baseName(f), ".csv") {
			if dir {
				res.Skipped = append(res.Skipped, f)
				continue
			}
			return nil, fmt.Errorf("%s: not a CSV file: convert RouterBench's pickle with pandas' to_csv first (see README)", f)
		}
		items, rows, err := readRouterBenchCSV(ctx, f)
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, items...)
		res.Rows += rows
		res.Files++
	}
	return res, nil
}

// readRouterBenchCSV converts one wide table. Ids are
// routerbench/<eval_name>/<sample_id>; the source is routerbench/<eval_name>.
func readRouterBenchCSV(ctx context.Context, path string) ([]datasets.Item, int, error) {
	t, err := openCSVTable(path, "sample_id", "prompt", "eval_name")
	if err != nil {
		return nil, 0, err
	}
	defer t.close()
	// The models are the columns with a cost; each must have a score too.
	type column struct {
		name        string
		score, cost int
	}
	var models []column
	for i, h := range t.header {
		name, ok := strings.CutSuffix(h, costSuffix)
		if !ok {
			continue
		}
		if err := t.require(name); err != nil {
			return nil, 0, err
		}
		models = append(models, column{name: name, score: t.index[name], cost: i})
	}
	if len(models) == 0 {
		return nil, 0, fmt.Errorf("%s: header: no <model>%s columns", path, costSuffix)
	}

	idCol, promptCol, evalCol := t.index["sample_id"], t.index["prompt"], t.index["eval_name"]
	used := map[string]int{} // id -> rows seen with it
	items, err := t.items(ctx, func(rec []string) (datasets.Item, error) {
		eval, sample := strings.TrimSpace(rec[evalCol]), strings.TrimSpace(rec[idCol])
		if eval == "" || sample == "" {
			return datasets.Item{}, t.errorf("empty eval_name or sample_id")
		}
		it := datasets.Item{
			ID:       "routerbench/" + eval + "/" + sample,
			Prompt:   promptText(rec[promptCol]),
			Source:   "routerbench/" + eval,
			Outcomes: make(map[string]datasets.Outcome, len(models)),
		}
		if strings.TrimSpace(it.Prompt) == "" {
			return it, t.errorf("empty prompt")
		}
		// RouterBench's table is a pivot on (sample_id, prompt, eval_name),
		// so one sample may appear on two rows with different prompt texts;
		// the later rows get "#2", "#3"... so that ids stay unique and
		// deterministic.
		used[it.ID]++
		if n := used[it.ID]; n > 1 {
			it.ID += "#" + strconv.Itoa(n)
		}
		for _, m := range models {
			score, ok, err := t.score(rec, m.score)
			if err != nil {
				return it, err
			}
			if !ok {
				continue
			}
			cost, err := parseCost(rec[m.cost])
			if err != nil {
				return it, t.errorf("column %q: %v", t.header[m.cost], err)
			}
			it.Outcomes[m.name] = datasets.Outcome{Score: score, CostUSD: cost}
		}
		return it, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return items, t.row, nil
}

// promptText turns RouterBench's prompt cell into text. Its converter
// stores str() of a Python list of the conversation's user turns, such as
// "['What is 2+2?']"; the turns are joined with a blank line. A cell that is
// not such a list is taken as it is.
func promptText(cell string) string {
	s := strings.TrimSpace(cell)
	if !strings.HasPrefix(s, "[") {
		return cell
	}
	parts, ok := parsePyStrList(s)
	if !ok || len(parts) == 0 {
		return cell
	}
	return strings.Join(parts, "\n\n")
}
