package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/router"
)

// chartdraw.go draws each of the overview's charts from chartData with
// svg.go's canvas.

// dayLabel is a date as an axis shows it: month and day.
func dayLabel(date string) string {
	if len(date) == len("2006-01-02") {
		return date[5:]
	}
	return date
}

// dayAxis labels n day bands, every other one when they are many.
func dayAxis(c *canvas, days []chartDay) {
	var at []float64
	var labels []string
	step := 1
	if len(days) > 8 {
		step = 2
	}
	for i := len(days) - 1; i >= 0; i -= step {
		at = append(at, float64(i)+0.5)
		labels = append(labels, dayLabel(days[i].Date))
	}
	c.xAxis(at, labels, "")
}

// spendChart stacks each day's spend by model, with the baseline model's
// cost for the same requests as a line: the gap is the savings.
func spendChart(d chartData, models []string, mc map[string]swatch) template.HTML {
	const id, title = "chart-spend", "Spend per day by model"
	var total, baseline, peak router.Micros
	for _, day := range d.Days {
		total += day.Total
		baseline += day.Baseline
		peak = max(peak, day.Total, day.Baseline)
	}
	if peak == 0 {
		return emptyChart(id, title, fmt.Sprintf("No spend from %s to %s: no traffic yet.", d.From, d.To))
	}
	saved := fmt.Sprintf("saved %s", usd(baseline-total))
	if baseline > 0 {
		saved += fmt.Sprintf(" (%.0f%%)", 100*float64(baseline-total)/float64(baseline))
	}
	desc := fmt.Sprintf("Spend from %s to %s: %s, against %s had every request gone to %s; %s. Bars stack each day's spend by model; the dark line is the baseline's cost.",
		d.From, d.To, usd(total), usd(baseline), d.Baseline, saved)
	c := newCanvas(id, title, desc, 960, 250)
	items := []legendItem{}
	for _, m := range models {
		items = append(items, legendItem{m, c.fill(mc[m])})
	}
	items = append(items, legendItem{"baseline: " + d.Baseline, "#222"})
	lh := legendHeight(items, c.w, c.left, c.right)
	c.h += lh
	c.bottom += lh
	ticks := niceTicks(peak.USD(), 4)
	c.scale(0, float64(len(d.Days)), 0, ticks[len(ticks)-1])
	c.yAxis(ticks, tickUSD, "USD a day")
	dayAxis(c, d.Days)
	c.text(c.w-c.right, 18, saved+" against "+d.Baseline, "end", "chart-note")
	band := c.plotW() / float64(len(d.Days))
	stacked := make([]float64, len(d.Days))
	for _, m := range models {
		c.seriesSwatch(m, mc[m], "kind", "spend")
		for i, day := range d.Days {
			v := day.SpendByModel[m]
			if v <= 0 {
				continue
			}
			y0 := stacked[i]
			stacked[i] += v.USD()
			c.rect(c.X(float64(i))+band*0.15, c.Y(stacked[i]), band*0.7, c.Y(y0)-c.Y(stacked[i]), c.fill(mc[m]),
				fmt.Sprintf("%s on %s: %s", m, day.Date, usd(v)), "day", day.Date, "micros", fmt.Sprint(int64(v)))
		}
		c.end()
	}
	// The baseline is a bar-wide rule over each day with traffic: the
	// gap between it and the bar is the day's savings.
	c.series("baseline", "#222", "kind", "baseline", "model", d.Baseline)
	for i, day := range d.Days {
		if day.Baseline <= 0 {
			continue
		}
		y := c.Y(day.Baseline.USD())
		c.line([][2]float64{{c.X(float64(i)) + band*0.05, y}, {c.X(float64(i+1)) - band*0.05, y}}, "#222", false)
		c.dot(c.X(float64(i)+0.5), y, "#222", false, fmt.Sprintf("%s on %s: %s (spent %s, saved %s)", d.Baseline, day.Date, usd(day.Baseline), usd(day.Total), usd(day.Baseline-day.Total)),
			"day", day.Date, "micros", fmt.Sprint(int64(day.Baseline)))
	}
	c.end()
	c.legend(items, c.h-lh+4)
	return c.html()
}

