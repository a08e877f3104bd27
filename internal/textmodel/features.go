package textmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

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
	cfg  FeatureConfig
	mask uint32
	acc  []int16 // per bucket signed counts of the group being hashed
	// touched[:listed] are the buckets bumped since the last flush, in
	// the order of their first bump, maybe twice (see bump); touched is
	// kept longer than that by at least the bumps still to come, so that
	// bump writes without a check or a branch.
	touched []uint32
	listed  int
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
	t := e.text // ends in non-word bytes, so every word ends inside it
	for i := 0; i < len(t); {
		if !isWordByte(t[i]) {
			i++
			continue
		}
		h := uint32(fnvOffset ^ seedWord)
		for ; isWordByte(t[i]); i++ {
			h = (h ^ uint32(t[i])) * fnvPrime
		}
		e.words = append(e.words, h)
	}
	e.reserve(2 * len(e.words))
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
		e.charGrams()
		e.flush(dst)
	}

	e.dense(prompt, a, dst)
	if cap(e.touched) > maxKeptTouched {
		e.touched = nil // a huge prompt's buffer is not kept for the next
	}
}

// gramChunk is how many n-gram starts charGrams hashes between checks
// that touched has room: few enough that the room a chunk needs stays
// small, many enough that the check costs nothing.
const gramChunk = 512

// maxKeptTouched bounds the touched buffer an extractor keeps between
// prompts (1 MiB); a longer one, from a huge prompt, is let go.
const maxKeptTouched = 1 << 18

// charGrams bumps every character n-gram of the folded text. It is
// bump inlined by hand over local copies of the extractor's fields, so
// that the loop keeps them in registers (this loop is a third of a
// prediction), with a loop of its own for one n-gram length, the
// default.
func (e *Extractor) charGrams() {
	t := e.text
	n := len(t) - slack
	cmin, cmax := e.cfg.CharMin, e.cfg.CharMax
	for start := 0; start+cmin <= n; start += gramChunk {
		end := min(start+gramChunk, n-cmin+1) // n-gram starts [start, end)
		e.reserve((end - start) * (cmax - cmin + 1))
		if cmin == cmax {
			e.listed = bumpGrams(e.acc, e.touched, e.listed, e.mask, t[start:end+slack-1], cmin)
			continue
		}
		acc, touched, listed, mask := e.acc, e.touched, e.listed, e.mask
		for i := start; i < end; i++ {
			x := binary.LittleEndian.Uint64(t[i:])
			for k := cmin; k <= cmax && i+k <= n; k++ {
				h := mixGram(x&gramMask(k), k)
				b := h & mask
				c := int32(acc[b])
				touched[listed] = b
				listed += int((uint32(uint16(c)) - 1) >> 31) // +1 when c == 0
				acc[b] = int16(min(max(c+1-2*int32(h>>31), math.MinInt16), math.MaxInt16))
			}
		}
		e.listed = listed
	}
}

// bumpGrams is bump for the k-byte n-gram starting at each of t's first
// len(t)-7 bytes (t holds 7 bytes past the last start, so each 8-byte
// load stays in bounds), listing into touched from listed on; it
// returns the new listed.
func bumpGrams(acc []int16, touched []uint32, listed int, mask uint32, t []byte, k int) int {
	keep, seed := gramMask(k), uint64(k)*0x9e3779b97f4a7c15
	for i := 0; i+8 <= len(t); i++ {
		x := binary.LittleEndian.Uint64(t[i:])&keep ^ seed
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 33
		h := uint32(x)
		b := h & mask
		c := int32(acc[b])
		touched[listed] = b
		listed += int((uint32(uint16(c)) - 1) >> 31) // +1 when c == 0
		acc[b] = int16(min(max(c+1-2*int32(h>>31), math.MinInt16), math.MaxInt16))
	}
	return listed
}

// reserve makes room in touched for n more bumps.
func (e *Extractor) reserve(n int) {
	if need := e.listed + n; len(e.touched) < need {
		e.touched = append(e.touched[:e.listed], make([]uint32, need-e.listed+need/4)...)
		e.touched = e.touched[:cap(e.touched)]
	}
}

// slack is the zero bytes fold leaves after the text, so that an 8-byte
// load at any n-gram start stays in bounds.
const slack = 8

