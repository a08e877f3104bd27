package textmodel

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// The report on the shared public datasets. It needs data outside the
// repository, so it runs only when SWITCHYARD_SHARED_DATASETS names
// their directory:
//
//	SWITCHYARD_SHARED_DATASETS=$PWD/../shared/datasets go test ./internal/textmodel -run TestSharedDatasets -v
//
// It prints the figures BENCHMARKS.md quotes and asserts nothing about
// them: targets are reported, not enforced. SWITCHYARD_REPORT_SEED (default
// 1) seeds the train/test split and the training, to show the noise.

const (
	gpt4    = "gpt-4-1106-preview"
	mixtral = "mistralai/Mixtral-8x7B-Instruct-v0.1"
)

// sharedItem is a line of a shared dataset, with the fields the
// datasets package drops (response length, contamination).
type sharedItem struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Question string `json:"question"`
	Source   string `json:"source"`
	Split    string `json:"split"`
	Outcomes map[string]struct {
		Score         *float64 `json:"score"`
		Correct       *bool    `json:"correct"`
		ResponseChars *int     `json:"response_chars"`
	} `json:"outcomes"`
	Meta struct {
		Contaminated bool `json:"contaminated"`
	} `json:"meta"`
}

func (it sharedItem) score(model string) float64 {
	o, ok := it.Outcomes[model]
	switch {
	case !ok:
		return math.NaN()
	case o.Score != nil:
		return *o.Score
	case o.Correct != nil && *o.Correct:
		return 1
	case o.Correct != nil:
		return 0
	}
	return math.NaN()
}

// example is the item as a training example; its topic is its source
// (benchmark/subject), a label known at training time only.
func (it sharedItem) example(models []string) Example {
	ex := Example{Prompt: it.Prompt, Scores: map[string]float64{}, Topic: it.Source}
	for _, m := range models {
		if s := it.score(m); !math.IsNaN(s) {
			ex.Scores[m] = s
		}
	}
	return ex
}

type price struct {
	In  float64 `json:"input_per_mtok"`
	Out float64 `json:"output_per_mtok"`
}

// costUSD prices a call from estimated tokens: about four characters a
// token (datasets.EstimateTokens), as the data has no token counts.
func (p price) costUSD(promptChars, completionTokens int) float64 {
	return (float64((promptChars+3)/4)*p.In + float64(completionTokens)*p.Out) / 1e6
}

func loadShared(t *testing.T, path string) []sharedItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(zr)
	var items []sharedItem
	for {
		var it sharedItem
		if err := dec.Decode(&it); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		items = append(items, it)
	}
	return items
}

func loadPrices(t *testing.T, dir string) map[string]price {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "prices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]price{}
	for k, v := range raw {
		var p price
		if json.Unmarshal(v, &p) == nil {
			out[k] = p
		}
	}
	return out
}

// inTrain is the seeded 50/50 split by normalised prompt, so duplicates
// always land on the same side.
func inTrain(prompt string, seed uint64) bool {
	h := fnv.New64a()
	_, _ = h.Write([]byte(router.NormalizePrompt(prompt)))
	return (h.Sum64()^seed)*0x9e3779b97f4a7c15>>63 == 0
}

// dedupe keeps the first item of each normalised key.
func dedupe(items []sharedItem, key func(sharedItem) string) []sharedItem {
	seen := map[string]bool{}
	var out []sharedItem
	for _, it := range items {
		k := router.NormalizePrompt(key(it))
		if !seen[k] {
			seen[k] = true
			out = append(out, it)
		}
	}
	return out
}

