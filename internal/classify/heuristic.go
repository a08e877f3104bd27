package classify

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchyard/switchyard/router"
)

// Heuristic classifies a prompt from surface cues alone: no network, no
// state, a few microseconds. It answers when no LLM is configured or the LLM
// fails, so it must be safe on any input and cheap on long ones.
//
// Complexity comes from a small additive score:
//
//	reasoning   +1 per distinct cue (why, compare, design, trade-offs,
//	            analyse, evaluate, justify, critique, optimise), +2 for
//	            prove or derive; at most +3
//	math        +1 for real mathematics (LaTeX, an equation with a
//	            variable, "solve", "integral", "theorem", ...); plain
//	            arithmetic such as "2+2" sets the category only
//	code        +1 for code (a ``` fence, "write a function", implement,
//	            def/func/class with syntax, a language name, ...)
//	multi-step  +1 (step by step, first ... then, a numbered list, ...)
//	domain      +1 for law and medicine, where a weak answer is costly
//	length      +1 over 200 words, +2 over 800 words
//
// and maps 0 to simple, 1-2 to moderate and 3 or more to complex.
//
// Only cues about the task itself count. Words a prompt can use to describe
// its own difficulty ("complex", "hard", "expert", "best model",
// "reasoning") are deliberately not cues, so a prompt cannot talk itself
// into the expensive tier (FAULTS.md B8).
type Heuristic struct{}

// Length thresholds, in words, for the length part of the score.
const (
	longWords     = 200
	veryLongWords = 800
)

// Bounds on the estimated answer length, in tokens.
const (
	minAnswerTokens = 16
	maxAnswerTokens = 8000
)

// Categories the heuristic can name. The LLM tier may name others.
const (
	catCode          = "code"
	catMath          = "math"
	catLaw           = "law"
	catMedicine      = "medicine"
	catTranslation   = "translation"
	catSummarization = "summarization"
	catWriting       = "writing"
	catKnowledge     = "knowledge"
	catReasoning     = "reasoning"
	catChat          = "chat"
	catGeneral       = "general"
)

// reasoning cue groups: each distinct group adds to the score once.
const (
	rWhy uint16 = 1 << iota
	rProve
	rDerive
	rCompare
	rDesign
	rTradeoff
	rAnalyse
	rEvaluate
	rJustify
	rCritique
	rOptimise
)

// features are the cues found in one prompt.
type features struct {
	words         int
	reasoning     uint16
	mathStrong    bool
	arithmetic    bool
	code          bool
	multiStep     bool
	knowledge     bool
	recency       bool // "latest", "today", a year: facts a model may not have
	properNouns   int
	law, medicine int
	translation   bool
	summary       bool
	writing       bool
	greeting      bool
	brief         bool
	wantWords     int // "in 300 words": the length the prompt asks for
	first, then   bool
}

// Analyze returns the heuristic analysis of prompt, with Tier set to
// router.TierHeuristic.
func (h Heuristic) Analyze(prompt string) router.Analysis { return h.analyze(prompt, true) }

// cues is Analyze without the Reason, for a caller that gives its own
// (the local tier, on every policy-routed request): the score's parts
// are then not formatted.
func (h Heuristic) cues(prompt string) router.Analysis { return h.analyze(prompt, false) }

