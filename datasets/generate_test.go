package datasets

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func generated(t *testing.T, cfg GenConfig) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, Generate(cfg)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func TestGenerateDeterministic(t *testing.T) {
	a := generated(t, GenConfig{Seed: 42, N: 200})
	b := generated(t, GenConfig{Seed: 42, N: 200})
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different bytes")
	}
	c := generated(t, GenConfig{Seed: 43, N: 200})
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same bytes")
	}
}

func TestGenerateItems(t *testing.T) {
	items := Generate(DemoConfig())
	if len(items) != DemoSize {
		t.Fatalf("got %d items, want %d", len(items), DemoSize)
	}
	prices := map[string]ModelProfile{}
	for _, m := range DemoModels() {
		prices[m.Name] = m
	}
	prompts := map[string]string{}
	buckets := map[string]int{}
	splits := map[string]int{}
	for _, it := range items {
		if err := it.validate(); err != nil {
			t.Errorf("item %s invalid: %v", it.ID, err)
		}
		key := strings.ToLower(it.Prompt)
		if other, dup := prompts[key]; dup {
			t.Errorf("items %s and %s have the same prompt %q", other, it.ID, it.Prompt)
		}
		prompts[key] = it.ID
		buckets[it.Label.Complexity]++
		splits[it.Split]++
		if !strings.HasPrefix(it.Source, "demo/") || it.Label.Category == "" {
			t.Errorf("item %s: got source %q category %q, want demo/... and a category", it.ID, it.Source, it.Label.Category)
		}
		if len(it.Outcomes) != len(prices) {
			t.Errorf("item %s: got %d outcomes, want %d", it.ID, len(it.Outcomes), len(prices))
		}
		for name, o := range it.Outcomes {
			m, ok := prices[name]
			if !ok {
				t.Fatalf("item %s: unexpected model %q", it.ID, name)
			}
			if o.PromptTokens == nil || o.CompletionTokens == nil || o.CostUSD == nil || o.LatencyMS == nil {
				t.Fatalf("item %s model %s: missing tokens, cost or latency", it.ID, name)
			}
			want := (float64(*o.PromptTokens)*m.InputPerMTok + float64(*o.CompletionTokens)*m.OutputPerMTok) / 1e6
			if math.Abs(*o.CostUSD-want) > 1e-12 {
				t.Errorf("item %s model %s: got cost %g, want %g", it.ID, name, *o.CostUSD, want)
			}
			if *o.LatencyMS <= 0 {
				t.Errorf("item %s model %s: got latency %d, want positive", it.ID, name, *o.LatencyMS)
			}
		}
	}
	for _, b := range []string{"simple", "moderate", "complex"} {
		if buckets[b] < DemoSize/6 {
			t.Errorf("got %d %s items, want at least %d", buckets[b], b, DemoSize/6)
		}
	}
	if splits["test"] < DemoSize/10 || splits["train"] < DemoSize/2 {
		t.Errorf("got splits %v, want about 20%% test", splits)
	}
}

// TestGenerateHonoursProfiles checks that the outcomes follow the stated
// profiles closely enough for routing to have something to learn.
func TestGenerateHonoursProfiles(t *testing.T) {
	items := Generate(DemoConfig())
	type key struct{ model, bucket string }
	ok, n := map[key]float64{}, map[key]float64{}
	for _, it := range items {
		for m, o := range it.Outcomes {
			k := key{m, it.Label.Complexity}
			n[k]++
			if o.Correct() {
				ok[k]++
			}
		}
	}
	rate := func(m, b string) float64 { return ok[key{m, b}] / n[key{m, b}] }
	for _, m := range DemoModels() {
		for _, b := range []string{"simple", "moderate", "complex"} {
			// Category bonuses and hardness move the rate a little off
			// the stated one; sampling over ~150-250 items adds ~±0.07.
			if got, want := rate(m.Name, b), m.Success.For(b); math.Abs(got-want) > 0.12 {
				t.Errorf("%s on %s: got success rate %.2f, want about %.2f", m.Name, b, got, want)
			}
		}
	}
	if s, c := rate("llama-3.1-8b-instant", "simple"), rate("llama-3.1-8b-instant", "complex"); s-c < 0.5 {
		t.Errorf("llama-3.1-8b-instant: got simple %.2f vs complex %.2f, want a gap of at least 0.5", s, c)
	}
	if c, l := rate("claude-sonnet-4-5", "complex"), rate("llama-3.1-8b-instant", "complex"); c-l < 0.5 {
		t.Errorf("complex bucket: got sonnet %.2f vs llama %.2f, want a gap of at least 0.5", c, l)
	}
}

func TestCostUSD(t *testing.T) {
	m := ModelProfile{InputPerMTok: 0.15, OutputPerMTok: 0.60}
	if got, want := costUSD(m, 1000, 500), 0.00045; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}
