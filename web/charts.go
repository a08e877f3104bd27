package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"time"

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/router"
)

// TrafficReader groups stored requests by day, model, bucket and table
// version; *store.Store implements it.
type TrafficReader interface {
	Traffic(ctx context.Context, from, to time.Time) ([]router.TrafficGroup, error)
}

// SignalReader counts the outcomes of the requests served in [from, to)
// by bucket, model, source and table version, in the database: the page
// never reads the outcomes themselves, whose number grows with traffic.
// *store.Store implements it.
type SignalReader interface {
	SignalCounts(ctx context.Context, from, to time.Time) ([]router.SignalCount, error)
}

// chartDays is the window the overview's charts cover.
const chartDays = 14

// chartedVersions and chartedEvals bound the version timeline and the
// eval curves to what stays readable.
const (
	chartedVersions = 12
	chartedEvals    = 4
)

// chartDay is one day of the overview's charts.
type chartDay struct {
	Date             string                   `json:"date"`
	Total            router.Micros            `json:"total_micros"`
	Baseline         router.Micros            `json:"baseline_micros"`
	SpendByModel     map[string]router.Micros `json:"spend_micros_by_model"`
	RequestsByModel  map[string]int           `json:"requests_by_model"`
	RequestsByBucket map[string]int           `json:"requests_by_bucket"`
}

// qualityPoint is a SignalRate with its interval, as drawn.
type qualityPoint struct {
	router.SignalRate
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	Thin bool    `json:"thin"`
}

// versionPoint is one version on the timeline: what the gate's replay
// predicted (absent for versions not learned) beside what its traffic
// showed (absent for versions that never routed in the window).
type versionPoint struct {
	ID               int64                  `json:"id"`
	Status           string                 `json:"status"`
	Source           string                 `json:"source"`
	Created          time.Time              `json:"created_at"`
	PredictedQuality *float64               `json:"predicted_quality,omitempty"`
	PredictedCost    *router.Micros         `json:"predicted_cost_micros,omitempty"`
	ReplaySamples    int                    `json:"replay_samples,omitempty"`
	Observed         *router.VersionTraffic `json:"observed,omitempty"`
}

// evalCurve is one eval run's cost-quality picture.
type evalCurve struct {
	ID      int64             `json:"id"`
	Created time.Time         `json:"created_at"`
	Dataset string            `json:"dataset"`
	Curve   []eval.CurvePoint `json:"curve"`
	Local   []eval.CurvePoint `json:"local_curve,omitempty"`
	Points  []evalPolicyPoint `json:"policies"`
}

// evalPolicyPoint is one fixed policy's place on an eval run's picture.
type evalPolicyPoint struct {
	Name      string  `json:"name"`
	Quality   float64 `json:"quality"`
	CostPer1k float64 `json:"cost_per_1k"`
}

// chartData is what the overview's charts draw; /admin/api/charts
// answers it as JSON.
type chartData struct {
	From     string         `json:"from"`
	To       string         `json:"to"`
	Baseline string         `json:"baseline_model"`
	Days     []chartDay     `json:"days"`
	Quality  []qualityPoint `json:"quality"`
	Versions []versionPoint `json:"versions"`
	Evals    []evalCurve    `json:"evals"`
	// Learning holds the held-out measurements of versions recorded by
	// eval-version --record, by dataset.
	Learning []learningCurve `json:"learning"`
}

// chartSet is the drawn charts, ready for the template.
type chartSet struct {
	Spend, ModelShare, BucketShare, Quality template.HTML
	VersionQuality, VersionCost             template.HTML
	Evals                                   []template.HTML
	// Learning is each dataset's cost and quality charts, in turn.
	Learning []template.HTML
}

