package textmodel_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// The MATH-500 audit of the shared-dataset report: how the heuristic
// classifier's complexity, and a trained model's predictions, track human
// difficulty labels (MATH levels 1-5). It lives in the external test
// package because classify imports textmodel. Run with the report:
//
//	SWITCHYARD_SHARED_DATASETS=$PWD/../shared/datasets go test ./internal/textmodel -run TestSharedDatasets -v

// mathSources are the RouteLLM sources the audit's model trains on: all
// of GSM8K and MMLU's mathematics subjects.
var mathSources = map[string]bool{
	"gsm8k":                        true,
	"mmlu/abstract_algebra":        true,
	"mmlu/college_mathematics":     true,
	"mmlu/elementary_mathematics":  true,
	"mmlu/high_school_mathematics": true,
	"mmlu/high_school_statistics":  true,
}

const (
	auditWeak   = "mistralai/Mixtral-8x7B-Instruct-v0.1"
	auditStrong = "gpt-4-1106-preview"
)

type auditItem struct {
	Prompt   string `json:"prompt"`
	Source   string `json:"source"`
	Outcomes map[string]struct {
		Score *float64 `json:"score"`
	} `json:"outcomes"`
	Label struct {
		Difficulty *int `json:"difficulty"`
	} `json:"label"`
	Meta struct {
		Contaminated bool `json:"contaminated"`
	} `json:"meta"`
}

func loadAudit(t *testing.T, path string) []auditItem {
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
	var items []auditItem
	for {
		var it auditItem
		if err := dec.Decode(&it); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		items = append(items, it)
	}
	return items
}

func TestSharedDatasetsMath500(t *testing.T) {
	dir := os.Getenv("SWITCHYARD_SHARED_DATASETS")
	if dir == "" {
		t.Skip("SWITCHYARD_SHARED_DATASETS not set")
	}
	math500 := loadAudit(t, filepath.Join(dir, "math500_levels.jsonl.gz"))
	var prompts []string
	var levels []float64
	seen := map[string]bool{}
	for _, it := range math500 {
		if it.Label.Difficulty != nil {
			prompts = append(prompts, it.Prompt)
			levels = append(levels, float64(*it.Label.Difficulty))
			seen[router.NormalizePrompt(it.Prompt)] = true
		}
	}

	// The heuristic classifier: simple 1, moderate 2, complex 3.
	var h classify.Heuristic
	heur := make([]float64, len(prompts))
	heurBucket := make([]string, len(prompts))
	for i, p := range prompts {
		c := h.Analyze(p).Complexity
		heurBucket[i] = string(c)
		heur[i] = map[router.Complexity]float64{router.Simple: 1, router.Moderate: 2, router.Complex: 3}[c]
	}
	t.Logf("math500: %d problems with a level; level counts %s", len(prompts), levelCounts(levels))
	t.Logf("heuristic complexity: Spearman rho with level %.3f; mean level per bucket %s",
		spearman(heur, levels), meanLevelBy(heurBucket, levels))

	// A model trained on the mathematical RouteLLM prompts (no MATH
	// problem among them), scored on MATH: does its predicted chance of
	// the weak model failing rise with the level?
	var train []textmodel.Example
	for _, it := range loadAudit(t, filepath.Join(dir, "routellm.jsonl.gz")) {
		if it.Meta.Contaminated || !mathSources[it.Source] || seen[router.NormalizePrompt(it.Prompt)] {
			continue
		}
		ex := textmodel.Example{Prompt: it.Prompt, Scores: map[string]float64{}, Topic: it.Source}
		for _, m := range []string{auditWeak, auditStrong} {
			if o := it.Outcomes[m]; o.Score != nil {
				ex.Scores[m] = *o.Score
			}
		}
		train = append(train, ex)
	}
	models := []string{auditWeak, auditStrong}
	for _, v := range []struct {
		name string
		opts textmodel.Options
	}{
		{"per-model heads", textmodel.Options{Models: models, Seed: 1}},
		{"+ topic heads", textmodel.Options{Models: models, Seed: 1, TopicMin: 20}},
	} {
		m, err := textmodel.Train(context.Background(), train, v.opts)
		if err != nil {
			t.Fatal(err)
		}
		fail, gap := make([]float64, len(prompts)), make([]float64, len(prompts))
		targets := []float64{classify.DefaultLocalTarget, 0.6}
		bucket := make([][]string, len(targets))
		for i, p := range prompts {
			pr := m.Predict(p, nil)
			fail[i], gap[i] = 1-pr[0], pr[1]-pr[0]
			for k, target := range targets {
				bucket[k] = append(bucket[k], string(textmodel.Bucket(pr[:2], target).Complexity))
			}
		}
		t.Logf("model (%s) trained on %d GSM8K + MMLU-mathematics prompts:", v.name, len(train))
		t.Logf("  1-p(weak): Spearman rho with level %.3f; mean level per quintile (lowest predicted failure first) %s",
			spearman(fail, levels), meanLevelByQuintile(fail, levels))
		t.Logf("  p(strong)-p(weak): Spearman rho with level %.3f", spearman(gap, levels))
		for k, target := range targets {
			t.Logf("  bucket rule (target %.1f): mean level per bucket %s", target, meanLevelBy(bucket[k], levels))
		}
	}
}

// ranks returns the ranks of x from 1, ties given their average rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			r[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	return r
}

// spearman is the rank correlation of x and y (Pearson on average
// ranks); NaN when either is constant.
func spearman(x, y []float64) float64 {
	rx, ry := ranks(x), ranks(y)
	n := float64(len(x))
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestSpearman(t *testing.T) {
	tests := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{[]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, 0.5},
		// Ties: ranks (1.5, 1.5, 3) against (1, 2, 3): rho = sqrt(3)/2.
		{[]float64{5, 5, 9}, []float64{1, 2, 3}, math.Sqrt(3) / 2},
	}
	for _, tt := range tests {
		if got := spearman(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("spearman(%v, %v) = %g, want %g", tt.x, tt.y, got, tt.want)
		}
	}
}

func levelCounts(levels []float64) string {
	c := map[int]int{}
	for _, l := range levels {
		c[int(l)]++
	}
	var b strings.Builder
	for l := 1; l <= 5; l++ {
		fmt.Fprintf(&b, " L%d:%d", l, c[l])
	}
	return b.String()
}

// meanLevelBy prints the mean level and count of each group, in the
// order simple, moderate, complex, then others sorted.
func meanLevelBy(group []string, levels []float64) string {
	sum, n := map[string]float64{}, map[string]int{}
	for i, g := range group {
		sum[g] += levels[i]
		n[g]++
	}
	var keys []string
	for g := range n {
		keys = append(keys, g)
	}
	order := map[string]int{"simple": 0, "moderate": 1, "complex": 2}
	sort.Slice(keys, func(i, j int) bool {
		oi, iok := order[keys[i]]
		oj, jok := order[keys[j]]
		if iok && jok {
			return oi < oj
		}
		if iok != jok {
			return iok
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for _, g := range keys {
		fmt.Fprintf(&b, " %s %.2f (n=%d)", g, sum[g]/float64(n[g]), n[g])
	}
	return b.String()
}

// meanLevelByQuintile sorts by score and prints the mean level of each
// fifth.
func meanLevelByQuintile(score, levels []float64) string {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var b strings.Builder
	for q := range 5 {
		lo, hi := q*len(idx)/5, (q+1)*len(idx)/5
		var s float64
		for _, i := range idx[lo:hi] {
			s += levels[i]
		}
		fmt.Fprintf(&b, " %.2f", s/float64(hi-lo))
	}
	return b.String()
}
