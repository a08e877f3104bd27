package textmodel

import (
	"context"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// TestCrossValidatedHeads compares training configurations on the
// training split only, as eval places it (datasets.SplitOf, train-frac
// 0.5, or the fixed split), by 5-fold cross-validation: each model
// head's out-of-fold AUC and log loss, and for two models the
// out-of-fold routing curve of the gap p(strong)-p(weak). It is how the
// predictor's settings were chosen without looking at the test split:
//
//	SWITCHYARD_SHARED_DATASETS=$PWD/../shared/datasets SWITCHYARD_REPORT_SEED=1 \
//	  go test ./internal/textmodel -run TestCrossValidatedHeads -v -timeout 30m
//
// SWITCHYARD_CV_DATA picks datasets (mmlu, gsm8k, llmrouter; default
// all), SWITCHYARD_CV_VARIANTS the variants by name (default all).
// SWITCHYARD_CV_WIDE=1 adds the training split of the file's other
// sources (for gsm8k: RouteLLM's MMLU and MT-Bench) to every fold's
// training set, their source a topic as ever; only the data set's own
// prompts are held out and scored (eval's --train-all-sources).
func TestCrossValidatedHeads(t *testing.T) {
	dir, seed := reportEnv(t)
	pick := func(env, name string) bool {
		v := os.Getenv(env)
		return v == "" || slices.Contains(strings.Split(v, ","), name)
	}
	sets := []struct {
		name, file, source string
		models             []string // cheapest first; nil: every model
	}{
		{"mmlu", "routellm.jsonl.gz", "mmlu/", []string{mixtral, gpt4}},
		{"gsm8k", "routellm.jsonl.gz", "gsm8k", []string{mixtral, gpt4}},
		{"llmrouter", "llmrouter_dcrouter.jsonl.gz", "", nil},
	}
	for _, set := range sets {
		if !pick("SWITCHYARD_CV_DATA", set.name) {
			continue
		}
		items, err := datasets.Load(filepath.Join(dir, set.file))
		if err != nil {
			t.Fatal(err)
		}
		fixed := datasets.FixedSplit(items)
		wide := os.Getenv("SWITCHYARD_CV_WIDE") != ""
		var train, extra []*datasets.Item
		seen := map[string]bool{}
		for i := range items {
			it := &items[i]
			own := strings.HasPrefix(it.Source, set.source)
			if !own && !wide || len(it.Outcomes) == 0 ||
				datasets.SplitOf(it, fixed, 0.5, seed) != datasets.SplitTrain {
				continue
			}
			k := router.NormalizePrompt(it.Prompt)
			if seen[k] {
				continue
			}
			seen[k] = true
			if own {
				train = append(train, it)
			} else {
				extra = append(extra, it)
			}
		}
		models := set.models
		if models == nil {
			models = datasets.Models(items)
		}
		t.Logf("== %s seed %d: %d training prompts (+%d of other sources), %d models", set.name, seed, len(train), len(extra), len(models))
		// With SWITCHYARD_CV_LOGGED set, each training prompt keeps one
		// model's outcome, drawn uniformly: the view the service logs
		// (one answer a prompt), scored against every outcome.
		logged := os.Getenv("SWITCHYARD_CV_LOGGED") != ""
		for _, v := range cvVariants(models, seed) {
			if !pick("SWITCHYARD_CV_VARIANTS", v.name) {
				continue
			}
			start := time.Now()
			pred := crossPredict(t, train, extra, models, v, logged)
			name := set.name + " " + v.name
			if wide {
				name += " (wide)"
			}
			if logged {
				name += " (logged)"
			}
			reportCV(t, name, train, models, pred, time.Since(start))
		}
	}
}

// cvVariant is a training configuration compared by TestCrossValidatedHeads.
type cvVariant struct {
	name string
	opts Options
}

func cvVariants(models []string, seed uint64) []cvVariant {
	base := Options{Models: models, Seed: seed, TopicMin: 20}
	with := func(f func(o *Options)) Options { o := base; f(&o); return o }
	return []cvVariant{
		{"base", base},
		{"notopics", with(func(o *Options) { o.TopicMin = 0 })},
		{"bits18", with(func(o *Options) {
			o.Features.Bits = 18
			o.Features.WordNGrams = 2
			o.Features.CharMin = 4
			o.Features.CharMax = 4
		})},
		{"char3-5", with(func(o *Options) { o.Features = FeatureConfig{Bits: 16, WordNGrams: 2, CharMin: 3, CharMax: 5} })},
		{"l2e-4", with(func(o *Options) { o.L2 = 1e-4 })},
		{"l2e-2", with(func(o *Options) { o.L2 = 1e-2 })},
		{"epochs12", with(func(o *Options) { o.Epochs = 12 })},
		{"shared", with(func(o *Options) { o.SharedDifficulty = true })},
	}
}

const cvFolds = 5

// cvFold is an item's fold, by normalised prompt.
func cvFold(it *datasets.Item) int {
	h := fnv.New64a()
	h.Write([]byte(router.NormalizePrompt(it.Prompt)))
	return int(h.Sum64() % cvFolds)
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// crossPredict returns out-of-fold predictions, pred[i*len(models)+k],
// from 5 folds of items by normalised prompt; every fold's model also
// trains on extra, which is never predicted.
func crossPredict(t *testing.T, items, extra []*datasets.Item, models []string, v cvVariant, logged bool) []float64 {
	fold := cvFold
	K := len(models)
	pred := make([]float64, len(items)*K)
	for f := range cvFolds {
		var ex []Example
		for j, it := range slices.Concat(items, extra) {
			if j < len(items) && fold(it) == f {
				continue
			}
			e := Example{Prompt: router.NormalizePrompt(it.Prompt), Scores: map[string]float64{}, Topic: it.Source}
			for k, m := range models {
				if logged && k != int(fnv32(it.ID)%uint32(len(models))) {
					continue
				}
				if o, ok := it.Outcomes[m]; ok && !math.IsNaN(o.Score) {
					e.Scores[m] = min(1, max(0, o.Score))
				}
			}
			ex = append(ex, e)
		}
		m, err := Train(context.Background(), ex, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		heads := make([]int, K)
		for k, name := range models {
			heads[k] = m.Head(KindModel, name)
		}
		var buf []float64
		for i, it := range items {
			if fold(it) != f {
				continue
			}
			buf = m.PredictInto(router.NormalizePrompt(it.Prompt), nil, buf)
			for k, h := range heads {
				pred[i*K+k] = buf[h]
			}
		}
	}
	return pred
}

// reportCV prints each head's out-of-fold AUC and log loss, and for two
// models the gap's routing curve: APGR and the cost share (estimated
// tokens, prices.json-like ratio taken from the data's cost where known,
// else prompt length) at 95% of the strong model's quality.
func reportCV(t *testing.T, name string, items []*datasets.Item, models []string, pred []float64, took time.Duration) {
	K := len(models)
	var line strings.Builder
	var meanAUC float64
	for k, m := range models {
		var p, y []float64
		var ll float64
		for i, it := range items {
			o, ok := it.Outcomes[m]
			if !ok || math.IsNaN(o.Score) {
				continue
			}
			q := min(max(pred[i*K+k], 1e-6), 1-1e-6)
			s := min(1, max(0, o.Score))
			p, y = append(p, q), append(y, s)
			ll -= s*math.Log(q) + (1-s)*math.Log(1-q)
		}
		auc := AUC(p, y)
		meanAUC += auc / float64(K)
		short := m
		if i := strings.LastIndex(short, "/"); i >= 0 {
			short = short[i+1:]
		}
		line.WriteString(" " + short[:min(len(short), 12)] + " " + strconv.FormatFloat(auc, 'f', 3, 64) +
			"/" + strconv.FormatFloat(ll/float64(len(p)), 'f', 3, 64))
	}
	extra := ""
	if K == 2 {
		n := len(items)
		s := make([]float64, n)
		weak, strong := make([]float64, n), make([]float64, n)
		wc, sc := make([]float64, n), make([]float64, n)
		for i, it := range items {
			s[i] = pred[i*K+1] - pred[i*K]
			weak[i], strong[i] = it.Outcomes[models[0]].Score, it.Outcomes[models[1]].Score
			// MMLU/GSM8K: GPT-4 costs about 42x Mixtral a token in and 125x
			// out; the prompt dominates MMLU, the answer GSM8K.
			tok := float64(len(it.Prompt)+3) / 4
			wc[i], sc[i] = tok*0.24, tok*10+30*50
			if strings.HasPrefix(it.Source, "mmlu") {
				sc[i] = tok*10 + 30
				wc[i] = tok*0.24 + 0.24
			}
		}
		cv := routeCurve(s, weak, strong, wc, sc)
		share, _ := cv.costAt(0.95)
		// The same curve with each fold's gaps replaced by their rank
		// within the fold: what pooling five models' differently scaled
		// gaps costs.
		byFold := make([]float64, n)
		for f := range cvFolds {
			var idx []int
			for i, it := range items {
				if cvFold(it) == f {
					idx = append(idx, i)
				}
			}
			slices.SortFunc(idx, func(a, b int) int { return cmpFloat(s[a], s[b]) })
			for r, i := range idx {
				byFold[i] = float64(r) / float64(len(idx))
			}
		}
		rk := routeCurve(byFold, weak, strong, wc, sc)
		rshare, _ := rk.costAt(0.95)
		extra = " | APGR " + strconv.FormatFloat(cv.apgr(), 'f', 3, 64) +
			" cost@95% " + strconv.FormatFloat(100*share, 'f', 1, 64) + "%" +
			" (ranked per fold: APGR " + strconv.FormatFloat(rk.apgr(), 'f', 3, 64) +
			" cost@95% " + strconv.FormatFloat(100*rshare, 'f', 1, 64) + "%)"
	}
	t.Logf("%-24s meanAUC %.4f%s%s (%v)", name, meanAUC, line.String(), extra, took.Round(time.Second))
}

// TestTrainingSizeDiagnostic trains on 80% and on all of MMLU's
// training split and reports each model's routing curve on the test
// split: whether the out-of-fold curve's higher cost at 95% (a fold
// model learns from 80% of the prompts) comes from the training size or
// from the split. A diagnostic for BENCHMARKS.md, never a tuning input:
//
//	SWITCHYARD_SHARED_DATASETS=$PWD/../shared/datasets go test ./internal/textmodel -run TestTrainingSizeDiagnostic -v
func TestTrainingSizeDiagnostic(t *testing.T) {
	dir := os.Getenv("SWITCHYARD_SHARED_DATASETS")
	if dir == "" {
		t.Skip("SWITCHYARD_SHARED_DATASETS not set")
	}
	items, err := datasets.Load(filepath.Join(dir, "routellm.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	models := []string{mixtral, gpt4}
	example := func(it *datasets.Item) Example {
		e := Example{Prompt: router.NormalizePrompt(it.Prompt), Scores: map[string]float64{}, Topic: it.Source}
		for _, m := range models {
			e.Scores[m] = it.Outcomes[m].Score
		}
		return e
	}
	var train, test []*datasets.Item
	for i := range items {
		it := &items[i]
		if !strings.HasPrefix(it.Source, "mmlu/") || len(it.Outcomes) < 2 {
			continue
		}
		if datasets.SplitOf(it, false, 0.5, 1) == datasets.SplitTrain {
			train = append(train, it)
		} else {
			test = append(test, it)
		}
	}
	for _, share := range []int{4, 5} { // folds of five kept
		var exs []Example
		for _, it := range train {
			if cvFold(it) < share {
				exs = append(exs, example(it))
			}
		}
		m, err := Train(context.Background(), exs, Options{Models: models, Seed: 1, TopicMin: 20})
		if err != nil {
			t.Fatal(err)
		}
		pred := make([]float64, 0, 2*len(test))
		for _, it := range test {
			pred = append(pred, m.Predict(router.NormalizePrompt(it.Prompt), nil)[:2]...)
		}
		reportCV(t, "mmlu test, trained on "+strconv.Itoa(len(exs)), test, models, pred, 0)
	}
}

// TestCostMatchTransfer checks, on MMLU's training split only, how a
// routing threshold set on a model's own training prompts carries over
// to prompts it never saw, which is what eval's --match-cost-on chooses
// between: each fold's model (trained on the other four) sets the gap
// threshold that sends a share s of prompts to GPT-4 on (a) every prompt
// it trained on, as learner.MatchCost does by default, and (b) only its
// calibration slice (CalibrationSlice), and the share it then sends on
// the held-out fold is reported, as its mean over folds:
//
//	SWITCHYARD_SHARED_DATASETS=$PWD/../shared/datasets SWITCHYARD_REPORT_SEED=1 \
//	  go test ./internal/textmodel -run TestCostMatchTransfer -v -timeout 30m
func TestCostMatchTransfer(t *testing.T) {
	dir, seed := reportEnv(t)
	items, err := datasets.Load(filepath.Join(dir, "routellm.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	models := []string{mixtral, gpt4}
	var train []*datasets.Item
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		k := router.NormalizePrompt(it.Prompt)
		if !strings.HasPrefix(it.Source, "mmlu/") || len(it.Outcomes) < 2 || seen[k] ||
			datasets.SplitOf(it, false, 0.5, seed) != datasets.SplitTrain {
			continue
		}
		seen[k] = true
		train = append(train, it)
	}
	shares := []float64{0.4, 0.5, 0.6, 0.7}
	// threshold returns the gap above which a share s of gaps lies.
	threshold := func(gaps []float64, s float64) float64 {
		g := slices.Clone(gaps)
		slices.Sort(g)
		return g[min(len(g)-1, int(math.Round((1-s)*float64(len(g)))))]
	}
	above := func(gaps []float64, th float64) float64 {
		var n float64
		for _, g := range gaps {
			if g > th {
				n++
			}
		}
		return n / float64(len(gaps))
	}
	opts := Options{Models: models, Seed: seed, TopicMin: 20}
	sumIn, sumCal := make([]float64, len(shares)), make([]float64, len(shares))
	for f := range cvFolds {
		var ex []Example
		var held []*datasets.Item
		for _, it := range train {
			if cvFold(it) == f {
				held = append(held, it)
				continue
			}
			ex = append(ex, Example{Prompt: router.NormalizePrompt(it.Prompt), Topic: it.Source,
				Scores: map[string]float64{mixtral: it.Outcomes[mixtral].Score, gpt4: it.Outcomes[gpt4].Score}})
		}
		m, err := Train(context.Background(), ex, opts)
		if err != nil {
			t.Fatal(err)
		}
		calib, err := CalibrationSlice(len(ex), opts)
		if err != nil {
			t.Fatal(err)
		}
		gap := func(prompt string) float64 {
			p := m.Predict(prompt, nil)
			return p[m.Head(KindModel, gpt4)] - p[m.Head(KindModel, mixtral)]
		}
		in := make([]float64, len(ex))
		for i, e := range ex {
			in[i] = gap(e.Prompt)
		}
		var cal, out []float64
		for _, i := range calib {
			cal = append(cal, in[i])
		}
		for _, it := range held {
			out = append(out, gap(router.NormalizePrompt(it.Prompt)))
		}
		for k, s := range shares {
			sumIn[k] += above(out, threshold(in, s)) / cvFolds
			sumCal[k] += above(out, threshold(cal, s)) / cvFolds
		}
		t.Logf("fold %d: %d trained on (%d in the calibration slice), %d held out", f, len(ex), len(cal), len(out))
	}
	for k, s := range shares {
		t.Logf("share %.2f set on: all trained prompts -> %.3f held out; calibration slice -> %.3f held out", s, sumIn[k], sumCal[k])
	}
}
