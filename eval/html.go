package eval

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes a self-contained HTML report: the policies, the
// summary metrics, the learned table and the curves as inline SVG, with
// no scripts and nothing fetched.
func WriteHTML(w io.Writer, res *Result) error {
	var text strings.Builder
	if err := WriteText(&text, res); err != nil {
		return err
	}
	data := struct {
		R        *Result
		CostSVG  template.HTML
		GapSVG   template.HTML
		Text     string
		APGR     string
		CPT50    string
		CPT80    string
		AIQ      string
		Random   string
		AxisName string
	}{
		R:        res,
		CostSVG:  template.HTML(costQualitySVG(res)),
		GapSVG:   template.HTML(gapSVG(res)),
		Text:     text.String(),
		APGR:     num(res.APGR, 3, false),
		CPT50:    num(res.CPT50, 1, true),
		CPT80:    num(res.CPT80, 1, true),
		AIQ:      num(res.AIQ, 4, false),
		Random:   num(res.RandomAIQ, 4, false),
		AxisName: axisName(res.APGRAxis),
	}
	return reportTemplate.Execute(w, data)
}

func axisName(axis string) string {
	if axis == "strong_calls" {
		return "share of calls to the strongest model"
	}
	return "cost, normalised from the weak (0) to the strongest model (1)"
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f4":  func(v float64) string { return fmt.Sprintf("%.4f", v) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>switchyard eval: {{.R.Dataset}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}
svg{background:#fff;border:1px solid #ddd;margin:.5em 0}.metric{font-size:1.1em}
</style></head><body>
<h1>switchyard eval: {{.R.Dataset}}</h1>
<p>{{.R.NTrain}} training and {{.R.NTest}} test prompts (split by {{.R.Split}}){{if .R.Classifier}}, classifier {{.R.Classifier}}{{end}}, quality target {{printf "%.2f" .R.Target}}.
Strongest model {{.R.Strongest}}, weak model {{.R.Weak}}; static table {{.R.StaticSource}}.</p>
<p class="metric">APGR <b>{{.APGR}}</b> · CPT(50%) <b>{{.CPT50}}</b> · CPT(80%) <b>{{.CPT80}}</b> (axis: {{.AxisName}}) · AIQ <b>{{.AIQ}}</b> (random mix {{.Random}})</p>
<h2>Policies on the test split</h2>
<table><tr><th>policy</th><th>n</th><th>quality</th><th>vs strongest</th><th>cost $</th><th>$ per 1k</th><th>savings</th><th>strong share</th></tr>
{{range .R.Policies}}<tr><td>{{.Name}}</td><td>{{.N}}</td><td>{{f4 .Quality}}</td><td>{{pct .QualityVsStrongest}}</td><td>{{f4 .CostUSD}}</td><td>{{f4 .CostPer1k}}</td><td>{{pct .SavingsVsStrongest}}</td><td>{{pct .StrongShare}}</td></tr>
{{end}}</table>
<h2>Cost and quality</h2>
<p>The learned table's curve as its quality target moves (dots), its non-decreasing upper hull (dashed, whose area is AIQ), each policy{{if .R.Local}}, and the local policy's per-prompt curve (orange){{end}}.</p>
{{.CostSVG}}
<h2>Performance gap recovered</h2>
<p>Quality against the {{.AxisName}}; the diagonal is random routing (APGR 0.5).</p>
{{.GapSVG}}
<h2>Details</h2>
<pre>{{.Text}}</pre>
</body></html>
`))

// plot maps data coordinates into an SVG viewport.
type plot struct {
	w, h, left, right, top, bottom float64
	x0, x1, y0, y1                 float64
	b                              strings.Builder
}

func newPlot(x0, x1, y0, y1 float64) *plot {
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	p := &plot{w: 720, h: 420, left: 70, right: 20, top: 20, bottom: 50, x0: x0, x1: x1, y0: y0, y1: y1}
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-size="11">`, p.w, p.h, p.w, p.h)
	return p
}

func (p *plot) sx(x float64) float64 {
	return p.left + (x-p.x0)/(p.x1-p.x0)*(p.w-p.left-p.right)
}

func (p *plot) sy(y float64) float64 {
	return p.h - p.bottom - (y-p.y0)/(p.y1-p.y0)*(p.h-p.top-p.bottom)
}