// shareChart stacks each day's requests by key to 100%: how traffic
// moved between models (or buckets) as tables changed.
func shareChart(id, title, kind string, d chartData, names []string, col map[string]swatch, of func(chartDay) map[string]int) template.HTML {
	totals := make([]int, len(d.Days))
	all := 0
	for i, day := range d.Days {
		for _, n := range of(day) {
			totals[i] += n
		}
		all += totals[i]
	}
	if all == 0 {
		return emptyChart(id, title, fmt.Sprintf("No requests from %s to %s.", d.From, d.To))
	}
	c := newCanvas(id, title, fmt.Sprintf("%s: each day's requests (%d in all from %s to %s) split by %s, as shares of the day; days without requests are blank.", title, all, d.From, d.To, kind), 520, 230)
	items := []legendItem{}
	for _, n := range names {
		items = append(items, legendItem{n, c.fill(col[n])})
	}
	lh := legendHeight(items, c.w, c.left, c.right)
	c.h += lh
	c.bottom += lh
	ticks := []float64{0, 0.25, 0.5, 0.75, 1}
	c.scale(0, float64(len(d.Days)), 0, 1)
	c.yAxis(ticks, func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }, "share of the day's requests")
	dayAxis(c, d.Days)
	band := c.plotW() / float64(len(d.Days))
	stacked := make([]float64, len(d.Days))
	for _, n := range names {
		c.seriesSwatch(n, col[n], "kind", kind)
		for i, day := range d.Days {
			v := of(day)[n]
			if v == 0 || totals[i] == 0 {
				continue
			}
			share := float64(v) / float64(totals[i])
			y0 := stacked[i]
			stacked[i] += share
			c.rect(c.X(float64(i))+band*0.15, c.Y(stacked[i]), band*0.7, c.Y(y0)-c.Y(stacked[i]), c.fill(col[n]),
				fmt.Sprintf("%s on %s: %d of %d requests (%.0f%%)", n, day.Date, v, totals[i], 100*share), "day", day.Date, "requests", fmt.Sprint(v))
		}
		c.end()
	}
	c.legend(items, c.h-lh+4)
	return c.html()
}

// Colours tell the two kinds of signal apart; thin evidence is grey
// whatever its kind.
const (
	feedbackColor  = "#4e79a7"
	automaticColor = "#f28e2b"
	thinColor      = "#bbbbbb"
)

