package textmodel

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/switchyard/switchyard/router"
)

// FeatureConfig says which features a model uses. It is stored with the
// model, so a model is always served with the features it was trained on.
type FeatureConfig struct {
	// Bits sets the hashed feature space to 2^Bits buckets; default 16.
	Bits int `json:"bits"`
	// WordNGrams is the longest word n-gram hashed, 1 or 2; default 2.
	WordNGrams int `json:"word_ngrams"`
	// CharMin and CharMax bound the character n-grams hashed; default
	// 4 and 4. CharMax 0 means none.
	CharMin int `json:"char_min"`
	CharMax int `json:"char_max"`
	// TopicBits sets the buckets topic heads read to 2^TopicBits, the
	// word buckets folded onto fewer: a topic is a broad pattern that
	// survives the extra collisions, and the smaller table stays in the
	// CPU cache. 0 means DefaultTopicBits (or Bits, if smaller).
	TopicBits int `json:"topic_bits,omitempty"`
}

// DefaultTopicBits is the topic buckets' size when FeatureConfig leaves it
// zero. On RouteLLM's 57 MMLU subjects, 2^12 routed as well as 2^16 and
// kept a 2,000-character prediction with 58 topic heads under 100us.
const DefaultTopicBits = 12

// topicBits returns the effective TopicBits.
func (c FeatureConfig) topicBits() int {
	if c.TopicBits == 0 {
		return min(DefaultTopicBits, c.Bits)
	}
	return c.TopicBits
}

// Bounds on the configuration, so a corrupt or hostile model file cannot
// make an extractor allocate without limit.
const (
	minBits     = 8
	maxBits     = 24
	maxCharGram = 8
)

// DefaultFeatures is the configuration Train uses when none is given:
// 2^16 buckets, word unigrams and bigrams, character 4-grams. On
// RouteLLM's prompts, character 3-5-grams and 2^18 buckets routed no
// better (APGR within 0.01) but cost three hashes a byte instead of one
// and tables that fall out of the CPU cache, which took a real
// 2,000-character prediction from about 90us to 140-200us.
func DefaultFeatures() FeatureConfig {
	return FeatureConfig{Bits: 16, WordNGrams: 2, CharMin: 4, CharMax: 4}
}

// Validate checks the configuration's bounds.
func (c FeatureConfig) Validate() error {
	switch {
	case c.Bits < minBits || c.Bits > maxBits:
		return fmt.Errorf("bits %d: want %d to %d", c.Bits, minBits, maxBits)
	case c.WordNGrams < 1 || c.WordNGrams > 2:
		return fmt.Errorf("word_ngrams %d: want 1 or 2", c.WordNGrams)
	case c.CharMax != 0 && (c.CharMin < 1 || c.CharMin > c.CharMax || c.CharMax > maxCharGram):
		return fmt.Errorf("char n-grams %d-%d: want 1 <= min <= max <= %d, or max 0", c.CharMin, c.CharMax, maxCharGram)
	case c.TopicBits != 0 && (c.TopicBits < minBits || c.TopicBits > c.Bits):
		return fmt.Errorf("topic_bits %d: want 0 or %d to bits (%d)", c.TopicBits, minBits, c.Bits)
	}
	return nil
}

// Dim is the length of a feature vector: the hashed buckets followed by
// the dense features.
func (c FeatureConfig) Dim() int { return 1<<c.Bits + NumDense }

// Dense features follow the hashed buckets, at index 2^Bits + dense*.
// Counts enter as log1p(count)/scale so that every dense value is of the
// order of one, like the normalised hashed part.
const (
	denseLength       = iota // log1p(bytes)/8
	denseWords               // log1p(words)/6
	denseDigits              // log1p(digits)/5
	denseDigitShare          // digits / bytes
	denseLines               // log1p(newlines)/4
	denseQuestions           // log1p('?')/2
	denseNumbered            // log1p(numbered list lines)/2
	denseOptions             // log1p(lettered option lines "A." "B)")/2
	denseCode                // log1p(code markers)/3
	denseMath                // log1p(math markers)/3
	denseUpperShare          // upper-case ASCII letters / letters
	denseHasAnalysis         // 1 when an LLM analysis was given
	denseSimple              // analysis complexity one-hot
	denseModerate            //
	denseComplex             //
	denseReasoning           // analysis booleans
	denseExternal            //
	denseMultiStep           //
	denseAnswerTokens        // log1p(analysis estimated tokens)/8
	// NumDense is the number of dense features.
	NumDense
)

// Vector is a sparse feature vector. An index may appear twice (a word
// and a character n-gram hashed to the same bucket); consumers sum.
type Vector struct {
	Idx []uint32
	Val []float32
	// Words is the number of leading entries that are word n-grams: the
	// part topic heads read (see Example.Topic).
	Words int
}

// Reset empties v, keeping its storage.
func (v *Vector) Reset() { v.Idx, v.Val, v.Words = v.Idx[:0], v.Val[:0], 0 }

