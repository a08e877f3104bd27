package eval

import (
	"math"
	"slices"
	"strconv"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/router"
)

// Audit is what `switchyard eval --audit` reports about the local
// classifier: how well its probabilities are calibrated, how often its
// complexity agrees with other classifiers, and how it tracks human
// difficulty labels.
type Audit struct {
	// Prompts is the number of prompts audited: the test split, or every
	// prompt of a dataset without outcomes.
	Prompts int `json:"prompts"`
	// Calibration has one entry per candidate model with outcomes on the
	// test split.
	Calibration []ModelCalibration `json:"calibration,omitempty"`
	// Agreement compares the local complexity with the heuristic
	// classifier's, and with the dataset's label where it has one.
	Agreement []Agreement `json:"agreement"`
	// Difficulty is present when some prompt has label.difficulty.
	Difficulty *DifficultyAudit `json:"difficulty,omitempty"`
}

// ReliabilityBin is one bin of a reliability curve: the prompts whose
// predicted probability is in [Lo, Hi), their mean prediction and mean
// outcome.
type ReliabilityBin struct {
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Count     int     `json:"count"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// ModelCalibration is the local model's calibration for one model.
type ModelCalibration struct {
	Model string `json:"model"`
	N     int    `json:"n"`
	// ECE is the expected calibration error of Bins; AUC ranks the
	// predictions against the outcomes (score >= 0.5 is a success).
	ECE           float64          `json:"ece"`
	AUC           float64          `json:"auc"`
	MeanPredicted float64          `json:"mean_predicted"`
	MeanObserved  float64          `json:"mean_observed"`
	Bins          []ReliabilityBin `json:"bins"`
}

// Agreement is a confusion matrix of the local complexity (rows) against
// another classifier's (columns), both in router.Complexities order,
// over the prompts where both answered.
type Agreement struct {
	Other     string    `json:"other"`
	N         int       `json:"n"`
	Rate      float64   `json:"rate"`
	Confusion [3][3]int `json:"confusion"`
}

// DifficultyAudit relates classifiers to a human difficulty scale
// (label.difficulty, e.g. MATH levels 1-5).
type DifficultyAudit struct {
	N int `json:"n"`
	// Levels counts prompts per difficulty value.
	Levels map[string]int `json:"levels"`
	// Groups is the mean difficulty of the prompts each classifier put in
	// each complexity.
	Groups []DifficultyGroup `json:"groups"`
	// Spearman's rank correlation with the difficulty of: the predicted
	// failure of the cheapest model, 1 - p(cheapest); the local
	// complexity (simple < moderate < complex); and the heuristic's
	// complexity. Positive means harder prompts score higher.
	SpearmanLocalWeakFailure float64 `json:"spearman_local_weak_failure"`
	SpearmanLocalComplexity  float64 `json:"spearman_local_complexity"`
	SpearmanHeuristic        float64 `json:"spearman_heuristic"`
}

// DifficultyGroup is one classifier's complexity group.
type DifficultyGroup struct {
	Classifier     string            `json:"classifier"`
	Complexity     router.Complexity `json:"complexity"`
	N              int               `json:"n"`
	MeanDifficulty float64           `json:"mean_difficulty"`
}

// reliabilityBins is the reliability curve's resolution.
const reliabilityBins = 10

// AuditLocal audits the local classifier lc on items (the prompts it was
// not trained on), against the heuristic analyzer. mx, when not nil, is
// the prepared matrix whose test split's outcomes give the calibration.
func AuditLocal(mx *Matrix, items []*datasets.Item, lc *LocalClassifier, heuristic Analyzer) *Audit {
	a := &Audit{Prompts: len(items), Agreement: []Agreement{}}
	if mx != nil && mx.Pred != nil {
		a.Prompts = len(mx.Test)
		a.Calibration = mx.calibration(mx.Test)
	}
	local := make([]router.Complexity, len(items))
	heur := make([]router.Complexity, len(items))
	for i, it := range items {
		local[i] = lc.Decide(it.Prompt).Complexity
		heur[i] = heuristic.Analyze(it.Prompt).Complexity
	}
	a.Agreement = append(a.Agreement, agreement("heuristic", local, heur))
	var lab, labLocal []router.Complexity
	for i, it := range items {
		if c, err := router.ParseComplexity(it.Label.Complexity); err == nil {
			lab = append(lab, c)
			labLocal = append(labLocal, local[i])
		}
	}
	if len(lab) > 0 {
		a.Agreement = append(a.Agreement, agreement("label", labLocal, lab))
	}
	a.Difficulty = difficultyAudit(items, lc, local, heur)
	return a
}

// calibration is the reliability of each predicted model on rows.
func (mx *Matrix) calibration(rows []int32) []ModelCalibration {
	K, M := len(mx.PredModels), len(mx.Models)
	var out []ModelCalibration
	for k, name := range mx.PredModels {
		col := mx.PredCols[k]
		if col < 0 {
			continue
		}
		var p, y []float64
		for _, i := range rows {
			q := mx.Quality[int(i)*M+col]
			if math.IsNaN(q) {
				continue
			}
			p = append(p, mx.Pred[int(i)*K+k])
			y = append(y, q)
		}
		if len(p) == 0 {
			continue
		}
		bins := textmodel.Reliability(p, y, reliabilityBins)
		mc := ModelCalibration{Model: name, N: len(p), ECE: textmodel.ECE(bins), AUC: textmodel.AUC(p, y),
			MeanPredicted: mean(p), MeanObserved: mean(y)}
		for _, b := range bins {
			mc.Bins = append(mc.Bins, ReliabilityBin{Lo: b.Lo, Hi: b.Hi, Count: b.Count, Predicted: b.Predicted, Observed: b.Observed})
		}
		out = append(out, mc)
	}
	return out
}

// agreement tallies local against other, pairwise.
func agreement(name string, local, other []router.Complexity) Agreement {
	a := Agreement{Other: name}
	same := 0
	for i := range local {
		r, c := slices.Index(router.Complexities, local[i]), slices.Index(router.Complexities, other[i])
		if r < 0 || c < 0 {
			continue
		}
		a.Confusion[r][c]++
		a.N++
		if r == c {
			same++
		}
	}
	if a.N > 0 {
		a.Rate = float64(same) / float64(a.N)
	}
	return a
}

// difficultyAudit relates the classifiers to label.difficulty, or
// returns nil when no item has one.
func difficultyAudit(items []*datasets.Item, lc *LocalClassifier, local, heur []router.Complexity) *DifficultyAudit {
	var level, fail, lrank, hrank []float64
	type key struct {
		cls string
		c   router.Complexity
	}
	sums, counts := map[key]float64{}, map[key]int{}
	d := &DifficultyAudit{Levels: map[string]int{}}
	for i, it := range items {
		if it.Label.Difficulty == nil {
			continue
		}
		v := *it.Label.Difficulty
		d.Levels[strconv.FormatFloat(v, 'g', -1, 64)]++
		level = append(level, v)
		fail = append(fail, 1-lc.Probabilities(it)[0])
		lrank = append(lrank, float64(slices.Index(router.Complexities, local[i])))
		hrank = append(hrank, float64(slices.Index(router.Complexities, heur[i])))
		for _, k := range []key{{"local", local[i]}, {"heuristic", heur[i]}} {
			sums[k] += v
			counts[k]++
		}
	}
	if len(level) == 0 {
		return nil
	}
	d.N = len(level)
	for _, cls := range []string{"local", "heuristic"} {
		for _, c := range router.Complexities {
			k := key{cls, c}
			if counts[k] > 0 {
				d.Groups = append(d.Groups, DifficultyGroup{Classifier: cls, Complexity: c, N: counts[k], MeanDifficulty: sums[k] / float64(counts[k])})
			}
		}
	}
	d.SpearmanLocalWeakFailure = Spearman(fail, level)
	d.SpearmanLocalComplexity = Spearman(lrank, level)
	d.SpearmanHeuristic = Spearman(hrank, level)
	return d
}

// Spearman is the rank correlation of x and y: Pearson's correlation of
// their ranks, ties given their average rank. It is 0 when either is
// constant or they have fewer than two values.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		return 0
	}
	return pearson(ranks(x), ranks(y))
}

// ranks gives each value its 1-based rank, ties the mean of theirs.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	out := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			out[idx[k]] = r
		}
		i = j
	}
	return out
}

func pearson(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
