package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/router"
)

// hostileName is a model or bucket name built to break out of an SVG
// attribute and out of the text of a <title>.
const hostileName = `x"><script>alert(1)</script><title>`

// fakeTraffic serves fixed traffic and outcome counts.
type fakeTraffic struct {
	groups  []router.TrafficGroup
	signals []router.SignalCount
}

func (f fakeTraffic) Traffic(context.Context, time.Time, time.Time) ([]router.TrafficGroup, error) {
	return f.groups, nil
}

func (f fakeTraffic) SignalCounts(context.Context, time.Time, time.Time) ([]router.SignalCount, error) {
	return f.signals, nil
}

// chartFake is newFake with traffic on the 27th by gpt-4o-mini and by a
// model called hostileName, feedback on both, a version with a replay
// estimate and an eval run with a curve.
func chartFake(t *testing.T) (*fakeData, fakeTraffic) {
	t.Helper()
	f := newFake()
	f.spend[1].ByModel = map[string]router.Micros{"gpt-4o-mini": 1000, hostileName: 234}
	f.versions[0].Provenance.Params[router.ParamReplayQuality] = 0.91
	f.versions[0].Provenance.Params[router.ParamReplayCost] = 150
	f.versions[0].Provenance.Params[router.ParamReplaySamples] = 80
	res, err := json.Marshal(eval.Result{Dataset: hostileName,
		Curve:    []eval.CurvePoint{{Target: 0.8, Quality: 0.7, CostPer1k: 0.2}, {Target: 0.9, Quality: 0.85, CostPer1k: 0.9}},
		Policies: []eval.PolicyResult{{Name: "always:gpt-4o", Quality: 0.9, CostPer1k: 2}, {Name: hostileName, Quality: 0.5, CostPer1k: 0.1}}})
	if err != nil {
		t.Fatal(err)
	}
	f.evals[0].Result = res
	// The loop's held-out measurements of versions (eval-version --record),
	// newest first as the store lists them.
	for i, m := range []struct {
		version int64
		prompts int
		share   float64
	}{{2, 1000, 0.6}, {1, 500, 1}} {
		f.evals = append(f.evals, router.EvalRun{ID: int64(10 - i), CreatedAt: testNow, Dataset: hostileName,
			Params: json.RawMessage(fmt.Sprintf(`{"kind":"eval-version","version":%d,"prompts_replayed":%d,"static_version":1}`, m.version, m.prompts)),
			Result: json.RawMessage(fmt.Sprintf(`{"version":%d,"n":200,"quality":0.8,"cost_usd":1.5,"static":{"quality":0.82,"cost_usd":2.5},"cost_share":%g}`, m.version, m.share))})
	}
	tr := fakeTraffic{
		groups: []router.TrafficGroup{
			{Day: "2026-11-27", Model: "gpt-4o-mini", Bucket: "simple", TableVersion: 2, Requests: 6, Answered: 6, Cost: 1000},
			{Day: "2026-11-27", Model: hostileName, Bucket: hostileName, TableVersion: 2, Requests: 1, Answered: 1, Cost: 234},
		},
		signals: []router.SignalCount{
			{Bucket: "simple", Model: "gpt-4o-mini", Source: router.SourceFeedback, N: 1, Score: 1, TableVersion: 2},
			{Bucket: hostileName, Model: hostileName, Source: router.SourceFeedback, N: 1, Score: 0, TableVersion: 2},
		},
	}
	return f, tr
}

func chartHandler(f *fakeData, tr fakeTraffic) *handler {
	return New(Options{Token: testToken, Versions: f, Spend: f, Evals: f, Traffic: tr, Signals: tr, Baseline: "gpt-4o",
		Now: func() time.Time { return testNow }}).(*handler)
}

// svgs returns every inline <svg> of body.
func svgs(body string) []string {
	return regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(body, -1)
}

// wellFormed reports whether s parses as XML: an unescaped name would
// leave a stray quote or tag behind.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestChartsEscapeHostileNames: model, bucket, dataset and policy names
// reach the SVG as text and attribute values, escaped, never markup.
func TestChartsEscapeHostileNames(t *testing.T) {
	f, tr := chartFake(t)
	body := get(t, chartHandler(f, tr), "/admin", bearer(testToken)).Body.String()
	if strings.Contains(withoutOwnScript(body), "<script") {
		t.Errorf("overview carries a raw <script>")
	}
	charts := svgs(body)
	if len(charts) != 9 {
		t.Fatalf("%d charts, want 9 (spend, 2 shares, quality, 2 version charts, 2 learning, 1 eval run)", len(charts))
	}
	for _, c := range charts {
		if err := wellFormed(c); err != nil {
			t.Errorf("chart is not well-formed XML (%v):\n%s", err, c)
		}
		if n := strings.Count(c, "<title"); n == 0 || strings.Count(c, "</title>") != n {
			t.Errorf("chart's <title> elements are unbalanced: %d opened", n)
		}
	}
	const escaped = `data-series="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;title&gt;"`
	for _, id := range []string{"chart-spend", "chart-share-model", "chart-share-bucket", "chart-quality", "chart-eval-3"} {
		c := chartByID(charts, id)
		if !strings.Contains(c, escaped) {
			t.Errorf("%s lacks the hostile series, escaped as %s", id, escaped)
		}
	}
	const title = `<title id="chart-learning-cost-1-title">Learning: held-out cost, x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;title&gt;</title>`
	if c := chartByID(charts, "chart-learning-cost-1"); !strings.Contains(c, title) {
		t.Errorf("learning chart lacks the hostile dataset's name escaped in its title %s:\n%s", title, c)
	}
}

