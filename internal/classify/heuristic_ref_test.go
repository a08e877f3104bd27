package classify

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/switchyard/switchyard/router"
)

// extractReference and forEachWordReference are extract and forEachWord
// as they were before the single-pass rewrite (issue 9: the heuristic
// was 27% of a policy-routed decision): the definition the fast version
// must match exactly, on any input (TestExtractMatchesReference,
// FuzzExtractMatchesReference).
func extractReference(prompt string) features {
	var f features
	lower := strings.ToLower(prompt)

	// Word-level cues, from one pass over the words.
	prevNumber := 0
	forEachWordReference(prompt, func(w string, atStart bool) {
		f.words++
		lw := strings.ToLower(w)
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsUpper(r) && !atStart && w != "I" {
			f.properNouns++
		}
		f.wordCue(lw, prevNumber)
		prevNumber = 0
		if n, ok := smallNumber(lw); ok {
			prevNumber = n
		}
	})
	if f.first && f.then {
		f.multiStep = true
	}

	// Phrase-level cues.
	for _, p := range []string{"step by step", "step-by-step", "and then", ", then", ". then", "after that", "afterwards", "followed by"} {
		if strings.Contains(lower, p) {
			f.multiStep = true
			break
		}
	}
	if countNumberedLines(prompt) >= 2 {
		f.multiStep = true
	}
	if strings.Contains(lower, "trade-off") || strings.Contains(lower, "trade off") {
		f.reasoning |= rTradeoff
	}
	if strings.Contains(lower, "pros and cons") {
		f.reasoning |= rCompare
	}
	if strings.Contains(lower, "```") || strings.Contains(lower, ":=") || strings.Contains(lower, "();") || strings.Contains(lower, "=>") {
		f.code = true
	}
	for _, p := range []string{"write a function", "write a program", "write code", "write a script", "write a class", "write a query"} {
		if strings.Contains(lower, p) {
			f.code = true
			break
		}
	}
	for _, p := range []string{`\frac`, `\int`, `\sum`, `\sqrt`, `\lim`, `\begin{`, "$$"} {
		if strings.Contains(lower, p) {
			f.mathStrong = true
			break
		}
	}
	if strings.Count(prompt, "$") >= 2 && strings.ContainsAny(prompt, `\^_=`) {
		f.mathStrong = true
	}
	eq, arith := scanMath(prompt)
	f.mathStrong = f.mathStrong || eq
	f.arithmetic = arith
	for _, p := range []string{"what is", "what was", "what are", "what were", "how many", "capital of"} {
		if strings.Contains(lower, p) {
			f.knowledge = true
			break
		}
	}
	for _, p := range []string{"how are you", "thank you", "good morning"} {
		if strings.Contains(lower, p) {
			f.greeting = true
		}
	}
	for _, p := range []string{"in one sentence", "one word", "yes or no", "in a sentence"} {
		if strings.Contains(lower, p) {
			f.brief = true
		}
	}
	return f
}

func forEachWordReference(s string, fn func(w string, atStart bool)) {
	start := -1
	atStart := true
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '\''
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			fn(s[start:i], atStart)
			start = -1
			atStart = false
		}
		if !word && (r == '.' || r == '!' || r == '?' || r == '\n' || r == ':') {
			atStart = true
		}
	}
	if start >= 0 {
		fn(s[start:], atStart)
	}
}

