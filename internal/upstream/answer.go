package upstream

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/chatwire"
	"github.com/switchyard/switchyard/router"
)

// answer is what a model says to one request, before it is put on the wire.
type answer struct {
	content  string                 // the text, when not a tool call
	toolCall *chatwire.FunctionCall // a function call: the classifier's, or the first offered tool's
	finish   string                 // "stop" or "tool_calls"
	usage    chatwire.Usage
	latency  time.Duration
	known    bool // the prompt is in the dataset
	correct  bool
}

// answer decides whether the model gets the prompt right and says so.
func (s *Server) answer(req chatRequest, d ModelDefaults) answer {
	prompt := req.lastUser()
	it := s.lookup(prompt)
	a := answer{finish: "stop", latency: d.Latency}
	var category string
	var o datasets.Outcome
	recorded := false
	if it != nil {
		o, recorded = it.Outcomes[req.Model]
		category = it.Label.Category
	}
	if category == "" {
		category = heuristic(prompt).Category
	}
	if recorded {
		a.known, a.correct = true, o.Correct()
		if o.LatencyMS != nil {
			a.latency = time.Duration(*o.LatencyMS) * time.Millisecond
		}
	} else {
		// Unknown prompt, or a model the dataset has no outcome for on it:
		// the model's success rate at the prompt's estimated complexity.
		complexity := heuristic(prompt).Complexity
		if it != nil {
			complexity = complexityFromItem(it)
		}
		p := d.Success.For(string(complexity))
		a.correct = unit(s.opts.Seed, req.Model, prompt) < p
	}

	h := hash(s.opts.Seed, req.Model, prompt)
	if a.correct {
		a.content = rightText(it, category, prompt, h)
	} else {
		a.content = wrongText(it, category, prompt, h)
	}

	a.usage.PromptTokens = req.promptTokens()
	if recorded && o.PromptTokens != nil {
		a.usage.PromptTokens = *o.PromptTokens
	}
	a.usage.CompletionTokens = max(1, datasets.EstimateTokens(a.content))
	if recorded && o.CompletionTokens != nil {
		a.usage.CompletionTokens = *o.CompletionTokens
	}
	a.usage.TotalTokens = a.usage.PromptTokens + a.usage.CompletionTokens
	return a
}

// modelDefaults fills in each model's defaults from the dataset: its mean
// recorded latency and its success rate per complexity bucket (the overall
// rate for a bucket it has no outcomes in). Explicit options win.
func modelDefaults(items []datasets.Item, explicit map[string]ModelDefaults) map[string]ModelDefaults {
	type stats struct {
		latencySum, latencyN int
		ok, n                map[router.Complexity]int
	}
	all := map[string]*stats{}
	for i := range items {
		c := complexityFromItem(&items[i])
		for m, o := range items[i].Outcomes {
			st := all[m]
			if st == nil {
				st = &stats{ok: map[router.Complexity]int{}, n: map[router.Complexity]int{}}
				all[m] = st
			}
			st.n[c]++
			if o.Correct() {
				st.ok[c]++
			}
			if o.LatencyMS != nil {
				st.latencySum += *o.LatencyMS
				st.latencyN++
			}
		}
	}
	out := map[string]ModelDefaults{}
	for m, st := range all {
		d := ModelDefaults{Latency: defaultLatency}
		if st.latencyN > 0 {
			d.Latency = time.Duration(st.latencySum/st.latencyN) * time.Millisecond
		}
		okAll, nAll := 0, 0
		for _, c := range router.Complexities {
			okAll, nAll = okAll+st.ok[c], nAll+st.n[c]
		}
		rate := func(c router.Complexity) float64 {
			if st.n[c] > 0 {
				return float64(st.ok[c]) / float64(st.n[c])
			}
			return float64(okAll) / float64(max(nAll, 1))
		}
		d.Success = &datasets.Rates{Simple: rate(router.Simple), Moderate: rate(router.Moderate), Complex: rate(router.Complex)}
		out[m] = d
	}
	for m, e := range explicit {
		d, ok := out[m]
		if !ok {
			d = ModelDefaults{Latency: defaultLatency, Success: &datasets.Rates{Simple: 0.9, Moderate: 0.7, Complex: 0.4}}
		}
		if e.Latency > 0 {
			d.Latency = e.Latency
		}
		if e.Success != nil {
			d.Success = e.Success
		}
		out[m] = d
	}
	return out
}

// sleep waits for d or until ctx is done, and reports whether it waited the
// whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hash mixes the seed, the model and the normalized prompt, so that every
// decision about a (model, prompt) pair is the same on every call.
func hash(seed uint64, model, prompt string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(model))
	h.Write([]byte{0})
	h.Write([]byte(router.NormalizePrompt(prompt)))
	// splitmix64's finalizer spreads FNV's weak low bits.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unit maps a (model, prompt) pair to a number in [0, 1).