// fold copies prompt into e.text lower-cased (ASCII) with every run of
// white space folded to one space, as router.NormalizePrompt does for
// ASCII text, between one leading and one trailing space and followed by
// slack zero bytes. Each byte is written and kept unless it is a space
// after a space, with no branch on the byte.
func (e *Extractor) fold(prompt string) {
	need := len(prompt) + 2 + slack
	if cap(e.text) < need {
		e.text = make([]byte, need+need/4)
	}
	t := e.text[:cap(e.text)]
	t[0] = ' '
	n, prev := 1, byte(' ')
	for i := 0; i < len(prompt); i++ {
		c := foldByte[prompt[i]]
		t[n] = c
		if c != ' ' || prev != ' ' {
			n++
		}
		prev = c
	}
	// The text ends in one space: the last folded run's, or one added.
	if n == 1 || prev != ' ' {
		t[n] = ' '
		n++
	}
	clear(t[n : n+slack])
	e.text = t[:n+slack]
}

// foldByte maps each byte to what fold writes for it: white space to a
// space, ASCII upper case to lower case, any other byte to itself. It is
// a constant table, built once.
var foldByte = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		switch {
		case c == ' ', c >= '\t' && c <= '\r':
			t[c] = ' '
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

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
// expectation instead of adding up. A bucket is listed in touched when
// its count leaves zero, so a bucket whose count returns to zero and
// moves again is listed twice; flush reads it once. The count saturates
// at the int16 bounds. No branch depends on h: the sign and the listing
// are arithmetic, since a mispredicted branch per n-gram would stall the
// loads of the next n-grams' buckets. The caller reserves the room.
func (e *Extractor) bump(h uint32) {
	i := h & e.mask
	c := int32(e.acc[i])
	e.touched[e.listed] = i
	e.listed += int((uint32(uint16(c)) - 1) >> 31) // +1 when c == 0
	e.acc[i] = int16(min(max(c+1-2*int32(h>>31), math.MinInt16), math.MaxInt16))
}

// flush appends the group hashed since the last flush to dst, weighted
// by sublinear term frequency and L2-normalised, and clears acc.
func (e *Extractor) flush(dst *Vector) {
	start := len(dst.Idx)
	idx := slices.Grow(dst.Idx, e.listed)[:start+e.listed]
	val := slices.Grow(dst.Val, e.listed)[:start+e.listed]
	m := start
	var norm float64
	for _, i := range e.touched[:e.listed] {
		c := e.acc[i]
		if c == 0 {
			continue // cancelled out, or a second listing
		}
		e.acc[i] = 0
		// ±(1 + ln |c|), the sign bit set from c's rather than by a
		// branch that half the buckets would mispredict.
		a := int(c)
		v := tfWeight(max(a, -a))
		v = math.Float64frombits(math.Float64bits(v) | uint64(uint16(c)>>15)<<63)
		norm += v * v
		idx[m], val[m] = i, float32(v)
		m++
	}
	dst.Idx, dst.Val = idx[:m], val[:m]
	e.listed = 0
	if norm == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(norm))
	for k := start; k < len(dst.Val); k++ {
		dst.Val[k] *= inv
	}
}

// tfWeight is the sublinear term frequency 1 + ln c of a count c >= 1,
// from a table for the counts a prompt has (a logarithm per distinct
// n-gram was a tenth of extraction).
func tfWeight(c int) float64 {
	if c < len(tfWeights) {
		return tfWeights[c]
	}
	return 1 + math.Log(float64(c))
}

// tfWeights[c] is 1 + ln c (1 exactly for c = 1), as tfWeight computes
// it; a constant table, built once.
var tfWeights = func() (t [256]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = 1 + math.Log(float64(c))
	}
	t[1] = 1
	return t
}()

// dense appends the dense features of the raw prompt and its analysis.
func (e *Extractor) dense(prompt string, a *router.Analysis, dst *Vector) {
	var s surface
	s.scan(prompt)
	appendDense(dst, e.cfg.Bits, prompt, len(e.words), &s, a)
}

// appendDense appends the dense features of a prompt of the given word
// count and surface to dst, whose hashed part has 2^bits buckets.
func appendDense(dst *Vector, bits int, prompt string, words int, s *surface, a *router.Analysis) {
	var f [NumDense]float64
	f[denseLength] = math.Log1p(float64(len(prompt))) / 8
	f[denseWords] = math.Log1p(float64(words)) / 6
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
	base := uint32(1) << bits
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
