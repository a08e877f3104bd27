package textmodel

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func mustExtractor(t testing.TB, cfg FeatureConfig) *Extractor {
	t.Helper()
	ex, err := NewExtractor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func extract(t testing.TB, ex *Extractor, prompt string, a *router.Analysis) Vector {
	var v Vector
	ex.Extract(prompt, a, &v)
	return Vector{Idx: slices.Clone(v.Idx), Val: slices.Clone(v.Val), Words: v.Words}
}

// vectorDigest names a vector's exact contents.
func vectorDigest(v Vector) string {
	h := sha256.New()
	for k := range v.Idx {
		_ = binary.Write(h, binary.LittleEndian, v.Idx[k])
		_ = binary.Write(h, binary.LittleEndian, math.Float32bits(v.Val[k]))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestExtractStable pins the features of a few prompts. A change here
// changes what every trained model means: bump formatVersion with it.
// It pins 3-5-grams so that every n-gram length is covered.
func TestExtractStable(t *testing.T) {
	ex := mustExtractor(t, FeatureConfig{Bits: 18, WordNGrams: 2, CharMin: 3, CharMax: 5})
	tests := []struct {
		prompt  string
		entries int
		digest  string
	}{
		{"", 0, "e3b0c44298fc1c14"},
		{"What is 2+2?", 46, "133073b25d7d0453"},
		{"Prove that $\\sqrt{2}$ is irrational.\nA. yes\nB. no", 172, "179f74797315b2ad"},
	}
	for _, tt := range tests {
		v := extract(t, ex, tt.prompt, nil)
		if got := len(v.Idx); got != tt.entries {
			t.Errorf("Extract(%q): %d entries, want %d", tt.prompt, got, tt.entries)
		}
		if got := vectorDigest(v); got != tt.digest {
			t.Errorf("Extract(%q): digest %s, want %s", tt.prompt, got, tt.digest)
		}
	}
}

func TestExtractReusesBuffersCleanly(t *testing.T) {
	ex := mustExtractor(t, DefaultFeatures())
	fresh := mustExtractor(t, DefaultFeatures())
	prompts := []string{"a long prompt about law and courts", "x", "the the the the", "a long prompt about law and courts"}
	for _, p := range prompts {
		got, want := extract(t, ex, p, nil), extract(t, fresh, p, nil)
		if !slices.Equal(got.Idx, want.Idx) || !slices.Equal(got.Val, want.Val) {
			t.Errorf("Extract(%q) after other prompts differs from a fresh extractor", p)
		}
		fresh = mustExtractor(t, DefaultFeatures())
	}
}

// hashed returns the hashed part of v as a map, summing duplicates.
func hashed(v Vector, cfg FeatureConfig) map[uint32]float32 {
	m := map[uint32]float32{}
	for k, i := range v.Idx {
		if i < 1<<cfg.Bits {
			m[i] += v.Val[k]
		}
	}
	return m
}

func TestExtractFoldsCaseAndSpace(t *testing.T) {
	cfg := DefaultFeatures()
	ex := mustExtractor(t, cfg)
	a := hashed(extract(t, ex, "  Hello,\n\tWORLD  again ", nil), cfg)
	b := hashed(extract(t, ex, "hello, world again", nil), cfg)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("hashed features: %d vs %d entries", len(a), len(b))
	}
	for i, x := range a {
		if math.Abs(float64(b[i]-x)) > 1e-6 {
			t.Errorf("bucket %d: %g vs %g", i, x, b[i])
		}
	}
}

func TestExtractGroupNorms(t *testing.T) {
	cfg := DefaultFeatures()
	ex := mustExtractor(t, cfg)
	v := extract(t, ex, "Solve 3x + 5 = 20 for x, then check the answer twice twice twice.", nil)
	var sq float64
	for k, i := range v.Idx {
		if i < 1<<cfg.Bits {
			sq += float64(v.Val[k]) * float64(v.Val[k])
		}
	}
	// Words and character n-grams are each normalised to one.
	if math.Abs(sq-2) > 1e-4 {
		t.Errorf("squared norm of the hashed part = %g, want 2", sq)
	}
}

func TestExtractDense(t *testing.T) {
	cfg := DefaultFeatures()
	ex := mustExtractor(t, cfg)
	dense := func(prompt string, a *router.Analysis) [NumDense]float32 {
		var d [NumDense]float32
		v := extract(t, ex, prompt, a)
		for k, i := range v.Idx {
			if i >= 1<<cfg.Bits {
				d[i-1<<cfg.Bits] = v.Val[k]
			}
		}
		return d
	}
	analysis := &router.Analysis{Complexity: router.Complex, MultiStep: true, EstimatedTokens: 300}
	tests := []struct {
		name   string
		prompt string
		a      *router.Analysis
		on     []int
		off    []int
	}{
		{"plain", "tell me a story", nil, []int{denseLength, denseWords}, []int{denseDigits, denseCode, denseMath, denseQuestions, denseHasAnalysis}},
		{"code", "```go\nfunc f() { return }\n```", nil, []int{denseCode, denseLines}, []int{denseMath}},
		{"latex", `Compute $x^2$ and \sqrt 9 and 3*4`, nil, []int{denseMath, denseDigits}, []int{denseCode}},
		{"question", "Why? And how?", nil, []int{denseQuestions}, nil},
		{"numbered", "Do this:\n1. one\n2. two", nil, []int{denseNumbered}, []int{denseOptions}},
		{"options", "Pick one:\nA. red\nB) blue", nil, []int{denseOptions}, []int{denseNumbered}},
		{"analysis", "hi", analysis, []int{denseHasAnalysis, denseComplex, denseMultiStep, denseAnswerTokens}, []int{denseSimple, denseModerate, denseReasoning}},
	}
	for _, tt := range tests {
		d := dense(tt.prompt, tt.a)
		for _, k := range tt.on {
			if d[k] <= 0 {
				t.Errorf("%s: dense[%d] = %g, want > 0", tt.name, k, d[k])
			}
		}
		for _, k := range tt.off {
			if d[k] != 0 {
				t.Errorf("%s: dense[%d] = %g, want 0", tt.name, k, d[k])
			}
		}
	}
}

func TestExtractOddInput(t *testing.T) {
	ex := mustExtractor(t, DefaultFeatures())
	for _, p := range []string{"\x00\xff\xfe", "日本語のテキスト", "a", "ab", " \n\t ", string(make([]byte, 5000))} {
		v := extract(t, ex, p, nil)
		for k, x := range v.Val {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || int(v.Idx[k]) >= DefaultFeatures().Dim() {
				t.Errorf("Extract(%q): entry %d = (%d, %g)", p, k, v.Idx[k], x)
			}
		}
	}
}

func TestFeatureConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  FeatureConfig
		ok   bool
		name string
	}{
		{DefaultFeatures(), true, "default"},
		{FeatureConfig{Bits: 16, WordNGrams: 1}, true, "words only"},
		{FeatureConfig{Bits: 4, WordNGrams: 1}, false, "too few bits"},
		{FeatureConfig{Bits: 30, WordNGrams: 1}, false, "too many bits"},
		{FeatureConfig{Bits: 16, WordNGrams: 3}, false, "trigrams"},
		{FeatureConfig{Bits: 16, WordNGrams: 2, CharMin: 5, CharMax: 3}, false, "min above max"},
		{FeatureConfig{Bits: 16, WordNGrams: 2, CharMin: 3, CharMax: 9}, false, "char max too long"},
		{FeatureConfig{Bits: 16, WordNGrams: 2, TopicBits: 10}, true, "topic bits"},
		{FeatureConfig{Bits: 12, WordNGrams: 2, TopicBits: 14}, false, "topic bits above bits"},
		{FeatureConfig{Bits: 16, WordNGrams: 2, TopicBits: 4}, false, "too few topic bits"},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
