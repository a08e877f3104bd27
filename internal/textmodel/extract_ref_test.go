package textmodel

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

// refExtractor is the Extractor as it was before the branch-free rewrite
// of bump, flush, fold and the surface scan (issue 9: feature extraction
// was half of a policy-routed decision): the definition the fast code
// must match bit for bit on any input, since every trained model's
// weights mean these exact features (TestExtractMatchesReference,
// FuzzExtractMatchesReference).
type refExtractor struct {
	cfg     FeatureConfig
	mask    uint32
	acc     []int16
	touched []uint32
	text    []byte
	words   []uint32
}

func newRefExtractor(cfg FeatureConfig) *refExtractor {
	return &refExtractor{cfg: cfg, mask: 1<<cfg.Bits - 1, acc: make([]int16, 1<<cfg.Bits)}
}

// Extract writes the features of prompt, and of its LLM analysis when a
// is not nil, to dst (reset first). The hashed part has word n-grams and
// character n-grams each weighted by sublinear term frequency
// (1 + ln count) and each group normalised to unit L2 norm, so that
// neither long prompts nor the far more numerous character n-grams
// dominate.
func (e *refExtractor) Extract(prompt string, a *router.Analysis, dst *Vector) {
	dst.Reset()
	e.fold(prompt)

	// Word unigrams and bigrams: runs of ASCII letters and digits, with
	// every non-ASCII byte counted as a letter so other scripts still
	// form words.
	e.words = e.words[:0]
	h, in := uint32(fnvOffset^seedWord), false
	for _, c := range e.text {
		if isWordByte(c) {
			h = (h ^ uint32(c)) * fnvPrime
			in = true
			continue
		}
		if in {
			e.words = append(e.words, h)
			h, in = fnvOffset^seedWord, false
		}
	}
	if in {
		e.words = append(e.words, h)
	}
	for i, w := range e.words {
		e.bump(fmix(w))
		if e.cfg.WordNGrams >= 2 && i > 0 {
			e.bump(fmix(e.words[i-1]*seedBigram ^ w ^ seedBigram))
		}
	}
	e.flush(dst)
	dst.Words = len(dst.Idx)

	// Character n-grams over the folded text, padded by a space at each
	// end so that prefixes and suffixes are n-grams too. Each n-gram is
	// read as one little-endian integer of up to 8 bytes and mixed, with
	// no per-byte loop.
	if e.cfg.CharMax > 0 {
		t := e.text
		n := len(t) - slack
		for i := 0; i+e.cfg.CharMin <= n; i++ {
			x := binary.LittleEndian.Uint64(t[i:])
			for k := e.cfg.CharMin; k <= e.cfg.CharMax && i+k <= n; k++ {
				e.bump(mixGram(x&gramMask(k), k))
			}
		}
		e.flush(dst)
	}

	e.dense(prompt, a, dst)
}

// fold copies prompt into e.text lower-cased (ASCII) with every run of
// white space folded to one space, as router.NormalizePrompt does for
// ASCII text, between one leading and one trailing space and followed by
// slack zero bytes.
func (e *refExtractor) fold(prompt string) {
	e.text = append(e.text[:0], ' ')
	space := false
	for i := 0; i < len(prompt); i++ {
		c := prompt[i]
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			space = len(e.text) > 1
			continue
		}
		if space {
			e.text = append(e.text, ' ')
			space = false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		e.text = append(e.text, c)
	}
	e.text = append(e.text, ' ', 0, 0, 0, 0, 0, 0, 0, 0)
}

// bump counts one occurrence of the hashed feature h: its low bits pick
// the bucket, its top bit the sign, so that collisions cancel out in
// expectation instead of adding up. A bucket whose count returns to zero
// and moves again is listed twice in touched; flush reads it once.
func (e *refExtractor) bump(h uint32) {
	i := h & e.mask
	c := e.acc[i]
	if c == 0 {
		e.touched = append(e.touched, i)
	}
	switch {
	case h&(1<<31) != 0 && c > math.MinInt16:
		e.acc[i] = c - 1
	case h&(1<<31) == 0 && c < math.MaxInt16:
		e.acc[i] = c + 1
	}
}

