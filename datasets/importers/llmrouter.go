package importers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// LLMRouter (github.com/ulab-uiuc/LLMRouter, data/) stores routing data in
// three shapes, as a JSON array or as JSON Lines:
//
//   - RouterDC's training format (data/dcrouter_preprocessed/train.json,
//     data/routerdc/output/nq_train.json): {"question", "scores": {model:
//     score}, "cluster_id"};
//   - the form it is converted from (data/routerdc/router_train_data_nq.json):
//     {"query", "llm_name_list": [...], "perf_list": [...]};
//   - the default routing data the library's pipeline writes
//     (default_routing_train_data.jsonl), one line per (query, model):
//     task_name, query, ground_truth, metric, model_name, performance,
//     input_tokens, output_tokens, response_time, ...
//
// The split is read from the file name (train.json, nq_test.json).

// llmRecord holds the fields of all three shapes.
type llmRecord struct {
	Question     *string             `json:"question"`
	Query        *string             `json:"query"`
	Scores       map[string]*float64 `json:"scores"`
	LLMNames     []string            `json:"llm_name_list"`
	Perfs        []*float64          `json:"perf_list"`
	TaskName     string              `json:"task_name"`
	GroundTruth  json.RawMessage     `json:"ground_truth"`
	Metric       string              `json:"metric"`
	ModelName    *string             `json:"model_name"`
	Performance  *float64            `json:"performance"`
	InputTokens  *float64            `json:"input_tokens"`
	OutputTokens *float64            `json:"output_tokens"`
	ResponseTime *float64            `json:"response_time"`
}

// The record shapes.
const (
	shapeRouterDC = "question+scores"
	shapeLists    = "query+llm_name_list+perf_list"
	shapeRouting  = "query+model_name+performance"
)

func (r *llmRecord) shape() string {
	switch {
	case r.Scores != nil:
		return shapeRouterDC
	case r.LLMNames != nil || r.Perfs != nil:
		return shapeLists
	case r.ModelName != nil:
		return shapeRouting
	}
	return ""
}

func (r *llmRecord) prompt() string {
	if r.Question != nil {
		return *r.Question
	}
	if r.Query != nil {
		return *r.Query
	}
	return ""
}

// errNotRoutingData marks a file that holds no LLMRouter routing records.
var errNotRoutingData = errors.New("not LLMRouter routing data")

func importLLMRouter(ctx context.Context, path string) (*Result, error) {
	files, dir, err := inputFiles(path)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, f := range files {
		name := baseName(f)
		if !strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".jsonl") {
			if dir {
				res.Skipped = append(res.Skipped, f)
				continue
			}
			return nil, fmt.Errorf("%s: want a .json or .jsonl file", f)
		}
		items, rows, dups, err := readLLMRouterFile(ctx, f)
		if dir && errors.Is(err, errNotRoutingData) {
			res.Skipped = append(res.Skipped, f)
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Items = append(res.Items, items...)
		res.Rows += rows
		res.Duplicates += dups
		res.Files++
	}
	return res, nil
}

// llmFile accumulates one file's items. Ids are llmrouter/<file stem>/<n>,
// n counting the file's prompts from 0, as in llmrouter/train/0.
type llmFile struct {
	path, stem, split string
	shape             string
	items             []datasets.Item
	byKey             map[string]int // routing shape: prompt key -> item index
	dups              int
}

func readLLMRouterFile(ctx context.Context, path string) ([]datasets.Item, int, int, error) {
	f := &llmFile{path: path, stem: stem(path), split: splitFromName(path), byKey: map[string]int{}}
	rows, err := eachJSONRecord(ctx, path, f.add)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(f.items) == 0 {
		return nil, 0, 0, fmt.Errorf("%s: no records: %w", path, errNotRoutingData)
	}
	return f.items, rows, f.dups, nil
}

// add converts one record; the caller reports errors with its position.
func (f *llmFile) add(_ int, b []byte) error {
	var r llmRecord
	if err := json.Unmarshal(b, &r); err != nil {
		if f.shape == "" { // the first record: likely another kind of file
			return fmt.Errorf("%w: %v", errNotRoutingData, err)
		}
		return fmt.Errorf("decoding JSON: %w", err)
	}
	shape := r.shape()
	switch {
	case shape == "" && f.shape == "":
		return fmt.Errorf("%w: want %s, %s or %s records", errNotRoutingData, shapeRouterDC, shapeLists, shapeRouting)
	case shape == "":
		return fmt.Errorf("unrecognised record: want %s like the records before it", f.shape)
	case f.shape == "":
		f.shape = shape
	case shape != f.shape:
		return fmt.Errorf("a %s record among %s records", shape, f.shape)
	}
	if strings.TrimSpace(r.prompt()) == "" {
		return errors.New("empty question")
	}
	switch shape {
	case shapeRouterDC:
		it := f.newItem(r.prompt(), "llmrouter")
		for m, s := range r.Scores {
			if err := f.addScore(&it, m, s, datasets.Outcome{}); err != nil {
				return err
			}
		}
		return f.append(it)
	case shapeLists:
		if len(r.LLMNames) != len(r.Perfs) {
			return fmt.Errorf("llm_name_list has %d names but perf_list %d scores", len(r.LLMNames), len(r.Perfs))
		}
		it := f.newItem(r.prompt(), "llmrouter")
		for i, m := range r.LLMNames {
			if _, dup := it.Outcomes[m]; dup {
				return fmt.Errorf("model %q listed twice", m)
			}
			if err := f.addScore(&it, m, r.Perfs[i], datasets.Outcome{}); err != nil {
				return err
			}
		}
		return f.append(it)
	default:
		return f.addRouting(&r)
	}
}

