package web

import (
	"fmt"
	"html/template"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// svg.go draws the admin page's charts as inline SVG on the server: no
// script, no build chain and nothing fetched, so the page works offline
// under its default-src 'none' policy. Every text and attribute value
// goes through esc, since model, bucket and dataset names come from
// configuration and stored rows; every series is a <g data-series=…>
// group, so a test (or a person reading the source) can find it.

// wideChart is the width from which a chart is drawn across the page
// (class "wide"); narrower ones sit two to a row.
const wideChart = 900

// canvas is one chart being drawn: an SVG of w×h user units with a plot
// area inside its margins, and the data ranges the area maps.
type canvas struct {
	b                        strings.Builder
	id, title, desc          string
	w, h                     float64
	left, right, top, bottom float64
	x0, x1, y0, y1           float64
	// defs are the fill patterns used, by id (fill).
	defs map[string]string
}

// esc escapes s for SVG text and attribute values (quotes included).
func esc(s string) string { return template.HTMLEscapeString(s) }

// num formats a coordinate compactly.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return fmt.Sprintf("%.1f", v)
}

// newCanvas starts a chart of w×h user units; the caller may grow h (and
// the margins) before drawing, since the SVG's opening tag is written
// last (html).
func newCanvas(id, title, desc string, w, h float64) *canvas {
	return &canvas{id: id, title: title, desc: desc, w: w, h: h, left: 56, right: 12, top: 42, bottom: 36, x1: 1, y1: 1}
}

// scale sets the data ranges the plot area maps; a degenerate range is
// widened so nothing divides by zero.
func (c *canvas) scale(x0, x1, y0, y1 float64) {
	if x1 <= x0 {
		x1 = x0 + 1
	}
	if y1 <= y0 {
		y1 = y0 + 1
	}
	c.x0, c.x1, c.y0, c.y1 = x0, x1, y0, y1
}

func (c *canvas) plotW() float64 { return c.w - c.left - c.right }
func (c *canvas) plotH() float64 { return c.h - c.top - c.bottom }

// X and Y map data values to user units.
func (c *canvas) X(v float64) float64 { return c.left + c.plotW()*(v-c.x0)/(c.x1-c.x0) }
func (c *canvas) Y(v float64) float64 { return c.top + c.plotH()*(1-(v-c.y0)/(c.y1-c.y0)) }

// text writes a label; class picks its style from the page's CSS.
func (c *canvas) text(x, y float64, s, anchor, class string) {
	fmt.Fprintf(&c.b, `<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, num(x), num(y), anchor, esc(class), esc(s))
}

// yAxis draws horizontal grid lines at ticks with their labels, and the
// axis's name above it.
func (c *canvas) yAxis(ticks []float64, format func(float64) string, name string) {
	c.b.WriteString(`<g class="axis y">`)
	for _, t := range ticks {
		y := c.Y(t)
		fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="grid"/>`, num(c.left), num(c.w-c.right), num(y), num(y))
		c.text(c.left-4, y+4, format(t), "end", "tick")
	}
	c.text(c.left, c.top-8, name, "start", "axis-name")
	c.b.WriteString(`</g>`)
}

// xAxis draws the baseline and labels at data positions; name goes under
// the labels when not empty.
func (c *canvas) xAxis(at []float64, labels []string, name string) {
	c.b.WriteString(`<g class="axis x">`)
	y := c.h - c.bottom
	fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" class="baseline"/>`, num(c.left), num(c.w-c.right), num(y), num(y))
	for i, v := range at {
		c.text(c.X(v), y+14, labels[i], "middle", "tick")
	}
	if name != "" {
		c.text(c.left+c.plotW()/2, y+28, name, "middle", "axis-name")
	}
	c.b.WriteString(`</g>`)
}

// attrs renders data attributes in the order given: name, value, ...
func attrs(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, ` data-%s="%s"`, esc(kv[i]), esc(kv[i+1]))
	}
	return b.String()
}

// series opens a group for one series; close it with end.
func (c *canvas) series(name, color string, kv ...string) {
	fmt.Fprintf(&c.b, `<g class="series" data-series="%s" data-color="%s"%s>`, esc(name), esc(color), attrs(kv...))
}

func (c *canvas) end() { c.b.WriteString(`</g>`) }

