package datasets

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// Item is one labeled prompt: what a router sees and how each model did on it.
type Item struct {
	ID     string `json:"id"`
	Prompt string `json:"prompt"`
	// Source names where the prompt came from, as "benchmark/subject".
	Source string `json:"source,omitempty"`
	// Split is "train" or "test" where the dataset fixes one; eval uses it
	// instead of a random split when present.
	Split string `json:"split,omitempty"`
	// Outcomes maps a model name to how that model did on the prompt.
	Outcomes map[string]Outcome `json:"outcomes"`
	Label    Label              `json:"label,omitzero"`
	// Reference is a correct answer text where one is known (an extension of
	// the format): the demo upstream answers with it when a model is right.
	Reference string `json:"reference,omitempty"`
}

// Outcome is how one model did on one prompt. Everything but Score may be
// unknown (nil): cost is then computed from tokens and prices, and tokens
// estimated from the prompt, by whoever needs them.
type Outcome struct {
	// Score is the answer's quality in [0, 1]; a correct answer is 1.
	Score            float64  `json:"score"`
	PromptTokens     *int     `json:"prompt_tokens,omitempty"`
	CompletionTokens *int     `json:"completion_tokens,omitempty"`
	CostUSD          *float64 `json:"cost_usd,omitempty"`
	LatencyMS        *int     `json:"latency_ms,omitempty"`
}

// Correct reports whether the outcome counts as a correct answer, which is
// how binary consumers (the demo upstream, success rates) read a score.
func (o Outcome) Correct() bool { return o.Score >= 0.5 }

// UnmarshalJSON reads an outcome as Scan does: a null score is taken from
// the boolean "correct" (1 or 0) that public datasets often carry instead,
// and unknown fields ("response_chars", ...) are ignored.
func (o *Outcome) UnmarshalJSON(data []byte) error {
	var raw rawOutcome
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*o = raw.outcome()
	return nil
}

// rawOutcome is an outcome as it appears on the wire.
type rawOutcome struct {
	Score            *float64 `json:"score"`
	Correct          *bool    `json:"correct"`
	PromptTokens     *int     `json:"prompt_tokens"`
	CompletionTokens *int     `json:"completion_tokens"`
	CostUSD          *float64 `json:"cost_usd"`
	LatencyMS        *int     `json:"latency_ms"`
}

func (raw rawOutcome) outcome() Outcome {
	o := Outcome{
		PromptTokens:     raw.PromptTokens,
		CompletionTokens: raw.CompletionTokens,
		CostUSD:          raw.CostUSD,
		LatencyMS:        raw.LatencyMS,
	}
	switch {
	case raw.Score != nil:
		o.Score = *raw.Score
	case raw.Correct != nil && *raw.Correct:
		o.Score = 1
	case raw.Correct != nil:
		o.Score = 0
	default:
		// Unknown: validate reports it with the item and model named,
		// which an error returned from here could not.
		o.Score = math.NaN()
	}
	return o
}

// Label is what is known about a prompt apart from model outcomes. Every
// field is optional; unknown label fields are ignored.
type Label struct {
	// Complexity is the intended routing bucket ("simple", "moderate",
	// "complex"); it is not validated here, so that a dataset with other
	// bucket names still loads.
	Complexity string `json:"complexity,omitempty"`
	// Difficulty is a dataset-specific scale (MATH levels 1-5, say).
	Difficulty *float64 `json:"difficulty,omitempty"`
	// Category is a short topic name ("math", "code", ...).
	Category string `json:"category,omitempty"`
	// Answer is the dataset's ground-truth answer where it gives one.
	Answer string `json:"answer,omitempty"`
}

// IsZero reports whether nothing is known, so that Write omits the label.
func (l Label) IsZero() bool {
	return l.Complexity == "" && l.Difficulty == nil && l.Category == "" && l.Answer == ""
}