// reportEnv returns the shared datasets' folder and the report's seed
// (SWITCHYARD_REPORT_SEED, default 1), and skips the test when
// SWITCHYARD_SHARED_DATASETS is not set.
func reportEnv(t *testing.T) (dir string, seed uint64) {
	t.Helper()
	dir = os.Getenv("SWITCHYARD_SHARED_DATASETS")
	if dir == "" {
		t.Skip("SWITCHYARD_SHARED_DATASETS not set")
	}
	seed = 1
	if s := os.Getenv("SWITCHYARD_REPORT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SWITCHYARD_REPORT_SEED: %v", err)
		}
		seed = n
	}
	return dir, seed
}

func TestSharedDatasets(t *testing.T) {
	dir, seed := reportEnv(t)
	prices := loadPrices(t, dir)
	t.Run("routellm", func(t *testing.T) { reportRouteLLM(t, dir, prices, seed) })
	t.Run("llmrouter", func(t *testing.T) { reportLLMRouter(t, dir, prices, seed) })
}

// variant is one training configuration the report compares.
type variant struct {
	name string
	opts Options
}

// variants are the configurations reported: per-model heads alone (the
// first version), with topic heads stacked on them, and with isotonic
// maps on top.
func variants(models []string, seed uint64) []variant {
	return []variant{
		{"per-model heads", Options{Models: models, Seed: seed}},
		{"+ topic heads", Options{Models: models, Seed: seed, TopicMin: 20}},
		{"+ topic heads + isotonic (holdout 0.2)", Options{Models: models, Seed: seed, TopicMin: 20, Isotonic: true, Holdout: 0.2}},
	}
}