func chartByID(charts []string, id string) string {
	for _, c := range charts {
		if strings.Contains(c, `id="`+id+`"`) {
			return c
		}
	}
	return ""
}

// TestChartSeries: each chart carries the series its data has, by data
// attribute, with the values a reader would check.
func TestChartSeries(t *testing.T) {
	f, tr := chartFake(t)
	charts := svgs(get(t, chartHandler(f, tr), "/admin", bearer(testToken)).Body.String())
	tests := []struct {
		chart string
		want  []string
	}{
		{"chart-spend", []string{`data-series="gpt-4o-mini" data-color="#4e79a7" data-kind="spend"`, `data-day="2026-11-27" data-micros="1000"`,
			`data-series="baseline" data-color="#222" data-kind="baseline" data-model="gpt-4o"`, `data-day="2026-11-27" data-micros="10000"`, "saved $0.0128 (85%) against gpt-4o"}},
		{"chart-share-model", []string{`data-series="gpt-4o-mini"`, `data-requests="6"`}},
		{"chart-share-bucket", []string{`data-series="simple"`}},
		{"chart-quality", []string{`data-series="gpt-4o-mini" data-color="#bbbbbb" data-bucket="simple" data-signal="feedback" data-n="1" data-thin="true"`,
			`data-signal="automatic" data-n="6"`, "feedback n=1"}},
		{"chart-versions-quality", []string{`data-series="predicted"`, `data-version="2"`, "v2 replayed quality 0.910 on 80 logged requests", `data-series="observed"`}},
		{"chart-versions-cost", []string{`data-series="predicted"`, "v2 replayed cost $0.000150 a request", `data-series="observed"`}},
		{"chart-eval-3", []string{`data-series="learned" data-color="#4e79a7" data-kind="curve"`, `data-series="always:gpt-4o"`}},
		// v1 after 500 prompts, then v2 (a promotion: filled) after 1000.
		{"chart-learning-cost-1", []string{`data-series="cost-share"`, `data-series="static"`, "v1 after 500 prompts: 100.0% of the static cost",
			`fill="#fff" stroke="#4e79a7" stroke-width="1.5" data-version="1" data-prompts="500"`,
			`fill="#4e79a7" stroke="#4e79a7" stroke-width="1.5" data-version="2" data-prompts="1000"`}},
		{"chart-learning-quality-1", []string{`data-series="quality"`, `data-series="static-quality"`, "v2 after 1000 prompts: quality 0.8000"}},
	}
	for _, tt := range tests {
		c := chartByID(charts, tt.chart)
		if c == "" {
			t.Errorf("no chart %s", tt.chart)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(c, w) {
				t.Errorf("%s lacks %s", tt.chart, w)
			}
		}
	}
}

// TestChartsWithoutData: a fresh install draws every chart as a sentence
// saying why it is empty, never blank axes.
func TestChartsWithoutData(t *testing.T) {
	f := newFake()
	f.spend = nil
	f.evals = nil
	body := get(t, chartHandler(f, fakeTraffic{}), "/admin", bearer(testToken)).Body.String()
	charts := svgs(body)
	if len(charts) != 7 {
		t.Fatalf("%d charts, want 7 (spend, 2 shares, quality, 2 version charts, learning; no eval run, no eval chart)", len(charts))
	}
	for _, c := range charts {
		if !strings.Contains(c, `data-empty="true"`) || strings.Contains(c, `class="series"`) {
			t.Errorf("chart is not drawn empty:\n%s", c)
		}
		if err := wellFormed(c); err != nil {
			t.Errorf("empty chart is not well-formed XML: %v", err)
		}
	}
	for _, why := range []string{"No spend from 2026-11-14 to 2026-11-27", "No quality signals yet", "No version has a replay estimate",
		"No held-out measurement of a version stored yet"} {
		if !strings.Contains(body, why) {
			t.Errorf("overview does not say %q", why)
		}
	}
}

