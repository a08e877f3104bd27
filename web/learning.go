package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"

	"github.com/switchyard/switchyard/router"
)

// kindEvalVersion marks the Params of an eval run that is a held-out
// measurement of one stored version (`switchyard eval-version --record`,
// one a learner run in scripts/loop.sh), telling it from a `switchyard
// eval` run in the same table.
const kindEvalVersion = "eval-version"

// maxLearningRuns bounds the eval runs read for the learning curves: a
// loop records one a batch, a few dozen a dataset.
const maxLearningRuns = 500

// versionRunParams and versionRunResult are the fields the learning curve
// plots of a recorded eval-version run, as that command writes them
// (cmd/switchyard/evalversion.go documents the whole JSON).
type versionRunParams struct {
	Kind            string `json:"kind"`
	Version         int64  `json:"version"`
	PromptsReplayed int    `json:"prompts_replayed"`
	StaticVersion   int64  `json:"static_version"`
}

type versionRunResult struct {
	N         int      `json:"n"`
	Quality   float64  `json:"quality"`
	CostShare *float64 `json:"cost_share"`
	Static    *struct {
		Quality float64 `json:"quality"`
	} `json:"static"`
}

// learningPoint is one held-out measurement on a learning curve.
type learningPoint struct {
	Run     int64   `json:"run"`
	Version int64   `json:"version"`
	Prompts int     `json:"prompts_replayed"`
	N       int     `json:"n"`
	Quality float64 `json:"quality"`
	// StaticQuality and CostShare compare with the static version; absent
	// when the run was not given one.
	StaticQuality *float64 `json:"static_quality,omitempty"`
	CostShare     *float64 `json:"cost_share,omitempty"`
}

// learningCurve is one dataset's held-out measurements against prompts
// replayed: issue 9's learning curve.
type learningCurve struct {
	Dataset string          `json:"dataset"`
	Points  []learningPoint `json:"points"`
}

// isVersionRun reports whether run is a recorded eval-version run.
func isVersionRun(run router.EvalRun) bool {
	var p versionRunParams
	return json.Unmarshal(run.Params, &p) == nil && p.Kind == kindEvalVersion
}

// learningCurves groups the recorded eval-version runs by dataset, each
// ordered by prompts replayed, then by when it was recorded; datasets
// come in name order.
func learningCurves(runs []router.EvalRun) []learningCurve {
	type at struct {
		p       learningPoint
		created int64
	}
	by := map[string][]at{}
	for _, run := range runs {
		var p versionRunParams
		var r versionRunResult
		if json.Unmarshal(run.Params, &p) != nil || p.Kind != kindEvalVersion || json.Unmarshal(run.Result, &r) != nil {
			continue
		}
		pt := learningPoint{Run: run.ID, Version: p.Version, Prompts: p.PromptsReplayed, N: r.N, Quality: r.Quality, CostShare: r.CostShare}
		if r.Static != nil {
			q := r.Static.Quality
			pt.StaticQuality = &q
		}
		by[run.Dataset] = append(by[run.Dataset], at{pt, run.CreatedAt.UnixNano()})
	}
	var out []learningCurve
	for _, ds := range sortedKeys(by) {
		pts := by[ds]
		slices.SortFunc(pts, func(a, b at) int {
			return cmp.Or(cmp.Compare(a.p.Prompts, b.p.Prompts), cmp.Compare(a.created, b.created))
		})
		c := learningCurve{Dataset: ds}
		for _, p := range pts {
			c.Points = append(c.Points, p.p)
		}
		out = append(out, c)
	}
	return out
}