// flush appends the group hashed since the last flush to dst, weighted
// by sublinear term frequency and L2-normalised, and clears acc.
func (e *refExtractor) flush(dst *Vector) {
	start := len(dst.Idx)
	var norm float64
	for _, i := range e.touched {
		c := e.acc[i]
		if c == 0 {
			continue // cancelled out, or a second listing
		}
		e.acc[i] = 0
		v := 1.0 // the common case, without a logarithm
		if c < 0 {
			v = -1
		}
		if c > 1 || c < -1 {
			v *= 1 + math.Log(math.Abs(float64(c)))
		}
		norm += v * v
		dst.add(i, float32(v))
	}
	e.touched = e.touched[:0]
	if norm == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for k := start; k < len(dst.Val); k++ {
		dst.Val[k] *= inv
	}
}

// dense appends the dense features of the raw prompt and its analysis.
func (e *refExtractor) dense(prompt string, a *router.Analysis, dst *Vector) {
	var s surface
	s.scanReference(prompt)
	appendDense(dst, e.cfg.Bits, prompt, len(e.words), &s, a)
}

func (s *surface) scanReference(p string) {
	lineStart := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		if lineStart {
			s.lineStart(p[i:])
			lineStart = false
		}
		// Fast path for the bytes that are most of any prompt and can
		// only be counted as letters: a third of the scan's time before.
		switch {
		case c >= 'a' && c <= 'z':
			s.letters++
			continue
		case c == ' ':
			continue
		}
		var next byte
		if i+1 < len(p) {
			next = p[i+1]
		}
		switch {
		case c >= '0' && c <= '9':
			s.digits++
			// digit, operator, digit: arithmetic ("3*4", "2 + 2").
			if j := skipSpace(p, i+1); j < len(p) && isOperator(p[j]) {
				if k := skipSpace(p, j+1); k < len(p) && p[k] >= '0' && p[k] <= '9' {
					s.math++
				}
			}
		case c >= 'A' && c <= 'Z':
			s.letters++
			s.upper++
		case c == '\n':
			s.newlines++
		case c == '?':
			s.questions++
		case c == '{' || c == '}' || c == ';' || c == '`':
			s.code++
		case c == '\\' && (next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z'):
			s.math++ // a LaTeX command
		case c == '$' || c == '^':
			s.math++
		}
		switch {
		case c == '(' && next == ')', c == '=' && next == '=', c == '!' && next == '=',
			c == '-' && next == '>', c == '=' && next == '>', c == '/' && next == '/':
			s.code++
		}
		lineStart = c == '\n'
	}
}