func (f *llmFile) newItem(prompt, source string) datasets.Item {
	return datasets.Item{
		ID:       "llmrouter/" + f.stem + "/" + strconv.Itoa(len(f.items)),
		Prompt:   prompt,
		Source:   source,
		Split:    f.split,
		Outcomes: map[string]datasets.Outcome{},
	}
}

// addScore records model m's outcome o with score s; a null score means the
// model was not evaluated on the prompt.
func (f *llmFile) addScore(it *datasets.Item, m string, s *float64, o datasets.Outcome) error {
	if m == "" {
		return errors.New("empty model name")
	}
	if s == nil {
		return nil
	}
	if err := checkScore(*s); err != nil {
		return fmt.Errorf("model %q: %w", m, err)
	}
	o.Score = *s
	it.Outcomes[m] = o
	return nil
}

func (f *llmFile) append(it datasets.Item) error {
	if len(it.Outcomes) == 0 {
		return errors.New("no model has a score")
	}
	f.items = append(f.items, it)
	return nil
}

// addRouting merges one (query, model) line into its prompt's item. A
// prompt is what LLMRouter's pipeline calls a unique query: task_name,
// query, ground_truth and metric together.
func (f *llmFile) addRouting(r *llmRecord) error {
	answer := rawText(r.GroundTruth)
	key := strings.Join([]string{r.TaskName, r.prompt(), answer, r.Metric}, "\x00")
	i, ok := f.byKey[key]
	if !ok {
		source := "llmrouter"
		if r.TaskName != "" {
			source += "/" + r.TaskName
		}
		it := f.newItem(r.prompt(), source)
		it.Label.Answer = answer
		f.items = append(f.items, it)
		i = len(f.items) - 1
		f.byKey[key] = i
	}
	it := &f.items[i]
	model := *r.ModelName
	if _, dup := it.Outcomes[model]; dup {
		f.dups++ // the first result stands
		return nil
	}
	var o datasets.Outcome
	var err error
	if o.PromptTokens, err = tokenCount("input_tokens", r.InputTokens); err != nil {
		return err
	}
	if o.CompletionTokens, err = tokenCount("output_tokens", r.OutputTokens); err != nil {
		return err
	}
	if t := r.ResponseTime; t != nil {
		if *t < 0 || math.IsNaN(*t) || math.IsInf(*t, 0) {
			return fmt.Errorf("response_time %v: want a non-negative number of seconds", *t)
		}
		ms := int(math.Round(*t * 1000))
		o.LatencyMS = &ms
	}
	if r.Performance == nil {
		return fmt.Errorf("model %q: missing performance", model)
	}
	return f.addScore(it, model, r.Performance, o)
}

// tokenCount checks a token count, which JSON may carry as 12 or 12.0.
func tokenCount(field string, v *float64) (*int, error) {
	if v == nil {
		return nil, nil
	}
	if *v < 0 || *v != math.Trunc(*v) || *v > math.MaxInt32 {
		return nil, fmt.Errorf("%s %v: want a non-negative whole number", field, *v)
	}
	n := int(*v)
	return &n, nil
}

// rawText is a JSON value as label text: a string's content, else the
// value's JSON (a number, or a list of accepted answers).
func rawText(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// eachJSONRecord calls fn with each record of a JSON array file (counted
// as items) or a JSON Lines file (counted as lines) and returns how many
// it read. A file holding a single JSON object is errNotRoutingData.
func eachJSONRecord(ctx context.Context, path string, fn func(n int, b []byte) error) (int, error) {
	in, err := openInput(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	br := bufio.NewReaderSize(in, 64<<10)
	first, err := firstNonSpace(br)
	if err == io.EOF {
		return 0, fmt.Errorf("%s: empty file: %w", path, errNotRoutingData)
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	if first != '[' {
		n, err := scanLines(ctx, path, br, fn)
		var re *RowError
		if errors.As(err, &re) && errors.Is(err, errNotRoutingData) {
			return 0, fmt.Errorf("%s: %w", path, re.Err) // the line number would mislead
		}
		return n, err
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return 0, fmt.Errorf("%s: decoding JSON: %w", path, err)
	}
	n := 0
	for dec.More() {
		n++
		if err := ctxErr(ctx, n); err != nil {
			return 0, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, &RowError{File: path, Unit: "item", Row: n, Err: fmt.Errorf("decoding JSON: %w", err)}
		}
		if err := fn(n, raw); err != nil {
			if errors.Is(err, errNotRoutingData) {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
			return 0, &RowError{File: path, Unit: "item", Row: n, Err: err}
		}
	}
	if _, err := dec.Token(); err != nil {
		return 0, fmt.Errorf("%s: after item %d: decoding JSON: %w", path, n, err)
	}
	return n, nil
}

// firstNonSpace peeks at the first byte that is not JSON white space,
// after dropping a UTF-8 byte order mark, which JSON decoders reject.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	if bom, _ := br.Peek(3); string(bom) == utf8BOM {
		br.Discard(3)
	}
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			return 0, err
		}
		if c := b[i-1]; !strings.ContainsRune(" \t\r\n", rune(c)) {
			return c, nil
		}
	}
}