// qualityChart shows each model's success rate in each bucket by kind of
// signal, with its 95% interval and sample count; rates on fewer samples
// than the learner's min_samples are grey and marked thin.
func qualityChart(points []qualityPoint) template.HTML {
	const id, title = "chart-quality", "Quality signals by bucket and model"
	if len(points) == 0 {
		return emptyChart(id, title, "No quality signals yet: no feedback and no automatic signal on stored requests.")
	}
	type row struct{ bucket, model string }
	var rows []row
	for _, p := range points {
		if r := (row{p.Bucket, p.Model}); len(rows) == 0 || rows[len(rows)-1] != r {
			rows = append(rows, r)
		}
	}
	const rowH = 30.0
	desc := "Success rate of each model in each bucket, from client feedback (blue) and from automatic signals such as escalations and errors (orange), each with its 95% Wilson interval and sample count; grey marks too few samples to trust."
	c := newCanvas(id, title, desc, 960, 0)
	c.left, c.right, c.top = 330, 190, 50
	c.h = c.top + rowH*float64(len(rows)) + c.bottom
	c.scale(0, 1, 0, 1)
	c.b.WriteString(`<g class="axis x">`)
	for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
		x := c.X(t)
		fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="grid"/>`, num(x), num(x), num(c.top), num(c.h-c.bottom))
		c.text(x, c.h-c.bottom+14, fmt.Sprintf("%.2g", t), "middle", "tick")
	}
	c.text(c.left+c.plotW()/2, c.h-c.bottom+28, "success rate (95% interval)", "middle", "axis-name")
	c.b.WriteString(`</g>`)
	c.legend([]legendItem{{"feedback", feedbackColor}, {"automatic", automaticColor}, {"thin evidence", thinColor}}, 38)
	y := c.top
	for i, r := range rows {
		mid := y + rowH/2
		if i > 0 && rows[i-1].bucket == r.bucket {
			c.text(c.left-8, mid+4, r.model, "end", "row-label")
		} else {
			c.text(8, mid+4, r.bucket, "start", "row-group")
			c.text(c.left-8, mid+4, r.model, "end", "row-label")
		}
		notes := map[string]string{}
		for _, p := range points {
			if p.Bucket != r.bucket || p.Model != r.model {
				continue
			}
			off, color := -6.0, feedbackColor
			if p.Kind == router.SignalAutomatic {
				off, color = 6, automaticColor
			}
			if p.Thin {
				color = thinColor
			}
			ev := fmt.Sprintf("%.2f [%.2f, %.2f] n=%d", p.Rate, p.Lo, p.Hi, p.N)
			if p.Thin {
				ev += " thin"
			}
			c.series(p.Model, color, "bucket", p.Bucket, "signal", p.Kind, "n", fmt.Sprint(p.N), "thin", fmt.Sprint(p.Thin))
			c.whisker(mid+off, p.Lo, p.Rate, p.Hi, color, fmt.Sprintf("%s in %s, %s: %s", p.Model, p.Bucket, p.Kind, ev),
				"rate", fmt.Sprintf("%.4f", p.Rate), "lo", fmt.Sprintf("%.4f", p.Lo), "hi", fmt.Sprintf("%.4f", p.Hi))
			c.end()
			notes[p.Kind] = fmt.Sprintf("%s n=%d", p.Kind, p.N)
		}
		var note []string
		for _, k := range []string{router.SignalFeedback, router.SignalAutomatic} {
			if n, ok := notes[k]; ok {
				note = append(note, strings.Replace(n, "automatic", "auto", 1))
			}
		}
		c.text(c.w-c.right+8, mid+4, strings.Join(note, " · "), "start", "row-note")
		y += rowH
	}
	return c.html()
}

// versionCharts set each version's replayed quality and cost (hollow)
// beside what its traffic showed (filled; quality with its interval).
func versionCharts(vs []versionPoint) (quality, cost template.HTML) {
	const qid, cid = "chart-versions-quality", "chart-versions-cost"
	const qt, ct = "Versions: predicted and observed quality", "Versions: predicted and observed cost a request"
	any := false
	for _, v := range vs {
		any = any || v.PredictedQuality != nil || v.Observed != nil
	}
	if !any {
		why := "No version has a replay estimate or traffic in the window yet."
		return emptyChart(qid, qt, why), emptyChart(cid, ct, why)
	}
	at := make([]float64, len(vs))
	labels := make([]string, len(vs))
	for i, v := range vs {
		at[i] = float64(i) + 0.5
		labels[i] = fmt.Sprintf("v%d", v.ID)
		if v.Status == string(router.StatusActive) {
			labels[i] += "*"
		}
	}
	legend := []legendItem{{"predicted by the replay (hollow)", "#777"}, {"observed in traffic", "#4e79a7"}}
	const predColor, obsColor = "#777", "#4e79a7"

	qc := newCanvas(qid, qt, "For each version (oldest first, * active): the gate's replayed quality when it was learned, hollow, and the mean feedback score of the requests it routed, filled, with its 95% interval.", 520, 230)
	qc.bottom += 18
	qc.h += 18
	qc.scale(0, float64(len(vs)), 0, 1)
	qc.yAxis([]float64{0, 0.25, 0.5, 0.75, 1}, func(v float64) string { return fmt.Sprintf("%.2g", v) }, "quality (success rate)")
	qc.xAxis(at, labels, "")
	qc.series("predicted", predColor, "kind", "replay")
	for i, v := range vs {
		if v.PredictedQuality != nil {
			qc.dot(qc.X(at[i])-6, qc.Y(*v.PredictedQuality), predColor, true,
				fmt.Sprintf("v%d replayed quality %.3f on %d logged requests", v.ID, *v.PredictedQuality, v.ReplaySamples), "version", fmt.Sprint(v.ID))
		}
	}
	qc.end()
	qc.series("observed", obsColor, "kind", "traffic")
	for i, v := range vs {
		if o := v.Observed; o != nil && o.Feedback > 0 {
			lo, hi := router.SuccessInterval(o.Quality, o.Feedback)
			qc.whiskerUp(qc.X(at[i])+6, lo, o.Quality, hi, obsColor,
				fmt.Sprintf("v%d feedback %.3f [%.2f, %.2f] n=%d", v.ID, o.Quality, lo, hi, o.Feedback), "version", fmt.Sprint(v.ID), "n", fmt.Sprint(o.Feedback))
		}
	}
	qc.end()
	qc.legend(legend, qc.h-8)

	var peak router.Micros
	for _, v := range vs {
		if v.PredictedCost != nil {
			peak = max(peak, *v.PredictedCost)
		}
		if v.Observed != nil {
			peak = max(peak, v.Observed.CostPerRequest())
		}
	}
	cc := newCanvas(cid, ct, "For each version (oldest first, * active): the gate's replayed cost of a request, hollow, and the mean cost of the requests it routed, filled.", 520, 230)
	cc.bottom += 18
	cc.h += 18
	ticks := niceTicks(peak.USD(), 4)
	cc.scale(0, float64(len(vs)), 0, ticks[len(ticks)-1])
	cc.yAxis(ticks, tickUSD, "USD a request")
	cc.xAxis(at, labels, "")
	cc.series("predicted", predColor, "kind", "replay")
	for i, v := range vs {
		if v.PredictedCost != nil {
			cc.dot(cc.X(at[i])-6, cc.Y(v.PredictedCost.USD()), predColor, true, fmt.Sprintf("v%d replayed cost %s a request", v.ID, usd(*v.PredictedCost)), "version", fmt.Sprint(v.ID))
		}
	}
	cc.end()
	cc.series("observed", obsColor, "kind", "traffic")
	for i, v := range vs {
		if o := v.Observed; o != nil && o.Requests > 0 {
			cc.dot(cc.X(at[i])+6, cc.Y(o.CostPerRequest().USD()), obsColor, false,
				fmt.Sprintf("v%d: %s a request over %d requests", v.ID, usd(o.CostPerRequest()), o.Requests), "version", fmt.Sprint(v.ID), "n", fmt.Sprint(o.Requests))
		}
	}
	cc.end()
	cc.legend(legend, cc.h-8)
	return qc.html(), cc.html()
}

// evalChart draws one eval run's learned cost-quality curve with the
// fixed policies as labelled points.
func evalChart(e evalCurve) template.HTML {
	id := fmt.Sprintf("chart-eval-%d", e.ID)
	title := fmt.Sprintf("Eval run %d: %s", e.ID, e.Dataset)
	x1, y0, y1 := 0.0, 1.0, 0.0
	grow := func(cost, q float64) { x1, y0, y1 = max(x1, cost), min(y0, q), max(y1, q) }
	for _, p := range e.Curve {
		grow(p.CostPer1k, p.Quality)
	}
	for _, p := range e.Local {
		grow(p.CostPer1k, p.Quality)
	}
	for _, p := range e.Points {
		grow(p.CostPer1k, p.Quality)
	}
	c := newCanvas(id, title, fmt.Sprintf("Quality against cost per 1,000 prompts on %s's test split: the learned table's curve as its quality target moves (blue), the local per-prompt policy's (orange) when there is one, and each fixed policy as a labelled dot.", e.Dataset), 360, 250)
	c.left, c.right, c.bottom = 44, 16, 40
	xt := niceTicks(x1, 3)
	pad := max(0.02, (y1-y0)*0.1)
	c.scale(0, xt[len(xt)-1], max(0, y0-pad), min(1, y1+pad))
	c.yAxis(c.evenTicksY(4), func(v float64) string { return fmt.Sprintf("%.2f", v) }, "quality")
	labels := make([]string, len(xt))
	for i, v := range xt {
		labels[i] = fmt.Sprintf("$%.3g", v)
	}
	c.xAxis(xt, labels, "USD per 1,000 prompts")
	curve := func(name, color string, pts []eval.CurvePoint) {
		if len(pts) == 0 {
			return
		}
		c.series(name, color, "kind", "curve")
		var line [][2]float64
		for _, p := range pts {
			line = append(line, [2]float64{c.X(p.CostPer1k), c.Y(p.Quality)})
		}
		c.line(line, color, false)
		for i, p := range pts {
			c.dot(line[i][0], line[i][1], color, false, fmt.Sprintf("%s at target %.3g: quality %.3f, $%.4f per 1k", name, p.Target, p.Quality, p.CostPer1k))
		}
		c.end()
	}
	curve("learned", "#4e79a7", e.Curve)
	curve("local", "#f28e2b", e.Local)
	var placed [][2]float64 // label positions so far, to step clear of them
	for _, p := range e.Points {
		color := "#e15759"
		if strings.HasPrefix(p.Name, "always:") {
			color = "#555"
		}
		c.series(p.Name, color, "kind", "policy")
		x, y := c.X(p.CostPer1k), c.Y(p.Quality)
		c.dot(x, y, color, true, fmt.Sprintf("%s: quality %.3f, $%.4f per 1k", p.Name, p.Quality, p.CostPer1k))
		anchor := "start"
		if x > c.left+c.plotW()*0.6 {
			anchor, x = "end", x-12
		}
		ly := y - 6
		for clash := true; clash; {
			clash = false
			for _, q := range placed {
				if math.Abs(q[0]-x) < 70 && math.Abs(q[1]-ly) < 11 {
					ly, clash = q[1]+11, true
				}
			}
		}
		placed = append(placed, [2]float64{x, ly})
		c.text(x+6, ly, strings.TrimPrefix(p.Name, "always:"), anchor, "point-label")
		c.end()
	}
	return c.html()
}