// randomFeaturePrompt mixes words, n-gram repeats, white space of every
// kind, upper case, digits, code and mathematics marks, line starts that
// look like lists, and non-ASCII bytes, valid or not.
func randomFeaturePrompt(r *rand.Rand, n int) string {
	pieces := []string{"the", "The", "PROVE", "x", "3", "42", "2+2", "3 * 4", "1. ", "A) ", "b. ", "\n", "\n\n",
		" ", "  ", "\t", "\r\n", "\v", "\f", "?", "{", "}", ";", "`", "()", "==", "!=", "->", "=>", "//",
		`\frac`, `\x`, "$", "^", "日本語", "é", "\xff\xfe", "\x00", "aaaa", "abab", "-", "_", "'", "café"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(pieces[r.IntN(len(pieces))])
		if r.IntN(3) == 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func sameVector(a, b Vector) bool {
	if a.Words != b.Words || !slices.Equal(a.Idx, b.Idx) || len(a.Val) != len(b.Val) {
		return false
	}
	for k := range a.Val {
		if math.Float32bits(a.Val[k]) != math.Float32bits(b.Val[k]) {
			return false
		}
	}
	return true
}

// featureConfigs are the configurations the reference comparison runs:
// the default, every n-gram length, and a tiny bucket space where
// collisions and cancellations are common.
func featureConfigs() []FeatureConfig {
	return []FeatureConfig{
		DefaultFeatures(),
		{Bits: 18, WordNGrams: 2, CharMin: 3, CharMax: 5},
		{Bits: 8, WordNGrams: 2, CharMin: 1, CharMax: 8},
		{Bits: 12, WordNGrams: 1},
	}
}

func TestExtractMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	analysis := &router.Analysis{Complexity: router.Moderate, ReasoningRequired: true, EstimatedTokens: 120}
	prompts := []string{"", " ", "a", "Ab", strings.Repeat("a", 70000), strings.Repeat("ab ", 40000), strings.Repeat("Z", 9)}
	for range 300 {
		prompts = append(prompts, randomFeaturePrompt(r, r.IntN(3000)))
	}
	for _, cfg := range featureConfigs() {
		ex, ref := mustExtractor(t, cfg), newRefExtractor(cfg)
		var got, want Vector
		for k, p := range prompts {
			a := analysis
			if k%2 == 0 {
				a = nil
			}
			ex.Extract(p, a, &got)
			ref.Extract(p, a, &want)
			if !sameVector(got, want) {
				t.Fatalf("config %+v, prompt %d (%d bytes, %.40q...): got %d entries (%d words), want %d (%d words)",
					cfg, k, len(p), p, len(got.Idx), got.Words, len(want.Idx), want.Words)
			}
		}
	}
}

func FuzzExtractMatchesReference(f *testing.F) {
	for _, s := range []string{"", "What is 2+2?", "1. a\nB) b\n\t$x^2$ {}", "日本\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, cfg := range featureConfigs() {
			var got, want Vector
			mustExtractor(t, cfg).Extract(p, nil, &got)
			newRefExtractor(cfg).Extract(p, nil, &want)
			if !sameVector(got, want) {
				t.Fatalf("config %+v, %q: features differ from the reference", cfg, p)
			}
		}
	})
}

// BenchmarkExtractDistinct2000 times feature extraction alone for a normalised
// 2,000-character prompt, 256 distinct prompts in turn (as the service
// sees them: not one prompt hot in cache), the new code and the
// reference.
func BenchmarkExtractDistinct2000(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	prompts := make([]string, 256)
	for i := range prompts {
		prompts[i] = router.NormalizePrompt(synthPrompt(r, 2000))
	}
	b.Run("fast", func(b *testing.B) {
		ex := mustExtractor(b, DefaultFeatures())
		var v Vector
		i := 0
		for b.Loop() {
			ex.Extract(prompts[i%len(prompts)], nil, &v)
			i++
		}
	})
	b.Run("reference", func(b *testing.B) {
		ex := newRefExtractor(DefaultFeatures())
		var v Vector
		i := 0
		for b.Loop() {
			ex.Extract(prompts[i%len(prompts)], nil, &v)
			i++
		}
	})
}

// scores3 gives bit for bit the sums of scores' loop for any number of
// heads, which it replaces for three.
func TestScores3MatchesLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const buckets = 1 << 10
	w := make([]float32, buckets*3)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for range 200 {
		var v Vector
		for range r.IntN(3000) {
			v.add(uint32(r.IntN(buckets)), float32(r.NormFloat64()))
		}
		bias := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		got, want := slices.Clone(bias), slices.Clone(bias)
		scores3(w, &v, got)
		for k, i := range v.Idx {
			x := float64(v.Val[k])
			for h, wh := range w[int(i)*3 : int(i)*3+3] {
				want[h] += float64(wh) * x
			}
		}
		for h := range want {
			if math.Float64bits(got[h]) != math.Float64bits(want[h]) {
				t.Fatalf("head %d: scores3 %v, loop %v", h, got[h], want[h])
			}
		}
	}
}