// charts reads what the charts need over the chartDays ending today.
// versions and runs (newest first, up to maxLearningRuns) are what the
// overview already read.
func (h *handler) charts(ctx context.Context, versions []router.Version, runs []router.EvalRun) (chartData, error) {
	today := h.opts.Now().UTC()
	from := today.AddDate(0, 0, -(chartDays - 1))
	d := chartData{From: from.Format(time.DateOnly), To: today.Format(time.DateOnly), Baseline: h.opts.Baseline}
	spend, err := h.opts.Spend.Spend(ctx, from, today)
	if err != nil {
		return d, fmt.Errorf("charts: %w", err)
	}
	index := map[string]int{}
	for i, s := range spend {
		index[s.Date] = i
		d.Days = append(d.Days, chartDay{Date: s.Date, Total: s.Total, Baseline: s.Baseline, SpendByModel: s.ByModel,
			RequestsByModel: map[string]int{}, RequestsByBucket: map[string]int{}})
	}
	var traffic []router.TrafficGroup
	if h.opts.Traffic != nil {
		if traffic, err = h.opts.Traffic.Traffic(ctx, from, today); err != nil {
			return d, fmt.Errorf("charts: %w", err)
		}
	}
	for _, g := range traffic {
		i, ok := index[g.Day]
		if !ok {
			continue
		}
		d.Days[i].RequestsByModel[orNone(g.Model, "(none answered)")] += g.Requests
		d.Days[i].RequestsByBucket[orNone(g.Bucket, "(not routed)")] += g.Requests
	}
	var signals []router.SignalCount
	if h.opts.Signals != nil {
		start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
		if signals, err = h.opts.Signals.SignalCounts(ctx, start, start.AddDate(0, 0, chartDays)); err != nil {
			return d, fmt.Errorf("charts: %w", err)
		}
	}
	for _, r := range router.SignalRates(signals, traffic) {
		lo, hi := router.SuccessInterval(r.Rate, r.N)
		d.Quality = append(d.Quality, qualityPoint{SignalRate: r, Lo: lo, Hi: hi, Thin: r.N < h.opts.MinSamples})
	}
	d.Versions = versionPoints(versions, router.TrafficByVersion(signals, traffic))
	for _, run := range runs {
		if len(d.Evals) == chartedEvals {
			break
		}
		if isVersionRun(run) {
			continue // a learning-curve point, not an eval's curve
		}
		if c, ok := evalCurveOf(run); ok {
			d.Evals = append(d.Evals, c)
		}
	}
	d.Learning = learningCurves(runs)
	return d, nil
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// versionPoints pairs the latest versions, oldest first, with their
// replay estimates and their traffic.
func versionPoints(versions []router.Version, traffic []router.VersionTraffic) []versionPoint {
	byID := map[int64]router.VersionTraffic{}
	for _, t := range traffic {
		byID[t.Version] = t
	}
	vs := slices.Clone(versions)
	slices.SortFunc(vs, func(a, b router.Version) int { return int(a.ID - b.ID) })
	vs = vs[max(0, len(vs)-chartedVersions):]
	out := make([]versionPoint, 0, len(vs))
	for _, v := range vs {
		p := versionPoint{ID: v.ID, Status: string(v.Status), Source: v.Source, Created: v.CreatedAt}
		if q, ok := v.Provenance.Params[router.ParamReplayQuality]; ok {
			p.PredictedQuality = &q
			p.ReplaySamples = int(v.Provenance.Params[router.ParamReplaySamples])
		}
		if c, ok := v.Provenance.Params[router.ParamReplayCost]; ok {
			m := router.Micros(c + 0.5)
			p.PredictedCost = &m
		}
		if t, ok := byID[v.ID]; ok {
			p.Observed = &t
		}
		out = append(out, p)
	}
	return out
}

// evalCurveOf reads an eval run's stored result; a run whose result is
// not an eval.Result (or has nothing to plot) is left out of the charts.
func evalCurveOf(run router.EvalRun) (evalCurve, bool) {
	var res eval.Result
	if err := json.Unmarshal(run.Result, &res); err != nil || (len(res.Curve) == 0 && len(res.Policies) == 0) {
		return evalCurve{}, false
	}
	c := evalCurve{ID: run.ID, Created: run.CreatedAt, Dataset: run.Dataset, Curve: res.Curve}
	if res.Local != nil {
		c.Local = res.Local.Curve
	}
	for _, p := range res.Policies {
		c.Points = append(c.Points, evalPolicyPoint{Name: p.Name, Quality: p.Quality, CostPer1k: p.CostPer1k})
	}
	return c, true
}

// draw renders every chart of d.
func (d chartData) draw() chartSet {
	seenM, seenB := map[string]bool{}, map[string]bool{}
	for _, day := range d.Days {
		for m := range day.SpendByModel {
			seenM[m] = true
		}
		for m := range day.RequestsByModel {
			seenM[m] = true
		}
		for b := range day.RequestsByBucket {
			seenB[b] = true
		}
	}
	for _, q := range d.Quality {
		seenM[q.Model] = true
	}
	models, buckets := slices.Sorted(maps.Keys(seenM)), slices.Sorted(maps.Keys(seenB))
	mc, bc := colors(models), colors(buckets)
	s := chartSet{
		Spend:       spendChart(d, models, mc),
		ModelShare:  shareChart("chart-share-model", "Share of requests by model", "model", d, models, mc, func(c chartDay) map[string]int { return c.RequestsByModel }),
		BucketShare: shareChart("chart-share-bucket", "Share of requests by bucket", "bucket", d, buckets, bc, func(c chartDay) map[string]int { return c.RequestsByBucket }),
		Quality:     qualityChart(d.Quality),
	}
	s.VersionQuality, s.VersionCost = versionCharts(d.Versions)
	for _, e := range d.Evals {
		s.Evals = append(s.Evals, evalChart(e))
	}
	for i, c := range d.Learning {
		cost, quality := learningCharts(i+1, c)
		s.Learning = append(s.Learning, cost, quality)
	}
	if len(s.Learning) == 0 {
		s.Learning = []template.HTML{emptyChart("chart-learning", "Learning curve",
			"No held-out measurement of a version stored yet: scripts/loop.sh records one after each learner run (switchyard eval-version --record).")}
	}
	return s
}
