package importers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/datasets"
)

// isJudgements recognises an MT-Bench judgement file by name
// (RouteLLM's judgements.jsonl, FastChat's gpt-4_single.jsonl is renamed).
func isJudgements(name string) bool {
	return strings.HasSuffix(name, ".jsonl") && (strings.Contains(name, "judgement") || strings.Contains(name, "judgment"))
}

// judgement is one line of FastChat's single-answer grading output.
type judgement struct {
	QuestionID *int     `json:"question_id"`
	Model      string   `json:"model"`
	UserPrompt string   `json:"user_prompt"`
	Score      *float64 `json:"score"`
	Turn       int      `json:"turn"`
}

// mtQuestion is one line of MT-Bench's question.jsonl.
type mtQuestion struct {
	QuestionID *int     `json:"question_id"`
	Category   string   `json:"category"`
	Turns      []string `json:"turns"`
}

// maxJudgeScore is the top of the GPT-4 judge's 1-10 scale; FastChat writes
// -1 when it could not read a rating from the judge's text.
const maxJudgeScore = 10

// readMTBench converts MT-Bench judgements: one item per question, each
// model's score the mean of its judged turns divided by 10. The prompt is
// the first turn, which is what RouteLLM routes on. Categories and prompts
// come from question.jsonl beside the judgements where it exists; without
// it the first turn is recovered from the judge prompt.
func readMTBench(ctx context.Context, path string) ([]datasets.Item, int, error) {
	type sum struct {
		total float64
		n     int
	}
	scores := map[int]map[string]*sum{}
	recovered := map[int]string{} // question_id -> first turn, from judge prompts
	lines, err := scanJSONL(ctx, path, func(line int, b []byte) error {
		var j judgement
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("decoding JSON: %w", err)
		}
		switch {
		case j.QuestionID == nil:
			return errors.New("missing question_id")
		case j.Model == "":
			return errors.New("missing model")
		case j.Score == nil:
			return errors.New("missing score")
		case *j.Score > maxJudgeScore:
			return fmt.Errorf("score %v above the judge's scale of 1-10", *j.Score)
		}
		q := *j.QuestionID
		if _, ok := recovered[q]; !ok || j.Turn == 1 {
			if p := promptFromJudge(j.UserPrompt); p != "" {
				recovered[q] = p
			}
		}
		if *j.Score < 0 {
			return nil // the judge gave no readable rating
		}
		if scores[q] == nil {
			scores[q] = map[string]*sum{}
		}
		m := canonicalModel(j.Model)
		if scores[q][m] == nil {
			scores[q][m] = &sum{}
		}
		scores[q][m].total += *j.Score
		scores[q][m].n++
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	questions, err := readMTQuestions(ctx, path)
	if err != nil {
		return nil, 0, err
	}

	ids := make([]int, 0, len(scores))
	for q := range scores {
		ids = append(ids, q)
	}
	sort.Ints(ids)
	items := make([]datasets.Item, 0, len(ids))
	for _, q := range ids {
		it := datasets.Item{
			ID:       "mt_bench/" + strconv.Itoa(q),
			Source:   "mt_bench",
			Outcomes: make(map[string]datasets.Outcome, len(scores[q])),
		}
		if mq, ok := questions[q]; ok {
			it.Prompt = mq.Turns[0]
			if mq.Category != "" {
				it.Source += "/" + mq.Category
				it.Label.Category = mq.Category
			}
		} else {
			it.Prompt = recovered[q]
		}
		if it.Prompt == "" {
			return nil, 0, fmt.Errorf("%s: question %d: no prompt found; put MT-Bench's question.jsonl beside it", path, q)
		}
		for m, s := range scores[q] {
			it.Outcomes[m] = datasets.Outcome{Score: s.total / float64(s.n) / maxJudgeScore}
		}
		items = append(items, it)
	}
	return items, lines, nil
}

// readMTQuestions reads question.jsonl from the judgements' directory, if
// there is one.
func readMTQuestions(ctx context.Context, judgements string) (map[int]mtQuestion, error) {
	dir := filepath.Dir(judgements)
	var path string
	for _, name := range []string{"question.jsonl", "question.jsonl.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			path = filepath.Join(dir, name)
			break
		}
	}
	if path == "" {
		return nil, nil
	}
	questions := map[int]mtQuestion{}
	_, err := scanJSONL(ctx, path, func(line int, b []byte) error {
		var q mtQuestion
		if err := json.Unmarshal(b, &q); err != nil {
			return fmt.Errorf("decoding JSON: %w", err)
		}
		if q.QuestionID == nil {
			return errors.New("missing question_id")
		}
		if len(q.Turns) == 0 || strings.TrimSpace(q.Turns[0]) == "" {
			return errors.New("no turns")
		}
		questions[*q.QuestionID] = q
		return nil
	})
	return questions, err
}

// promptFromJudge recovers the user's first turn from a FastChat judge
// prompt: single-v1 and single-math-v1 quote it after "[Question]",
// the multi-turn templates after the first "### User:".
func promptFromJudge(p string) string {
	if _, rest, ok := strings.Cut(p, "[Question]\n"); ok {
		q, _, _ := strings.Cut(rest, "\n\n[The Start of")
		return strings.TrimSpace(q)
	}
	if _, rest, ok := strings.Cut(p, "### User:\n"); ok {
		q, _, _ := strings.Cut(rest, "\n\n### ")
		return strings.TrimSpace(q)
	}
	return ""
}

// scanJSONL calls fn with each non-blank line of a JSON Lines file and
// returns the number of lines read; an error from fn is reported with the
// file and line.
func scanJSONL(ctx context.Context, path string, fn func(line int, b []byte) error) (int, error) {
	in, err := openInput(path)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	return scanLines(ctx, path, in, fn)
}

func scanLines(ctx context.Context, path string, r io.Reader, fn func(line int, b []byte) error) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), datasets.MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		if err := ctxErr(ctx, line); err != nil {
			return 0, err
		}
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := fn(line, b); err != nil {
			return 0, &RowError{File: path, Unit: "line", Row: line, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, &RowError{File: path, Unit: "line", Row: line + 1, Err: err}
	}
	return line, nil
}