// rect draws a filled box with a hover title.
func (c *canvas) rect(x, y, w, h float64, fill, title string, kv ...string) {
	fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"%s><title>%s</title></rect>`,
		num(x), num(y), num(math.Max(w, 0)), num(math.Max(h, 0)), esc(fill), attrs(kv...), esc(title))
}

// line draws a polyline through points (user units); dashed for
// reference lines.
func (c *canvas) line(pts [][2]float64, stroke string, dashed bool) {
	if len(pts) == 0 {
		return
	}
	var d strings.Builder
	for i, p := range pts {
		if i == 0 {
			d.WriteString("M")
		} else {
			d.WriteString(" L")
		}
		d.WriteString(num(p[0]) + "," + num(p[1]))
	}
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="5 3"`
	}
	fmt.Fprintf(&c.b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, d.String(), esc(stroke), dash)
}

// dot draws a point with a hover title; hollow for an estimate rather
// than a measurement.
func (c *canvas) dot(x, y float64, color string, hollow bool, title string, kv ...string) {
	fill := color
	if hollow {
		fill = "#fff"
	}
	fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="4" fill="%s" stroke="%s" stroke-width="1.5"%s><title>%s</title></circle>`,
		num(x), num(y), esc(fill), esc(color), attrs(kv...), esc(title))
}

// whisker draws an interval lo..hi along the x axis at height y (data
// values on x), with the estimate mid as a dot.
func (c *canvas) whisker(y, lo, mid, hi float64, color, title string, kv ...string) {
	x0, x1 := c.X(lo), c.X(hi)
	fmt.Fprintf(&c.b, `<g class="whisker"%s><title>%s</title>`, attrs(kv...), esc(title))
	fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, num(x0), num(x1), num(y), num(y), esc(color))
	for _, x := range []float64{x0, x1} {
		fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s"/>`, num(x), num(x), num(y-4), num(y+4), esc(color))
	}
	fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/></g>`, num(c.X(mid)), num(y), esc(color))
}

// whiskerUp is whisker standing up: the interval lo..hi along the y axis
// (data values) at x (user units).
func (c *canvas) whiskerUp(x, lo, mid, hi float64, color, title string, kv ...string) {
	y0, y1 := c.Y(lo), c.Y(hi)
	fmt.Fprintf(&c.b, `<g class="whisker"%s><title>%s</title>`, attrs(kv...), esc(title))
	fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s" stroke-width="2"/>`, num(x), num(x), num(y0), num(y1), esc(color))
	for _, y := range []float64{y0, y1} {
		fmt.Fprintf(&c.b, `<line x1="%s" x2="%s" y1="%s" y2="%s" stroke="%s"/>`, num(x-4), num(x+4), num(y), num(y), esc(color))
	}
	fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="4" fill="%s"/></g>`, num(x), num(c.Y(mid)), esc(color))
}

// legendItem is one entry of a legend.
type legendItem struct{ Name, Color string }

// legend writes the entries in a row under the chart, wrapping as the
// width requires; the caller leaves room (legendHeight).
func (c *canvas) legend(items []legendItem, y float64) {
	c.b.WriteString(`<g class="legend">`)
	x := c.left
	for _, it := range items {
		w := 22 + 6.5*float64(len(it.Name))
		if x+w > c.w-c.right && x > c.left {
			x, y = c.left, y+16
		}
		fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="10" height="10" fill="%s"/>`, num(x), num(y-9), esc(it.Color))
		c.text(x+14, y, it.Name, "start", "legend-name")
		x += w
	}
	c.b.WriteString(`</g>`)
}

// legendHeight is the room legend needs for items at width w.
func legendHeight(items []legendItem, w, left, right float64) float64 {
	rows, x := 1, left
	for _, it := range items {
		iw := 22 + 6.5*float64(len(it.Name))
		if x+iw > w-right && x > left {
			rows, x = rows+1, left
		}
		x += iw
	}
	return float64(rows) * 16
}