func unit(seed uint64, model, prompt string) float64 {
	return float64(hash(seed, model, prompt)>>11) / (1 << 53)
}

// omitted matches the marker the classifier puts in a shortened prompt.
var omitted = regexp.MustCompile(`\n\[\.\.\. \d+ bytes omitted \.\.\.\]\n`)

// lastNumber finds the last integer or decimal in a text.
var lastNumber = regexp.MustCompile(`-?\d+(\.\d+)?`)

// rightText is a correct answer: the item's reference or label answer when
// there is one, else a plausible text for the category.
func rightText(it *datasets.Item, category, prompt string, h uint64) string {
	if it != nil && it.Reference != "" {
		return it.Reference
	}
	if it != nil && it.Label.Answer != "" {
		return "The answer is " + it.Label.Answer + "."
	}
	topic := topicOf(prompt)
	switch category {
	case "code":
		return "Here is a straightforward implementation for " + topic + ":\n\n```\n" +
			"func solve(input []int) []int {\n\tout := make([]int, 0, len(input))\n\tfor _, v := range input {\n\t\tout = append(out, v)\n\t}\n\treturn out\n}\n```\n\n" +
			"It handles empty input, runs in linear time and uses linear extra space."
	case "math":
		return "Working through it step by step: set up the quantities, combine them, and check the result against the conditions. The result satisfies every condition in " + topic + "."
	case "summarization":
		return "In short: the text reports a change, the reasons given for and against it, and what is expected to happen next."
	case "reasoning":
		return "Proof. Assume the contrary. Following the consequences step by step leads to a contradiction with the hypothesis, so the statement holds for " + topic + ". ∎"
	case "system_design":
		return "A design for " + topic + ": stateless API servers behind a load balancer, a replicated primary store with a cache in front, asynchronous workers fed by a durable queue, and metrics and alerts on every hop. The main trade-off is consistency against latency; I would keep writes strongly consistent and let reads be slightly stale."
	}
	variants := []string{
		"Here is a clear answer to " + topic + ", covering the key points and a short example.",
		"Briefly: " + topic + " comes down to a few core ideas, which fit together as follows, with a concrete example at the end.",
	}
	return variants[h%uint64(len(variants))]
}

// wrongText is a plausible but wrong answer, never empty: the right
// number nudged off where the reference has one, else a vague or off-target
// text.
func wrongText(it *datasets.Item, category, prompt string, h uint64) string {
	ref := ""
	if it != nil {
		ref = it.Reference
		if ref == "" && it.Label.Answer != "" {
			ref = "The answer is " + it.Label.Answer + "."
		}
	}
	if loc := lastNumber.FindStringIndex(ref); loc != nil {
		n, err := strconv.ParseFloat(ref[loc[0]:loc[1]], 64)
		if err == nil {
			off := float64(1 + h%7)
			if n != 0 && h%3 == 0 {
				off = math.Abs(n) // a doubling slip
			}
			wrong := strconv.FormatFloat(n+off, 'f', -1, 64)
			if strings.Contains(ref[loc[0]:loc[1]], ".") {
				wrong = strconv.FormatFloat(n+off/10, 'f', 2, 64)
			}
			return ref[:loc[0]] + wrong + ref[loc[1]:]
		}
	}
	topic := topicOf(prompt)
	switch category {
	case "code":
		return "```\nfunc solve(input []int) []int {\n\t// TODO: handle the general case\n\treturn nil\n}\n```\n\nThis covers the basic case of " + topic + "."
	case "math":
		return "Adding everything up gives 42, so that is the answer."
	case "reasoning":
		return "This is clearly true, since it holds for the first few cases and there is no reason it would stop holding."
	}
	variants := []string{
		"That depends on the context; generally speaking, it is whatever most people would expect, so there is not much more to say about " + topic + ".",
		"I'm not certain, but I believe " + topic + " is mostly a matter of convention and has no single answer.",
	}
	return variants[h%uint64(len(variants))]
}

// topicOf quotes the start of a prompt for use inside a generated answer.
func topicOf(prompt string) string {
	p := strings.Join(strings.Fields(prompt), " ")
	const maxLen = 60
	if len(p) > maxLen {
		cut := strings.LastIndexByte(p[:maxLen], ' ')
		if cut <= 0 {
			cut = maxLen
			for cut > 0 && !utf8.RuneStart(p[cut]) {
				cut--
			}
		}
		p = p[:cut] + "..."
	}
	return "\"" + strings.TrimRight(p, ".?!") + "\""
}