func (Heuristic) analyze(prompt string, withReason bool) router.Analysis {
	f := extract(prompt)

	score := 0
	var parts []string
	add := func(name string, n int) {
		if n > 0 {
			score += n
			if withReason {
				parts = append(parts, fmt.Sprintf("%s+%d", name, n))
			}
		}
	}
	r := 0
	for m := f.reasoning; m != 0; m &= m - 1 {
		r++
	}
	if f.reasoning&rProve != 0 {
		r++
	}
	if f.reasoning&rDerive != 0 {
		r++
	}
	add("reasoning", min(r, 3))
	add("math", b2i(f.mathStrong))
	add("code", b2i(f.code))
	add("multi-step", b2i(f.multiStep))
	cat := f.category()
	add("domain", b2i(cat == catLaw || cat == catMedicine))
	switch {
	case f.words > veryLongWords:
		add("length", 2)
	case f.words > longWords:
		add("length", 1)
	}

	c := router.Complexity(router.Simple)
	switch {
	case score >= 3:
		c = router.Complex
	case score >= 1:
		c = router.Moderate
	}
	a := router.Analysis{
		Complexity:              c,
		ReasoningRequired:       f.reasoning != 0 || f.mathStrong,
		ExternalKnowledgeNeeded: f.externalKnowledge(),
		MultiStep:               f.multiStep,
		EstimatedTokens:         estimateAnswer(prompt, cat, c, f),
		Category:                cat,
		Tier:                    router.TierHeuristic,
	}
	if withReason {
		reason := "no complexity cues"
		if len(parts) > 0 {
			reason = "score " + fmt.Sprint(score) + " from " + strings.Join(parts, ", ")
		}
		a.Reason = "heuristic: " + reason + "; category " + cat
	}
	return a
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// externalKnowledge: recency always needs facts from outside the prompt;
// factual questions and named entities do unless the task is code or
// mathematics, where the "who" or the names are part of the exercise.
func (f features) externalKnowledge() bool {
	if f.recency {
		return true
	}
	return (f.knowledge || f.properNouns >= 2) && !f.code && !f.mathStrong && !f.arithmetic
}

// category picks one category; earlier checks win because a prompt that
// asks for code about a legal topic is still a code task.
func (f features) category() string {
	switch {
	case f.code:
		return catCode
	case f.mathStrong || f.arithmetic:
		return catMath
	case f.law > 0 && f.law >= f.medicine:
		return catLaw
	case f.medicine > 0:
		return catMedicine
	case f.translation:
		return catTranslation
	case f.summary:
		return catSummarization
	case f.writing:
		return catWriting
	case f.knowledge:
		return catKnowledge
	case f.reasoning != 0:
		return catReasoning
	case f.greeting && f.words <= 12:
		return catChat
	case f.properNouns >= 2:
		return catKnowledge
	}
	return catGeneral
}

// estimateAnswer guesses the answer length in tokens: a base by category,
// scaled by complexity, raised to an explicit word count the prompt asks
// for, halved when it asks for brevity.
func estimateAnswer(prompt, cat string, c router.Complexity, f features) int {
	promptTokens := len(prompt) / 4
	var n int
	switch cat {
	case catChat:
		n = 40
	case catKnowledge:
		n = 120
	case catTranslation:
		n = promptTokens + 20
	case catSummarization:
		n = promptTokens/4 + 60
	case catWriting:
		n = 450
	case catCode:
		n = 350
	case catMath:
		n = 250
	case catLaw, catMedicine:
		n = 300
	case catReasoning:
		n = 400
	default:
		n = 200
	}
	switch c {
	case router.Moderate:
		n *= 2
	case router.Complex:
		n *= 4
	}
	if f.wantWords > 0 {
		n = max(n, f.wantWords*4/3)
	}
	if f.brief {
		n /= 2
	}
	return min(max(n, minAnswerTokens), maxAnswerTokens)
}

// extract scans prompt for every cue: one pass over its words and one
// over its lower-cased bytes for the phrases. It runs on every request a
// per-prompt policy routes (the local tier's yes/no fields and answer
// length), so it takes a byte path for ASCII, never searches the prompt
// once per phrase and, on the normalised prompt that path hands it, lower
// cases nothing; heuristic_ref_test.go keeps the plainer definition it
// must match exactly.
func extract(prompt string) features {
	var f features
	plain := isLowerASCII(prompt)
	lower := prompt
	if !plain {
		lower = strings.ToLower(prompt)
	}

	// Word-level cues, from one pass over the words.
	prevNumber := 0
	forEachWord(prompt, func(w string, atStart bool) {
		f.words++
		lw := w
		if !plain {
			lw = strings.ToLower(w)
			if startsUpper(w) && !atStart && w != "I" {
				f.properNouns++
			}
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

	f.phrases(lower)
	if countNumberedLines(prompt) >= 2 {
		f.multiStep = true
	}
	if strings.Count(prompt, "$") >= 2 && strings.ContainsAny(prompt, `\^_=`) {
		f.mathStrong = true
	}
	eq, arith := scanMath(prompt)
	f.mathStrong = f.mathStrong || eq
	f.arithmetic = arith
	return f
}

// isLowerASCII reports whether s is ASCII with no upper-case letter, as a
// normalised prompt is: then s is its own lower case, word by word. Eight
// bytes at a time.
func isLowerASCII(s string) bool {
	const ones = 0x0101010101010101
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&(0x80*ones) != 0 {
			return false
		}
		// Each byte is below 0x80, so these sums carry into no other
		// byte: a byte's top bit is set in atLeastA when it is >= 'A',
		// in aboveZ when it is > 'Z'.
		atLeastA, aboveZ := x+(0x80-'A')*ones, x+(0x80-'Z'-1)*ones
		if atLeastA&^aboveZ&(0x80*ones) != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// startsUpper reports whether w's first rune is upper case.
func startsUpper(w string) bool {
	if w == "" {
		return false
	}
	if c := w[0]; c < utf8.RuneSelf {
		return c >= 'A' && c <= 'Z'
	}
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// phraseCue is what a phrase found in a prompt says.
type phraseCue uint8

const (
	pMultiStep phraseCue = iota
	pTradeoff
	pCompare
	pCode
	pMath
	pKnowledge
	pGreeting
	pBrief
)

// phraseCues are the phrase-level cues: a phrase anywhere in the
// lower-cased prompt sets its cue.
var phraseCues = []struct {
	text string
	cue  phraseCue
}{
	{"step by step", pMultiStep}, {"step-by-step", pMultiStep}, {"and then", pMultiStep},
	{", then", pMultiStep}, {". then", pMultiStep}, {"after that", pMultiStep},
	{"afterwards", pMultiStep}, {"followed by", pMultiStep},
	{"trade-off", pTradeoff}, {"trade off", pTradeoff},
	{"pros and cons", pCompare},
	{"```", pCode}, {":=", pCode}, {"();", pCode}, {"=>", pCode},
	{"write a function", pCode}, {"write a program", pCode}, {"write code", pCode},
	{"write a script", pCode}, {"write a class", pCode}, {"write a query", pCode},
	{`\frac`, pMath}, {`\int`, pMath}, {`\sum`, pMath}, {`\sqrt`, pMath}, {`\lim`, pMath},
	{`\begin{`, pMath}, {"$$", pMath},
	{"what is", pKnowledge}, {"what was", pKnowledge}, {"what are", pKnowledge},
	{"what were", pKnowledge}, {"how many", pKnowledge}, {"capital of", pKnowledge},
	{"how are you", pGreeting}, {"thank you", pGreeting}, {"good morning", pGreeting},
	{"in one sentence", pBrief}, {"one word", pBrief}, {"yes or no", pBrief}, {"in a sentence", pBrief},
}

// phraseIndex finds the phrases that can start at a byte from its first
// two bytes (every phrase has at least two): heads has a bit per
// two-byte head, and a head's phrases are sorted[from:to] of its entry
// in slots, a small open-addressed table. A prompt's bytes are mostly
// not a phrase's head, so most positions cost one bit test. Built once
// from phraseCues; read only.
type phraseIndex struct {
	heads  [1 << 16 / 64]uint64
	slots  [256]phraseSlot
	sorted []phraseText
}

type phraseText struct {
	text string
	cue  phraseCue
}

type phraseSlot struct {
	head     uint16
	from, to uint8
}

var phrases = newPhraseIndex()

func newPhraseIndex() *phraseIndex {
	x := &phraseIndex{}
	for _, p := range phraseCues {
		x.sorted = append(x.sorted, phraseText(p))
	}
	head := func(p phraseText) uint16 { return uint16(p.text[0]) | uint16(p.text[1])<<8 }
	slices.SortStableFunc(x.sorted, func(a, b phraseText) int { return cmp.Compare(head(a), head(b)) })
	for from := 0; from < len(x.sorted); {
		h := head(x.sorted[from])
		to := from + 1
		for to < len(x.sorted) && head(x.sorted[to]) == h {
			to++
		}
		x.heads[h/64] |= 1 << (h % 64)
		k := phraseSlotOf(h)
		for x.slots[k].to != 0 {
			k++
		}
		x.slots[k] = phraseSlot{head: h, from: uint8(from), to: uint8(to)}
		from = to
	}
	return x
}

// phraseSlotOf is where a head's slot is, or the first place to look
// for it.
func phraseSlotOf(h uint16) uint8 { return uint8(uint32(h) * 0x9e3779b1 >> 24) }

// phrases records the phrase-level cues of lower, the lower-cased
// prompt: a phrase is present when it starts at some byte (what a
// strings.Contains per phrase would find, at one scan instead of
// forty-odd).
func (f *features) phrases(lower string) {
	for i := 0; i+1 < len(lower); i++ {
		h := uint16(lower[i]) | uint16(lower[i+1])<<8
		if phrases.heads[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		k := phraseSlotOf(h)
		for phrases.slots[k].head != h {
			k++
		}
		sl := phrases.slots[k]
		for _, p := range phrases.sorted[sl.from:sl.to] {
			if strings.HasPrefix(lower[i:], p.text) {
				f.setPhrase(p.cue)
			}
		}
	}
}

func (f *features) setPhrase(c phraseCue) {
	switch c {
	case pMultiStep:
		f.multiStep = true
	case pTradeoff:
		f.reasoning |= rTradeoff
	case pCompare:
		f.reasoning |= rCompare
	case pCode:
		f.code = true
	case pMath:
		f.mathStrong = true
	case pKnowledge:
		f.knowledge = true
	case pGreeting:
		f.greeting = true
	case pBrief:
		f.brief = true
	}
}

// wordCue records what one lower-cased word says. prevNumber is the
// number just before it, for "300 words".
func (f *features) wordCue(w string, prevNumber int) {
	switch w {
	case "why":
		f.reasoning |= rWhy
	case "prove", "proof", "proves", "disprove":
		f.reasoning |= rProve
	case "derive", "derivation", "derives":
		f.reasoning |= rDerive
	case "compare", "comparison", "contrast", "versus", "vs":
		f.reasoning |= rCompare
	case "design", "architect", "architecture":
		f.reasoning |= rDesign
	case "tradeoff", "tradeoffs":
		f.reasoning |= rTradeoff
	case "analyze", "analyse", "analysis":
		f.reasoning |= rAnalyse
	case "evaluate", "assess":
		f.reasoning |= rEvaluate
	case "justify":
		f.reasoning |= rJustify
	case "critique", "critically":
		f.reasoning |= rCritique
	case "optimize", "optimise", "optimization", "optimisation":
		f.reasoning |= rOptimise

	case "solve", "equation", "equations", "integral", "integrate", "derivative", "differentiate",
		"theorem", "lemma", "polynomial", "matrix", "eigenvalue", "eigenvalues", "probability",
		"logarithm", "factorial", "prime", "primes", "inequality":
		f.mathStrong = true

	case "implement", "implementation", "function", "refactor", "debug", "compile", "regex",
		"sql", "programming", "python", "javascript", "typescript", "golang", "java", "rust",
		"kotlin", "haskell", "bash", "func", "def", "stacktrace", "segfault":
		f.code = true

	case "first", "firstly":
		f.first = true
	case "then":
		f.then = true

	case "who", "whom", "whose", "when", "where":
		f.knowledge = true
	case "latest", "current", "currently", "today", "recent", "recently", "news", "yesterday":
		f.knowledge, f.recency = true, true

	case "law", "laws", "legal", "legally", "lawsuit", "sue", "statute", "contract", "court",
		"liability", "liable", "attorney", "lawyer", "plaintiff", "defendant", "copyright",
		"trademark", "patent", "gdpr", "tenant", "landlord", "jurisdiction":
		f.law++
	case "symptom", "symptoms", "diagnosis", "diagnose", "dosage", "dose", "medication",
		"medicine", "drug", "disease", "patient", "treatment", "therapy", "doctor", "clinical",
		"fever", "infection", "prescription":
		f.medicine++

	case "translate", "translation":
		f.translation = true
	case "summarize", "summarise", "summary", "tldr", "condense":
		f.summary = true
	case "essay", "poem", "story", "haiku", "lyrics", "novel", "email", "letter", "blog",
		"article", "speech", "limerick", "sonnet":
		f.writing = true
	case "hi", "hello", "hey", "thanks":
		f.greeting = true
	case "brief", "briefly", "short", "concise", "concisely":
		f.brief = true
	case "words":
		if prevNumber > 0 {
			f.wantWords = prevNumber
		}
	default:
		if isYear(w) {
			f.knowledge, f.recency = true, true
		}
	}
}

// forEachWord calls fn for each run of letters, digits, hyphens,
// underscores or apostrophes in s; atStart is true for the first word of
// a line or after a sentence end, so capitalisation there says nothing
// about proper nouns. ASCII bytes are classified by a table, without
// decoding, and a word's ASCII bytes are skipped in one tight loop.
func forEachWord(s string, fn func(w string, atStart bool)) {
	start := -1
	atStart := true
	for i := 0; i < len(s); {
		var word, end bool
		n := 1
		if c := s[i]; c < utf8.RuneSelf {
			cl := byteClass[c]
			word, end = cl&classWord != 0, cl&classEnd != 0
			if word && start >= 0 {
				// Inside a word, the common case: run to its end.
				for i++; i < len(s) && byteClass[s[i]]&classWord != 0; i++ {
				}
				continue
			}
		} else {
			var r rune
			r, n = utf8.DecodeRuneInString(s[i:])
			word = unicode.IsLetter(r) || unicode.IsDigit(r)
		}
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			fn(s[start:i], atStart)
			start = -1
			atStart = false
		}
		if end {
			atStart = true
		}
		i += n
	}
	if start >= 0 {
		fn(s[start:], atStart)
	}
}

// Byte classes of ASCII bytes, for the heuristic's scans.
const (
	classWord   = 1 << iota // a letter, a digit, '-', '_' or '\'': part of a word
	classEnd                // '.', '!', '?', newline or ':': the next word starts a sentence
	classLetter             // an ASCII letter
)

// byteClass is each byte's classes; non-ASCII bytes have none. A
// constant table, built once.
var byteClass = func() (t [256]uint8) {
	for c := range 128 {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			t[c] = classWord | classLetter
		case c >= '0' && c <= '9', c == '-', c == '_', c == '\'':
			t[c] = classWord
		case c == '.', c == '!', c == '?', c == '\n', c == ':':
			t[c] = classEnd
		}
	}
	return t
}()

// smallNumber parses a word of one to five digits.
func smallNumber(w string) (int, bool) {
	if w == "" || len(w) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return 0, false
		}
		n = n*10 + int(w[i]-'0')
	}
	return n, true
}

// isYear reports whether w is a year from 1900 to 2099, a sign the
// prompt is about dated facts.
func isYear(w string) bool {
	n, ok := smallNumber(w)
	return ok && len(w) == 4 && n >= 1900 && n <= 2099
}

// countNumberedLines counts lines starting "1." or "2)" and the like.
func countNumberedLines(s string) int {
	count := 0
	for line := range strings.Lines(s) {
		line = strings.TrimLeft(line, " \t")
		i := 0
		for i < len(line) && i < 3 && line[i] >= '0' && line[i] <= '9' {
			i++
		}
		if i > 0 && i+1 < len(line) && (line[i] == '.' || line[i] == ')') && line[i+1] == ' ' {
			count++
		}
	}
	return count
}

// scanMath looks at the characters around operators: equation is an '='
// with a digit next to a single-letter variable somewhere ("3x + 5 = 20");
// arithmetic is a digit, an operator and a digit ("2+2", "12 * 7").
func scanMath(s string) (equation, arithmetic bool) {
	hasEquals := strings.IndexByte(s, '=') >= 0
	variable := false
	lastDigit := -10 // byte index of the last digit seen
	opAfterDigit := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if byteClass[ch]&classLetter != 0 { // most bytes: the default case
			opAfterDigit = false
			continue
		}
		switch {
		case ch >= '0' && ch <= '9':
			if opAfterDigit {
				arithmetic = true
			}
			opAfterDigit = false
			lastDigit = i
			// "3x": a digit followed by a lone letter variable.
			if i+1 < len(s) && isASCIILetter(s[i+1]) && (i+2 >= len(s) || !isASCIILetter(s[i+2])) {
				variable = true
			}
		case ch == '+' || ch == '*' || ch == '^' || ch == '=':
			// '-' and '/' are left out: ranges and dates ("2018-2019",
			// "12/05") are far commoner than subtraction in prompts.
			opAfterDigit = i-lastDigit <= 2
		case ch == ' ':
		default:
			opAfterDigit = false
		}
	}
	return hasEquals && variable, arithmetic
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