// TestAPICharts: the charts' JSON twin carries what they draw.
func TestAPICharts(t *testing.T) {
	f, tr := chartFake(t)
	rec := get(t, chartHandler(f, tr), "/admin/api/charts", bearer(testToken))
	var got chartData
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("status %d, decode: %v; body %s", rec.Code, err, rec.Body)
	}
	if len(got.Days) != len(f.spend) || got.From != "2026-11-14" || got.To != "2026-11-27" {
		t.Errorf("days = %d from %s to %s, want the store's %d, from 2026-11-14 to 2026-11-27", len(got.Days), got.From, got.To, len(f.spend))
	}
	var day chartDay
	for _, d := range got.Days {
		if d.Date == "2026-11-27" {
			day = d
		}
	}
	if day.RequestsByModel["gpt-4o-mini"] != 6 || day.RequestsByBucket["simple"] != 6 || day.Baseline != 10000 {
		t.Errorf("2026-11-27 = %+v, want 6 gpt-4o-mini requests in simple and a 10000 baseline", day)
	}
	if len(got.Quality) != 4 {
		t.Errorf("quality = %+v, want feedback and automatic for two (bucket, model)s", got.Quality)
	}
	if len(got.Versions) != 2 || got.Versions[1].PredictedQuality == nil || *got.Versions[1].PredictedQuality != 0.91 ||
		got.Versions[1].Observed == nil || got.Versions[1].Observed.Requests != 7 {
		t.Errorf("versions = %+v, want v2 with its replay (0.91) and 7 requests observed", got.Versions)
	}
	if len(got.Evals) != 1 || len(got.Evals[0].Curve) != 2 || len(got.Evals[0].Points) != 2 {
		t.Errorf("evals = %+v, want run 3's two curve points and two policies", got.Evals)
	}
	if len(got.Learning) != 1 || len(got.Learning[0].Points) != 2 || got.Learning[0].Points[0].Prompts != 500 || got.Learning[0].Points[1].Version != 2 {
		t.Errorf("learning = %+v, want one dataset: v1 after 500 prompts, then v2", got.Learning)
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		max  float64
		want []float64
	}{
		{0, []float64{0, 1}},
		{1.78, []float64{0, 0.5, 1, 1.5, 2}},
		{6.21, []float64{0, 2, 4, 6, 8}},
		{0.0009, []float64{0, 0.00025, 0.0005, 0.00075, 0.001}},
	}
	for _, tt := range tests {
		got := niceTicks(tt.max, 4)
		if len(got) != len(tt.want) {
			t.Errorf("niceTicks(%v) = %v, want %v", tt.max, got, tt.want)
			continue
		}
		for i := range got {
			if d := got[i] - tt.want[i]; d > 1e-12 || d < -1e-12 {
				t.Errorf("niceTicks(%v) = %v, want %v", tt.max, got, tt.want)
				break
			}
		}
	}
}

// TestManySeriesDistinguishable: with more buckets than the palette has
// colours, every series of the share chart still has its own colour and
// pattern pair (data-color, data-pattern), every patterned fill refers to
// a pattern the chart defines, and the legend paints each the same way.
func TestManySeriesDistinguishable(t *testing.T) {
	const n = 25
	day := chartDay{Date: "2026-11-27", RequestsByBucket: map[string]int{}}
	var names []string
	for i := range n {
		name := fmt.Sprintf("bucket-%02d", i)
		names = append(names, name)
		day.RequestsByBucket[name] = i + 1
	}
	d := chartData{From: day.Date, To: day.Date, Days: []chartDay{day}}
	svg := string(shareChart("chart-share-bucket", "Share of requests by bucket", "bucket", d, names, colors(names), func(c chartDay) map[string]int { return c.RequestsByBucket }))
	if err := wellFormed(svg); err != nil {
		t.Fatalf("chart is not well-formed: %v", err)
	}
	series := regexp.MustCompile(`data-series="([^"]+)" data-color="([^"]+)" data-kind="bucket" data-pattern="([^"]+)"`).FindAllStringSubmatch(svg, -1)
	if len(series) != n {
		t.Fatalf("%d series, want %d", len(series), n)
	}
	seen := map[string]string{}
	for _, s := range series {
		look := s[2] + " " + s[3]
		if other, ok := seen[look]; ok {
			t.Errorf("%s and %s both look %s", other, s[1], look)
		}
		seen[look] = s[1]
	}
	for _, ref := range regexp.MustCompile(`fill="url\(#([^)]+)\)"`).FindAllStringSubmatch(svg, -1) {
		if !strings.Contains(svg, `<pattern id="`+ref[1]+`"`) {
			t.Errorf("fill refers to #%s, which the chart does not define", ref[1])
		}
	}
	// bucket-10 is the first past the palette: striped, in the first
	// colour, in its bars and its legend swatch alike.
	if got := strings.Count(svg, `fill="url(#chart-share-bucket-stripes-4e79a7)"`); got != 2 {
		t.Errorf("bucket-10's striped fill is used %d times, want its bar and its legend swatch", got)
	}
}