// axes draws both axes with five ticks each and their labels.
func (p *plot) axes(xlabel, ylabel string) {
	fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, p.left, p.h-p.bottom, p.w-p.right, p.h-p.bottom)
	fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`, p.left, p.top, p.left, p.h-p.bottom)
	for k := 0; k <= 4; k++ {
		x := p.x0 + (p.x1-p.x0)*float64(k)/4
		y := p.y0 + (p.y1-p.y0)*float64(k)/4
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, p.sx(x), p.h-p.bottom+15, tick(x))
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, p.left-5, p.sy(y)+4, tick(y))
		fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, p.left, p.sy(y), p.w-p.right, p.sy(y))
	}
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (p.left+p.w-p.right)/2, p.h-10, html.EscapeString(xlabel))
	fmt.Fprintf(&p.b, `<text transform="translate(15 %.1f) rotate(-90)" text-anchor="middle">%s</text>`, (p.top+p.h-p.bottom)/2, html.EscapeString(ylabel))
}

func (p *plot) polyline(pts []Point, style string) {
	if len(pts) == 0 {
		return
	}
	var s []string
	for _, q := range pts {
		s = append(s, fmt.Sprintf("%.1f,%.1f", p.sx(q.X), p.sy(q.Y)))
	}
	fmt.Fprintf(&p.b, `<polyline fill="none" points="%s" %s/>`, strings.Join(s, " "), style)
}

func (p *plot) dot(q Point, r float64, fill, label string) {
	fmt.Fprintf(&p.b, `<circle cx="%.1f" cy="%.1f" r="%g" fill="%s"><title>%s</title></circle>`, p.sx(q.X), p.sy(q.Y), r, fill, html.EscapeString(label))
	if label == "" {
		return
	}
	// Labels of dots in the right half run leftwards, so none is cut off
	// at the plot's right edge.
	x, anchor := p.sx(q.X)+6, "start"
	if x > (p.left+p.w-p.right)/2 {
		x, anchor = p.sx(q.X)-6, "end"
	}
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, p.sy(q.Y)-6, anchor, html.EscapeString(label))
}

func (p *plot) svg() string { return p.b.String() + "</svg>" }

func tick(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// bounds returns the range of pts padded by 5%.
func bounds(pts []Point) (x0, x1, y0, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, q := range pts {
		x0, x1 = min(x0, q.X), max(x1, q.X)
		y0, y1 = min(y0, q.Y), max(y1, q.Y)
	}
	dx, dy := (x1-x0)*0.05, (y1-y0)*0.05
	return max(0, x0-dx), x1 + dx, max(0, y0-dy), min(1, y1+dy)
}

// costQualitySVG plots quality against cost per 1k prompts.
func costQualitySVG(res *Result) string {
	var curve, all []Point
	for _, c := range res.Curve {
		curve = append(curve, Point{c.CostPer1k, c.Quality})
	}
	all = append(all, curve...)
	for _, pr := range res.Policies {
		all = append(all, Point{pr.CostPer1k, pr.Quality})
	}
	var local []Point
	if res.Local != nil {
		for _, c := range res.Local.Curve {
			local = append(local, Point{c.CostPer1k, c.Quality})
		}
		all = append(all, local...)
	}
	if len(all) == 0 {
		return ""
	}
	p := newPlot(bounds(all))
	p.axes("cost per 1,000 prompts (USD)", "mean quality")
	p.polyline(NondecreasingHull(curve), `stroke="#999" stroke-dasharray="4 3"`)
	p.polyline(curve, `stroke="#1f77b4" stroke-width="1.5"`)
	for _, q := range curve {
		p.dot(q, 2.5, "#1f77b4", "")
	}
	// The local policy's per-prompt curve, when there is one.
	p.polyline(local, `stroke="#ff7f0e" stroke-width="1.5"`)
	for _, pr := range res.Policies {
		fill := "#d62728"
		if strings.HasPrefix(pr.Name, alwaysPrefix) {
			fill = "#555"
		}
		p.dot(Point{pr.CostPer1k, pr.Quality}, 4, fill, pr.Name)
	}
	return p.svg()
}

// gapSVG plots quality against the APGR axis with the random diagonal.
func gapSVG(res *Result) string {
	var strong, weak *PolicyResult
	for i := range res.Policies {
		switch res.Policies[i].Name {
		case alwaysPrefix + res.Strongest:
			strong = &res.Policies[i]
		case alwaysPrefix + res.Weak:
			weak = &res.Policies[i]
		}
	}
	if strong == nil || weak == nil || !(strong.CostUSD > weak.CostUSD || res.APGRAxis == "strong_calls") {
		return "<p>(needs the always: policies of the weak and the strongest model)</p>"
	}
	x := func(share, cost float64) float64 {
		if res.APGRAxis == "strong_calls" {
			return share
		}
		return (cost - weak.CostUSD) / (strong.CostUSD - weak.CostUSD)
	}
	pts := []Point{{0, weak.Quality}, {1, strong.Quality}}
	var curve []Point
	for _, c := range res.Curve {
		q := Point{x(c.StrongShare, c.CostUSD), c.Quality}
		if q.X >= 0 && q.X <= 1 {
			curve = append(curve, q)
		}
	}
	curve = gapCurve(curve, weak.Quality, strong.Quality)
	all := append(append([]Point{}, pts...), curve...)
	x0, x1, y0, y1 := bounds(all)
	p := newPlot(min(0, x0), max(1, x1), y0, y1)
	p.axes(axisName(res.APGRAxis), "mean quality")
	p.polyline(pts, `stroke="#999" stroke-dasharray="4 3"`)
	p.polyline(curve, `stroke="#1f77b4" stroke-width="1.5"`)
	for _, q := range curve {
		p.dot(q, 2.5, "#1f77b4", "")
	}
	p.dot(pts[0], 4, "#555", "always:"+res.Weak)
	p.dot(pts[1], 4, "#555", "always:"+res.Strongest)
	return p.svg()
}