func (v *Vector) add(i uint32, x float32) {
	v.Idx = append(v.Idx, i)
	v.Val = append(v.Val, x)
}

// Hash seeds keep words, word pairs and character n-grams apart in the
// shared bucket space; character n-grams are hashed by mixGram.
const (
	fnvOffset  = 2166136261
	fnvPrime   = 16777619
	seedWord   = 0x9e3779b9
	seedBigram = 0x85ebca6b
)

// fmix is murmur3's finaliser: FNV-1a's low bits are weak, and both the
// bucket (low bits) and the sign (top bit) come from one hash.
func fmix(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// Extractor computes feature vectors. It reuses its buffers, so it is not
// safe for concurrent use: give each goroutine its own.
type Extractor struct {
	cfg     FeatureConfig
	mask    uint32
	acc     []int16  // per bucket signed counts of the group being hashed
	touched []uint32 // buckets bumped since the last flush, maybe twice
	text    []byte   // the prompt, lower-cased, white space folded
	words   []uint32 // word hashes, for bigrams
}

// NewExtractor returns an extractor for cfg, which must be valid.
func NewExtractor(cfg FeatureConfig) (*Extractor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checking feature config: %w", err)
	}
	return &Extractor{
		cfg:  cfg,
		mask: 1<<cfg.Bits - 1,
		acc:  make([]int16, 1<<cfg.Bits),
	}, nil
}

// Extract writes the features of prompt, and of its LLM analysis when a
// is not nil, to dst (reset first). The hashed part has word n-grams and
// character n-grams each weighted by sublinear term frequency
// (1 + ln count) and each group normalised to unit L2 norm, so that
// neither long prompts nor the far more numerous character n-grams
// dominate.
func (e *Extractor) Extract(prompt string, a *router.Analysis, dst *Vector) {
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

// slack is the zero bytes fold leaves after the text, so that an 8-byte
// load at any n-gram start stays in bounds.
const slack = 8

// fold copies prompt into e.text lower-cased (ASCII) with every run of
// white space folded to one space, as router.NormalizePrompt does for
// ASCII text, between one leading and one trailing space and followed by
// slack zero bytes.
func (e *Extractor) fold(prompt string) {
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

// gramMask keeps the low k bytes of a little-endian load.
func gramMask(k int) uint64 {
	if k >= 8 {
		return math.MaxUint64
	}
	return 1<<(8*k) - 1
}

// mixGram hashes an n-gram of k bytes packed into g (a 64-bit variant of
// murmur3's finaliser, with k mixed in so "ab" and "ab\x00" differ).
func mixGram(g uint64, k int) uint32 {
	h := g ^ uint64(k)*0x9e3779b97f4a7c15
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return uint32(h)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
}

// bump counts one occurrence of the hashed feature h: its low bits pick
// the bucket, its top bit the sign, so that collisions cancel out in
// expectation instead of adding up. A bucket whose count returns to zero
// and moves again is listed twice in touched; flush reads it once.
func (e *Extractor) bump(h uint32) {
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
func (e *Extractor) flush(dst *Vector) {
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
func (e *Extractor) dense(prompt string, a *router.Analysis, dst *Vector) {
	var s surface
	s.scan(prompt)
	var f [NumDense]float64
	f[denseLength] = math.Log1p(float64(len(prompt))) / 8
	f[denseWords] = math.Log1p(float64(len(e.words))) / 6
	f[denseDigits] = math.Log1p(float64(s.digits)) / 5
	if len(prompt) > 0 {
		f[denseDigitShare] = float64(s.digits) / float64(len(prompt))
	}
	f[denseLines] = math.Log1p(float64(s.newlines)) / 4
	f[denseQuestions] = math.Log1p(float64(s.questions)) / 2
	f[denseNumbered] = math.Log1p(float64(s.numbered)) / 2
	f[denseOptions] = math.Log1p(float64(s.options)) / 2
	f[denseCode] = math.Log1p(float64(s.code)) / 3
	f[denseMath] = math.Log1p(float64(s.math)) / 3
	if s.letters > 0 {
		f[denseUpperShare] = float64(s.upper) / float64(s.letters)
	}
	if a != nil {
		f[denseHasAnalysis] = 1
		switch a.Complexity {
		case router.Simple:
			f[denseSimple] = 1
		case router.Moderate:
			f[denseModerate] = 1
		case router.Complex:
			f[denseComplex] = 1
		}
		f[denseReasoning] = b2f(a.ReasoningRequired)
		f[denseExternal] = b2f(a.ExternalKnowledgeNeeded)
		f[denseMultiStep] = b2f(a.MultiStep)
		f[denseAnswerTokens] = math.Log1p(float64(max(a.EstimatedTokens, 0))) / 8
	}
	base := uint32(1) << e.cfg.Bits
	for k, v := range f {
		if v != 0 {
			dst.add(base+uint32(k), float32(v))
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