// learningCharts draws a dataset's curve as two charts against prompts
// replayed: the held-out cost as a share of the static version's, and
// the held-out quality with the static version's as a dashed line. A
// point is filled where the measured version differs from the one before
// (a promotion between the two), hollow where it is the same.
func learningCharts(i int, c learningCurve) (cost, quality template.HTML) {
	costID, qualityID := fmt.Sprintf("chart-learning-cost-%d", i), fmt.Sprintf("chart-learning-quality-%d", i)
	xmax := 1.0
	qlo, qhi, smax := 1.0, 0.0, 1.0
	for _, p := range c.Points {
		xmax = max(xmax, float64(p.Prompts))
		qlo, qhi = min(qlo, p.Quality), max(qhi, p.Quality)
		if p.StaticQuality != nil {
			qlo, qhi = min(qlo, *p.StaticQuality), max(qhi, *p.StaticQuality)
		}
		if p.CostShare != nil {
			smax = max(smax, *p.CostShare)
		}
	}
	xt := niceTicks(xmax, 4)
	xl := make([]string, len(xt))
	for j, v := range xt {
		xl[j] = fmt.Sprintf("%.0f", v)
	}
	promoted := func(j int) bool { return j > 0 && c.Points[j].Version != c.Points[j-1].Version }
	const color, ref = "#4e79a7", "#e15759"

	cc := newCanvas(costID, "Learning: held-out cost, "+c.Dataset, fmt.Sprintf(
		"Held-out cost on %s of the version active after each learner run, as a share of the static version's, against prompts replayed with feedback; filled points follow a promotion.", c.Dataset), 520, 230)
	st := niceTicks(smax, 4)
	cc.scale(0, xt[len(xt)-1], 0, st[len(st)-1])
	cc.yAxis(st, func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }, "cost, share of the static version's")
	cc.xAxis(xt, xl, "prompts replayed")
	cc.series("static", ref, "kind", "reference")
	cc.line([][2]float64{{cc.X(0), cc.Y(1)}, {cc.X(xt[len(xt)-1]), cc.Y(1)}}, ref, true)
	cc.end()
	cc.series("cost-share", color, "kind", "held-out")
	var line [][2]float64
	var drawn []int
	for j, p := range c.Points {
		if p.CostShare != nil {
			line = append(line, [2]float64{cc.X(float64(p.Prompts)), cc.Y(*p.CostShare)})
			drawn = append(drawn, j)
		}
	}
	cc.line(line, color, false)
	for k, j := range drawn {
		p := c.Points[j]
		cc.dot(line[k][0], line[k][1], color, !promoted(j), fmt.Sprintf("v%d after %d prompts: %.1f%% of the static cost", p.Version, p.Prompts, 100**p.CostShare),
			"version", fmt.Sprint(p.Version), "prompts", fmt.Sprint(p.Prompts))
	}
	cc.end()

	qc := newCanvas(qualityID, "Learning: held-out quality, "+c.Dataset, fmt.Sprintf(
		"Held-out quality on %s of the version active after each learner run against prompts replayed with feedback, with the static version's as a dashed line; filled points follow a promotion.", c.Dataset), 520, 230)
	pad := max(0.02, (qhi-qlo)*0.15)
	qc.scale(0, xt[len(xt)-1], max(0, qlo-pad), min(1, qhi+pad))
	qc.yAxis(qc.evenTicksY(4), func(v float64) string { return fmt.Sprintf("%.3f", v) }, "quality (mean score)")
	qc.xAxis(xt, xl, "prompts replayed")
	var sline, qline [][2]float64
	for _, p := range c.Points {
		if p.StaticQuality != nil {
			sline = append(sline, [2]float64{qc.X(float64(p.Prompts)), qc.Y(*p.StaticQuality)})
		}
		qline = append(qline, [2]float64{qc.X(float64(p.Prompts)), qc.Y(p.Quality)})
	}
	qc.series("static-quality", ref, "kind", "reference")
	qc.line(sline, ref, true)
	qc.end()
	qc.series("quality", color, "kind", "held-out")
	qc.line(qline, color, false)
	for j, p := range c.Points {
		lo, hi := router.SuccessInterval(p.Quality, p.N)
		qc.dot(qline[j][0], qline[j][1], color, !promoted(j), fmt.Sprintf("v%d after %d prompts: quality %.4f [%.3f, %.3f] on %d held-out prompts", p.Version, p.Prompts, p.Quality, lo, hi, p.N),
			"version", fmt.Sprint(p.Version), "prompts", fmt.Sprint(p.Prompts), "n", fmt.Sprint(p.N))
	}
	qc.end()
	return cc.html(), qc.html()
}