// cueText is what extract's equivalence tests build prompts from: every
// word and phrase cue, their pieces, punctuation, white space, digits
// and non-ASCII text, in any case.
var cueText = []string{
	"why", "prove", "Proof", "derive", "compare", "VS", "design", "tradeoffs", "trade-off", "trade off",
	"analyse", "evaluate", "justify", "critique", "optimise", "pros and cons", "solve", "integral",
	"theorem", "matrix", "implement", "Python", "func", "def", "```", ":=", "();", "=>", "write",
	"write a function", "write a program", "write code", "write a script", "write a class", "write a query",
	`\frac`, `\int`, `\sum`, `\sqrt`, `\lim`, `\begin{`, "$$", "$", "^", "_", "=", "+", "*", "3x", "x", "2+2", "12 * 7",
	"first", "then", "and then", ", then", ". then", "after that", "afterwards", "followed by",
	"step by step", "step-by-step", "step", "what is", "what was", "what are", "what were", "what",
	"how many", "how are you", "how", "capital of", "thank you", "good morning", "hi", "hello",
	"in one sentence", "one word", "yes or no", "in a sentence", "brief", "300 words", "words", "500",
	"who", "today", "latest", "2019", "1850", "law", "court", "patient", "dose", "translate", "summary",
	"essay", "poem", "Paris", "France", "I", "Über", "ÉCOLE", "naïve", "日本語", "Ωmega", "\xff", "\xe2\x82",
	"1.", "2)", "10.", " ", "  ", "\n", "\t", "\n\n", ".", "!", "?", ":", ",", "'", "-", "(", ")", "`", "\\",
}

// randomCuePrompt joins n random pieces of cueText, sometimes with no
// separator, sometimes upper-casing a piece.
func randomCuePrompt(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		p := cueText[r.IntN(len(cueText))]
		if r.IntN(5) == 0 {
			p = strings.ToUpper(p)
		}
		b.WriteString(p)
		switch r.IntN(4) {
		case 0:
		case 1:
			b.WriteByte('\n')
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// The fast extract finds exactly the cues of the reference one, on the
// heuristic's test prompts, the benchmark prompts and random mixtures of
// every cue, raw and normalised (the policy path hands it the latter).
func TestExtractMatchesReference(t *testing.T) {
	prompts := []string{"", " ", "I", "hi", "What is 2+2?", "Solve 3x + 5 = 20 for x.",
		"1. Derive the gradient of the loss.\n2. Implement it in Python.\n3. Compare it with autograd.",
		"Write a 300 words essay about Paris, France. Then summarise it briefly.", "$x^2$ and $y$", "ÜBER naïve 日本語 Ωmega. Paris London"}
	r := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		prompts = append(prompts, randomCuePrompt(r, 1+r.IntN(60)))
	}
	for range 50 {
		prompts = append(prompts, benchPrompt(r, 2000))
	}
	for _, p := range prompts {
		for _, in := range []string{p, router.NormalizePrompt(p)} {
			if got, want := extract(in), extractReference(in); got != want {
				t.Fatalf("extract(%q) = %+v, want %+v", in, got, want)
			}
		}
	}
}

func FuzzExtractMatchesReference(f *testing.F) {
	for _, c := range cueText {
		f.Add(c)
	}
	f.Add("First explain why, then compare: Paris vs London.\n1. a\n2. b")
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := extract(p), extractReference(p); got != want {
			t.Errorf("extract(%q) = %+v, want %+v", p, got, want)
		}
	})
}

// BenchmarkExtract compares extract with its reference on a
// 2,000-character synthetic prompt, raw and normalised as the policy path
// passes it, in one run so that machine load affects both alike.
func BenchmarkExtract(b *testing.B) {
	raw := benchPrompt(rand.New(rand.NewPCG(5, 6)), 2000)
	for _, in := range []struct{ name, p string }{{"raw", raw}, {"normalised", router.NormalizePrompt(raw)}} {
		for _, fn := range []struct {
			name string
			f    func(string) features
		}{{"reference", extractReference}, {"fast", extract}} {
			b.Run(in.name+"/"+fn.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					fn.f(in.p)
				}
			})
		}
	}
}

// cues is Analyze without the Reason, nothing else changed.
func TestHeuristicCuesAreAnalyzeWithoutReason(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 500 {
		p := randomCuePrompt(r, 1+r.IntN(40))
		want := Heuristic{}.Analyze(p)
		if want.Reason == "" {
			t.Fatalf("Analyze(%q) gave no reason", p)
		}
		want.Reason = ""
		if got := (Heuristic{}).cues(p); got != want {
			t.Fatalf("cues(%q) = %+v, want %+v", p, got, want)
		}
	}
}