// UnmarshalJSON reads a label permissively, as Scan does: fields of an
// unexpected type (a textual difficulty, a numeric answer) are ignored or
// converted rather than failing the line, because labels are advisory.
func (l *Label) UnmarshalJSON(data []byte) error {
	var raw rawLabel
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*l = raw.label()
	return nil
}

// rawLabel is a label as it appears on the wire.
type rawLabel struct {
	Complexity json.RawMessage `json:"complexity"`
	Difficulty json.RawMessage `json:"difficulty"`
	Category   json.RawMessage `json:"category"`
	Answer     json.RawMessage `json:"answer"`
}

func (raw rawLabel) label() Label {
	l := Label{
		Complexity: rawString(raw.Complexity),
		Category:   rawString(raw.Category),
		Answer:     rawString(raw.Answer),
	}
	if d, err := strconv.ParseFloat(string(raw.Difficulty), 64); err == nil {
		l.Difficulty = &d
	}
	return l
}

// rawItem is an item as it appears on the wire. Scan decodes into it rather
// than into Item so that encoding/json parses each line once, instead of
// once more per outcome and label inside their UnmarshalJSON methods.
type rawItem struct {
	ID        string                `json:"id"`
	Prompt    string                `json:"prompt"`
	Source    string                `json:"source"`
	Split     string                `json:"split"`
	Outcomes  map[string]rawOutcome `json:"outcomes"`
	Label     rawLabel              `json:"label"`
	Reference string                `json:"reference"`
}

func (raw *rawItem) item() Item {
	it := Item{
		ID:        raw.ID,
		Prompt:    raw.Prompt,
		Source:    raw.Source,
		Split:     raw.Split,
		Outcomes:  make(map[string]Outcome, len(raw.Outcomes)),
		Label:     raw.Label.label(),
		Reference: raw.Reference,
	}
	for m, o := range raw.Outcomes {
		it.Outcomes[m] = o.outcome()
	}
	return it
}

// rawString returns a JSON string's value, a number's text, or "".
func rawString(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		return ""
	}
	if _, err := strconv.ParseFloat(string(v), 64); err == nil {
		return string(v)
	}
	return ""
}

// validate checks what the format requires of a line beyond being JSON.
func (it *Item) validate() error {
	if it.ID == "" {
		return errors.New("missing id")
	}
	if it.Prompt == "" {
		return fmt.Errorf("item %q: missing prompt", it.ID)
	}
	// A line with neither outcomes nor a label is useless to every
	// consumer; a label alone is kept so that classifier benchmarks (MATH
	// levels, say) load through the same reader.
	if len(it.Outcomes) == 0 && it.Label.Complexity == "" && it.Label.Difficulty == nil {
		return fmt.Errorf("item %q: no outcomes", it.ID)
	}
	for _, model := range sortedModels(it.Outcomes) {
		if err := it.Outcomes[model].validate(); err != nil {
			return fmt.Errorf("item %q: outcome %q: %w", it.ID, model, err)
		}
	}
	return nil
}

func (o Outcome) validate() error {
	if math.IsNaN(o.Score) {
		return errors.New("no score (score and correct are both missing)")
	}
	if o.Score < 0 || o.Score > 1 {
		return fmt.Errorf("score %s outside [0, 1]", strconv.FormatFloat(o.Score, 'g', -1, 64))
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"prompt_tokens", o.PromptTokens}, {"completion_tokens", o.CompletionTokens}, {"latency_ms", o.LatencyMS}} {
		if f.v != nil && *f.v < 0 {
			return fmt.Errorf("%s %d: must not be negative", f.name, *f.v)
		}
	}
	if o.CostUSD != nil && *o.CostUSD < 0 {
		return fmt.Errorf("cost_usd %g: must not be negative", *o.CostUSD)
	}
	return nil
}

// Models lists the model names that appear in any item's outcomes, sorted.
func Models(items []Item) []string {
	seen := map[string]bool{}
	for i := range items {
		for m := range items[i].Outcomes {
			seen[m] = true
		}
	}
	return sortedModels(seen)
}

func sortedModels[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