// html wraps what was drawn in the SVG element, with the chart's
// accessible name (title) and description (desc): a screen reader
// announces the chart by them. Every value written went through esc.
func (c *canvas) html() template.HTML {
	var b strings.Builder
	class := "chart"
	if c.w >= wideChart {
		class += " wide" // the page's CSS keeps it wider on a phone
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="%s" id="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc">`,
		class, esc(c.id), num(c.w), num(c.h), esc(c.id), esc(c.id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.id), esc(c.title), esc(c.id), esc(c.desc))
	fmt.Fprintf(&b, `<text x="8" y="18" class="chart-title">%s</text>`, esc(c.title))
	if len(c.defs) > 0 {
		b.WriteString(`<defs>`)
		for _, id := range slices.Sorted(maps.Keys(c.defs)) {
			b.WriteString(c.defs[id])
		}
		b.WriteString(`</defs>`)
	}
	b.WriteString(c.b.String())
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every value written went through esc
}

// emptyChart is a chart with nothing to draw: its title and a sentence
// saying why, so the page degrades to words rather than blank axes.
func emptyChart(id, title, why string) template.HTML {
	c := newCanvas(id, title, why, 640, 64)
	c.b.WriteString(`<g data-empty="true">`)
	c.text(8, 46, why, "start", "empty")
	c.b.WriteString(`</g>`)
	return c.html()
}

// niceTicks returns about n round tick values from 0 to at least max.
func niceTicks(max float64, n int) []float64 {
	if max <= 0 || math.IsNaN(max) {
		return []float64{0, 1}
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := 0.0; v < max+step/2; v += step {
		out = append(out, v)
		if v >= max {
			break
		}
	}
	if out[len(out)-1] < max {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

// evenTicksY divides the y range into n equal steps: ticks for a range
// that does not start at zero (a quality axis zoomed on its data).
func (c *canvas) evenTicksY(n int) []float64 {
	out := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		out = append(out, c.y0+(c.y1-c.y0)*float64(i)/float64(n))
	}
	return out
}

// palette is Tableau's ten colours: distinct, readable on white, told
// apart by most colour-blind readers in adjacent pairs.
var palette = [...]string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// patterns are drawn over the palette's colours once they run out: the
// first ten series are solid, the next ten striped, then dotted, then
// cross-hatched, so forty series read apart before any repeats.
var patterns = [...]string{"", "stripes", "dots", "crosshatch"}

// swatch is how one series is told apart: a colour and, past the
// palette's ten, a pattern of white over it.
type swatch struct {
	Color   string
	Pattern string // one of patterns; "" is solid
}

// colors gives each name (in the order given, sorted by the caller) a
// swatch, the same on every chart of a page.
func colors(names []string) map[string]swatch {
	out := make(map[string]swatch, len(names))
	for i, n := range names {
		out[n] = swatch{Color: palette[i%len(palette)], Pattern: patterns[(i/len(palette))%len(patterns)]}
	}
	return out
}

// fill is the SVG fill that paints s on c: its colour, or a reference
// to a pattern defined once in the chart (ids are prefixed with the
// chart's, since every chart of the page shares one document).
func (c *canvas) fill(s swatch) string {
	if s.Pattern == "" {
		return s.Color
	}
	id := c.id + "-" + s.Pattern + "-" + strings.TrimPrefix(s.Color, "#")
	if c.defs == nil {
		c.defs = map[string]string{}
	}
	if _, ok := c.defs[id]; !ok {
		var marks string
		switch s.Pattern {
		case "stripes":
			marks = `<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2.5"/>`
		case "dots":
			marks = `<circle cx="3" cy="3" r="1.5" fill="#fff"/>`
		default: // crosshatch
			marks = `<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="1.5"/><line x1="0" y1="3" x2="6" y2="3" stroke="#fff" stroke-width="1.5"/>`
		}
		rotate := ""
		if s.Pattern != "dots" {
			rotate = ` patternTransform="rotate(45)"`
		}
		c.defs[id] = fmt.Sprintf(`<pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse"%s><rect width="6" height="6" fill="%s"/>%s</pattern>`,
			esc(id), rotate, esc(s.Color), marks)
	}
	return "url(#" + id + ")"
}

// seriesSwatch opens a series group painted with s: its colour and
// pattern are data attributes too, so a test can tell series apart.
func (c *canvas) seriesSwatch(name string, s swatch, kv ...string) {
	c.series(name, s.Color, append(kv, "pattern", orNone(s.Pattern, "solid"))...)
}

// tickUSD labels a dollar axis with three significant figures, not the
// table's fixed decimals: "$0.5", "$1.25", "$0.0004".
func tickUSD(v float64) string {
	if v == 0 {
		return "$0"
	}
	return "$" + strconv.FormatFloat(v, 'g', 3, 64)
}