func reportRouteLLM(t *testing.T, dir string, prices map[string]price, seed uint64) {
	all := loadShared(t, filepath.Join(dir, "routellm.jsonl.gz"))
	var kept []sharedItem
	for _, it := range all {
		if !it.Meta.Contaminated && !strings.HasPrefix(it.Source, "mt_bench") {
			kept = append(kept, it)
		}
	}
	kept = dedupe(kept, func(it sharedItem) string { return it.Prompt })
	// Every row says split "test" (RouteLLM's evaluation sets), so the
	// split is the seeded 50/50 one.
	models := []string{mixtral, gpt4}
	var train []Example
	test := map[string][]sharedItem{}
	for _, it := range kept {
		bench, _, _ := strings.Cut(it.Source, "/")
		if inTrain(it.Prompt, seed) {
			train = append(train, it.example(models))
		} else {
			test[bench] = append(test[bench], it)
		}
	}
	t.Logf("routellm seed %d: %d prompts after dropping contaminated and duplicates; train %d, test mmlu %d, gsm8k %d",
		seed, len(kept), len(train), len(test["mmlu"]), len(test["gsm8k"]))

	var trained []*Model
	vs := variants(models, seed)
	for _, v := range vs {
		start := time.Now()
		var err error
		m, err := Train(context.Background(), train, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		trained = append(trained, m)
		size, digest := modelSize(t, m)
		t.Logf("== %s: trained on %d prompts in %v; %d heads, %d bytes serialised, digest %s",
			v.name, len(train), time.Since(start).Round(time.Millisecond), len(m.Heads()), size, digest[:16])
		reportRouteLLMModel(t, m, models, test, prices)
	}
	reportLatency(t, []string{vs[0].name, vs[1].name}, trained[:2], test["mmlu"])
}

// reportRouteLLMModel prints the routing and calibration figures of m on
// the held-out MMLU and GSM8K prompts.
func reportRouteLLMModel(t *testing.T, m *Model, models []string, test map[string][]sharedItem, prices map[string]price) {
	for _, bench := range []string{"mmlu", "gsm8k"} {
		items := test[bench]
		n := len(items)
		ps := make([][]float64, n)
		for i, it := range items {
			ps[i] = m.Predict(it.Prompt, nil)
		}
		weak, strong := make([]float64, n), make([]float64, n)
		weakCost, strongCost := make([]float64, n), make([]float64, n)
		for i, it := range items {
			weak[i], strong[i] = it.score(mixtral), it.score(gpt4)
			weakCost[i] = prices[mixtral].costUSD(len(it.Prompt), completionTokens(it, mixtral))
			strongCost[i] = prices[gpt4].costUSD(len(it.Prompt), completionTokens(it, gpt4))
		}
		scores := map[string]func(p []float64) float64{
			"p(strong)-p(weak)": func(p []float64) float64 { return p[1] - p[0] },
			"1-p(weak)":         func(p []float64) float64 { return 1 - p[0] },
		}
		for _, name := range []string{"p(strong)-p(weak)", "1-p(weak)"} {
			s := make([]float64, n)
			for i := range ps {
				s[i] = scores[name](ps[i])
			}
			cv := routeCurve(s, weak, strong, weakCost, strongCost)
			share, calls := cv.costAt(0.95)
			t.Logf("%s [%s]: weak %.3f strong %.3f | APGR %.3f  CPT(50%%) %.1f%%  CPT(80%%) %.1f%%  at 95%% of GPT-4 quality: cost %.1f%% of GPT-4-only (%.1f%% calls to GPT-4)",
				bench, name, cv.quality[0], cv.quality[n], cv.apgr(), 100*cv.cpt(0.5), 100*cv.cpt(0.8), 100*share, 100*calls)
		}
		for h, model := range models {
			p, y := make([]float64, n), make([]float64, n)
			for i := range ps {
				p[i] = ps[i][h]
				y[i] = []float64{weak[i], strong[i]}[h]
			}
			bins := Reliability(p, y, 10)
			t.Logf("%s calibration %s: AUC %.3f ECE %.3f curve %s", bench, model, AUC(p, y), ECE(bins), binsString(bins))
		}
	}
}

// completionTokens estimates an answer's length: MMLU answers are one
// token; GSM8K answers' lengths are known in characters.
func completionTokens(it sharedItem, model string) int {
	if o := it.Outcomes[model]; o.ResponseChars != nil {
		return (*o.ResponseChars + 3) / 4
	}
	return 1
}

func modelSize(t *testing.T, m *Model) (int, string) {
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return len(b), d
}

func binsString(bins []Bin) string {
	var b strings.Builder
	for _, bin := range bins {
		if bin.Count > 0 {
			b.WriteString(" ")
			b.WriteString(strings.TrimRight(strings.TrimRight(
				jsonFloat(bin.Predicted)+"->"+jsonFloat(bin.Observed), "0"), "."))
			b.WriteString("(" + itoa(bin.Count) + ")")
		}
	}
	return b.String()
}

func jsonFloat(f float64) string { b, _ := json.Marshal(math.Round(f*100) / 100); return string(b) }
func itoa(n int) string          { b, _ := json.Marshal(n); return string(b) }

// reportLatency times single predictions of each model on
// 2,000-character prompts made from test prompts, and prints the
// percentiles. The models take turns on each prompt, so that a busy
// machine slows them alike.
func reportLatency(t *testing.T, names []string, ms []*Model, items []sharedItem) {
	var prompts []string
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.Prompt)
		b.WriteString("\n")
		if b.Len() >= 2000 {
			prompts = append(prompts, b.String()[:2000])
			b.Reset()
		}
	}
	var out []float64
	for _, m := range ms {
		for _, p := range prompts {
			out = m.PredictInto(p, nil, out) // warm up
		}
	}
	d := make([][]time.Duration, len(ms))
	for range 5 {
		for _, p := range prompts {
			for k, m := range ms {
				s := time.Now()
				out = m.PredictInto(p, nil, out)
				d[k] = append(d[k], time.Since(s))
			}
		}
	}
	for k := range ms {
		slices.Sort(d[k])
		t.Logf("latency of one prediction (%s), 2,000-character prompt (%d timings): p50 %v p90 %v p99 %v max %v",
			names[k], len(d[k]), d[k][len(d[k])/2], d[k][len(d[k])*9/10], d[k][len(d[k])*99/100], d[k][len(d[k])-1])
	}
}
