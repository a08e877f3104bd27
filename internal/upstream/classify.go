package upstream

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/chatwire"
	"github.com/switchyard/switchyard/router"
)

// classifierCompletionTokens is the usage a classifier answer reports: a
// short JSON object.
const classifierCompletionTokens = 40

// classify answers a classifier request with a classify_prompt tool call.
// The user message is {"prompt": "..."}; a message that is not is taken as
// the prompt itself. A known prompt gets its dataset complexity, an unknown
// one a keyword heuristic's.
func (s *Server) classify(req chatRequest, d ModelDefaults) answer {
	prompt := req.lastUser()
	var wrapped struct {
		Prompt *string `json:"prompt"`
	}
	if json.Unmarshal([]byte(prompt), &wrapped) == nil && wrapped.Prompt != nil {
		prompt = *wrapped.Prompt
	}

	h := heuristic(prompt)
	a := router.Analysis{Complexity: h.Complexity, Category: h.Category, EstimatedTokens: h.EstimatedTokens}
	a.Reason = "heuristic: " + h.Reason
	it := s.lookup(prompt)
	if it != nil {
		a.Complexity = complexityFromItem(it)
		if it.Label.Category != "" {
			a.Category = it.Label.Category
		}
		if n := meanCompletionTokens(it); n > 0 {
			a.EstimatedTokens = n
		}
		if _, err := router.ParseComplexity(it.Label.Complexity); err == nil {
			a.Reason = fmt.Sprintf("the dataset labels this %s prompt %s", a.Category, a.Complexity)
		} else {
			a.Reason = fmt.Sprintf("judged %s from which models answer this %s prompt correctly", a.Complexity, a.Category)
		}
	}
	a.ReasoningRequired = a.Complexity != router.Simple || a.Category == "math" || a.Category == "reasoning"
	a.ExternalKnowledgeNeeded = a.Category == "factual" || a.Category == "explanation"
	a.MultiStep = a.Complexity != router.Simple
	if len(a.Category) > 40 {
		a.Category = a.Category[:40]
	}
	args, _ := json.Marshal(a) // a plain struct of strings, bools and ints cannot fail

	tokens := req.promptTokens()
	return answer{
		toolCall: &chatwire.FunctionCall{Name: ClassifierTool, Arguments: string(args)},
		finish:   "tool_calls",
		usage:    chatwire.NewUsage(tokens, classifierCompletionTokens),
		// A short structured answer: a quarter of the model's usual time.
		latency: d.Latency / 4,
		known:   it != nil,
		correct: true,
	}
}

// complexityFromItem reads label.complexity; without one it judges by the
// share of models that answered correctly (most: simple, half or more:
// moderate, fewer: complex), and without outcomes by the heuristic.
func complexityFromItem(it *datasets.Item) router.Complexity {
	if c, err := router.ParseComplexity(it.Label.Complexity); err == nil {
		return c
	}
	if len(it.Outcomes) == 0 {
		return heuristic(it.Prompt).Complexity
	}
	ok := 0
	for _, o := range it.Outcomes {
		if o.Correct() {
			ok++
		}
	}
	switch share := float64(ok) / float64(len(it.Outcomes)); {
	case share >= 0.8:
		return router.Simple
	case share >= 0.5:
		return router.Moderate
	}
	return router.Complex
}

func meanCompletionTokens(it *datasets.Item) int {
	sum, n := 0, 0
	for _, o := range it.Outcomes {
		if o.CompletionTokens != nil {
			sum += *o.CompletionTokens
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// guess is the heuristic's view of a prompt.
type guess struct {
	Complexity      router.Complexity
	Category        string
	EstimatedTokens int
	Reason          string
}

// cue is one keyword rule: a prompt containing any of words belongs to
// category, at least at complexity.
type cue struct {
	category   string
	complexity router.Complexity
	words      []string
}

// cues are checked in order; the first that matches decides the category.
// They cover the kinds of prompt the demo generator makes, which is what a
// demo user is likely to type too.
func cues() []cue {
	return []cue{
		{"reasoning", router.Complex, []string{"prove ", "proof", "theorem"}},
		{"system_design", router.Complex, []string{"design a", "design an", "architecture for", "system design"}},
		{"code", router.Moderate, []string{"```", "write a function", "implement", "function that", "python", "golang", "javascript", "rust", "sql", "regex", "refactor", "debug"}},
		{"summarization", router.Moderate, []string{"summarize", "summarise", "summary", "tl;dr"}},
		{"math", router.Complex, []string{"in how many", "remainder when", "sum of all", "integral", "derivative of"}},
		{"conversion", router.Simple, []string{"convert ", "how many feet", "how many miles", "in celsius", "in fahrenheit"}},
		{"explanation", router.Moderate, []string{"explain", "why does", "why is", "how does", "difference between", "compare"}},
		{"factual", router.Simple, []string{"capital of", "define ", "definition", "who was", "who is", "what is the"}},
	}
}

// heuristic guesses complexity and category from keywords and length.
func heuristic(prompt string) guess {
	lower := strings.ToLower(prompt)
	words := len(strings.Fields(prompt))
	g := guess{Complexity: router.Simple, Category: "general"}
	matched := false
	for _, c := range cues() {
		if containsAny(lower, c.words) {
			g.Category, g.Complexity, matched = c.category, c.complexity, true
			g.Reason = "mentions " + c.category + " cues"
			break
		}
	}
	if !matched && hasDigitsAndOperator(lower) {
		g.Category, matched = "math", true
		g.Reason = "arithmetic"
		if words > 25 {
			g.Complexity = router.Moderate
			g.Reason = "a word problem"
		}
	}
	// Code that must survive concurrency or failure is complex work.
	if g.Category == "code" && containsAny(lower, []string{"concurren", "thread-safe", "distributed", "crash", "include tests", "lock-free", "consensus"}) {
		g.Complexity = router.Complex
	}
	if !matched {
		g.Reason = fmt.Sprintf("%d words, no specific cues", words)
	}
	// Long prompts ask for more whatever they are about.
	switch {
	case words > 400:
		g.Complexity = router.Complex
	case words > 80 && g.Complexity == router.Simple:
		g.Complexity = router.Moderate
	}
	g.EstimatedTokens = map[router.Complexity]int{router.Simple: 40, router.Moderate: 250, router.Complex: 700}[g.Complexity]
	return g
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// hasDigitsAndOperator spots arithmetic: a digit and an operator sign or
// word.
func hasDigitsAndOperator(s string) bool {
	if !strings.ContainsFunc(s, unicode.IsDigit) {
		return false
	}
	return strings.ContainsAny(s, "+-*/×÷=^") ||
		containsAny(s, []string{"times", "divided", "plus", "minus", "how many", "how much", "calculate", "compute", "what is"})
}
