package web

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

// phoneWidth is a common phone's CSS width (iPhone 12 to 15).
const phoneWidth = 390

// TestChartsInBrowser loads every admin page in headless Chromium after a
// scripted demo (three days of routed requests with feedback, a learned
// version promoted and one kept, an eval run and the loop's held-out
// measurements of versions, all through the real SQLite store), at 1280 px and at a phone's width: the charts are there with the
// series the data has (read from their data attributes), times show in
// the browser's zone (Asia/Tokyo here) with UTC in the title, no page is
// wider than the phone, and each page's screenshot is saved under the
// test's temporary directory (or SWITCHYARD_SCREENSHOTS, kept) for a look.
func TestChartsInBrowser(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st := storetest.Open(t, store.DialectSQLite)
	now := time.Now().UTC()
	firstID := seedDemo(ctx, t, st, now)
	srv := httptest.NewServer(New(Options{
		Token: testToken, Versions: st, Spend: st, Evals: st, Requests: st, Traffic: st, Signals: st,
		Baseline: "gpt-4o", MinSamples: 5, Now: func() time.Time { return now },
	}))
	defer srv.Close()
	shots := os.Getenv("SWITCHYARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	browser, cancelBrowser := startChromium(ctx, t, chromedp.Flag("hide-scrollbars", true), chromedp.Env("TZ=Asia/Tokyo"))
	defer cancelBrowser()
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, actions...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	do("log in", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/admin?token="+testToken),
		chromedp.WaitVisible(chromedp.CSS("#chart-spend")))

	// The series each chart carries, by its data attributes.
	series, err := chromedp.Run(browser, chromedp.Evaluate[map[string][]string](`(() => {
		const out = {};
		for (const svg of document.querySelectorAll("svg.chart")) {
			out[svg.id] = [...new Set([...svg.querySelectorAll("[data-series]")].map(g => g.dataset.series))].sort();
		}
		return out;
	})()`))
	if err != nil {
		t.Fatalf("browser: read series: %v", err)
	}
	models := []string{"gpt-4o", "gpt-4o-mini", "llama-3.1-8b-instant"}
	want := map[string][]string{
		"chart-spend":              append(slices.Clone(models), "baseline"),
		"chart-share-model":        models,
		"chart-share-bucket":       {"complex", "complex/math", "simple"},
		"chart-quality":            models,
		"chart-versions-quality":   {"observed", "predicted"},
		"chart-versions-cost":      {"observed", "predicted"},
		"chart-eval-1":             {"always:gpt-4o", "always:llama-3.1-8b-instant", "learned", "static"},
		"chart-learning-cost-1":    {"cost-share", "static"},
		"chart-learning-quality-1": {"quality", "static-quality"},
	}
	for id, w := range want {
		got := series[id]
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s series = %q, want %q", id, got, w)
		}
	}
	if len(series) != len(want) {
		t.Errorf("charts on the overview: %d (%v), want %d", len(series), slices.Sorted(maps.Keys(series)), len(want))
	}
	// Thin evidence: llama in complex has 2 feedback samples, below 5.
	thin, err := chromedp.Run(browser, chromedp.Evaluate[int](
		`document.querySelectorAll('#chart-quality [data-series="llama-3.1-8b-instant"][data-bucket="complex"][data-signal="feedback"][data-thin="true"]').length`))
	if err != nil || thin != 1 {
		t.Errorf("thin llama-3.1-8b-instant feedback in complex: %d marked (%v), want 1", thin, err)
	}

	// Times: the text in the browser's zone, UTC in the title.
	tm, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`(() => { const e = document.querySelector("time"); return [e.textContent, e.title]; })()`))
	if err != nil || len(tm) != 2 {
		t.Fatalf("browser: read a <time>: %v", err)
	}
	if !strings.HasSuffix(tm[1], " UTC") || !strings.Contains(tm[0], "GMT+9") {
		t.Errorf("time shows %q with title %q, want Tokyo's time (GMT+9) with the UTC time in the title", tm[0], tm[1])
	}

	pages := []struct{ name, path, wait string }{
		{"overview", "/admin", "#chart-spend"},
		{"version", "/admin/versions/2", "#version-id"},
		{"diff", "/admin/diff?a=1&b=2", "#summary"},
		{"requests", "/admin/requests", "#requests"},
		{"request", "/admin/requests/" + firstID, "#request-id"},
	}
	for _, width := range []int64{1280, phoneWidth} {
		for _, p := range pages {
			do(p.name+" page", chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait)))
			// A page wider than the screen scrolls sideways as a whole;
			// wide tables and charts scroll within their own box instead.
			over, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
			if err != nil {
				t.Fatalf("browser: measure %s: %v", p.name, err)
			}
			if over > 0 {
				t.Errorf("%s at %d px is %d px wider than the screen", p.name, width, over)
			}
			png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("browser: screenshot %s: %v", p.name, err)
			}
			file := filepath.Join(shots, fmt.Sprintf("%s-%d.png", p.name, width))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}

// seedDemo stores what a short demo leaves behind: v1 (config), v2
// (learned, active, with its replay estimate), v3 (a kept candidate);
// three days of requests by three models in three buckets, under v1 then
// v2, each with feedback, some escalated; an eval run; and two held-out
// measurements of versions. It returns a request's id.
func seedDemo(ctx context.Context, t *testing.T, st *store.Store, now time.Time) string {
	t.Helper()
	v1, err := st.SeedVersion(ctx, router.Table{"simple": {"gpt-4o-mini", "llama-3.1-8b-instant"}, "complex": {"gpt-4o"}})
	if err != nil {
		t.Fatalf("seed version: %v", err)
	}
	replay := func(q, cost float64) map[string]float64 {
		return map[string]float64{router.ParamReplayQuality: q, router.ParamReplayCost: cost, router.ParamReplaySamples: 90}
	}
	for _, v := range []router.Version{
		{ParentID: v1.ID, Status: router.StatusActive, Source: "learner", CreatedAt: now.Add(-24 * time.Hour), Note: "promoted by the gate",
			Table:      router.Table{"simple": {"llama-3.1-8b-instant", "gpt-4o-mini"}, "complex": {"gpt-4o"}},
			Provenance: router.Provenance{Params: replay(0.82, 300)}},
		{ParentID: 2, Status: router.StatusCandidate, Source: "learner", CreatedAt: now.Add(-time.Hour), Note: "kept as candidate",
			Table:      router.Table{"simple": {"llama-3.1-8b-instant"}, "complex": {"gpt-4o-mini", "gpt-4o"}},
			Provenance: router.Provenance{Params: replay(0.7, 120)}},
	} {
		if _, err := st.CreateVersion(ctx, v); err != nil {
			t.Fatalf("create version: %v", err)
		}
	}
	var recs []router.Record
	var scores []float64
	n := 0
	for day := 2; day >= 0; day-- {
		version := int64(2)
		if day == 2 {
			version = 1
		}
		for i := range 12 {
			n++
			at := now.Add(-time.Duration(day)*24*time.Hour - time.Duration(i)*time.Minute)
			c, cat, model, cost, score := router.Complexity(router.Simple), "", "gpt-4o-mini", router.Micros(400), 0.9
			switch {
			case version == 2 && i%3 != 2:
				model, cost, score = "llama-3.1-8b-instant", 60, 0.8
			case i%3 == 2 && i%2 == 0:
				c, cat, model, cost, score = router.Complex, "math", "gpt-4o", 5000, 1
			case i%3 == 2:
				c, model, cost, score = router.Complex, "gpt-4o", 4000, 0.95
			}
			attempts := []router.Attempt{{Model: model, Provider: "demo", Status: router.OutcomeOK, LatencyMS: 300, Cost: cost}}
			if c == router.Complex && day == 0 && i < 6 {
				// The llama tried first (exploration) and failed.
				attempts = append([]router.Attempt{{Model: "llama-3.1-8b-instant", Provider: "demo", Status: router.OutcomeEmpty, LatencyMS: 90}}, attempts...)
			}
			recs = append(recs, router.Record{ID: fmt.Sprintf("req_%03d", n), Time: at, Complexity: c, Category: cat, Model: model,
				Cost: cost, BaselineCost: 4500, Status: router.OutcomeOK, TableVersion: version, Propensity: 1, Attempts: attempts})
			scores = append(scores, score)
		}
	}
	if err := st.InsertRequests(ctx, recs); err != nil {
		t.Fatalf("insert requests: %v", err)
	}
	for i, r := range recs {
		if err := st.PutOutcome(ctx, router.Outcome{RequestID: r.ID, Attempt: router.AnswerAttempt, Source: router.SourceFeedback,
			Score: scores[i], Weight: 1, Time: r.Time}); err != nil {
			t.Fatalf("feedback: %v", err)
		}
	}
	// Two explored llama answers in complex: thin evidence there.
	for i, id := range []string{"req_x1", "req_x2"} {
		r := router.Record{ID: id, Time: now.Add(-time.Duration(i+1) * time.Hour), Complexity: router.Complex, Model: "llama-3.1-8b-instant",
			Cost: 50, BaselineCost: 4500, Status: router.OutcomeOK, TableVersion: 2, Propensity: 0.1, Explored: true,
			Attempts: []router.Attempt{{Model: "llama-3.1-8b-instant", Provider: "demo", Status: router.OutcomeOK, Cost: 50}}}
		if err := st.InsertRequests(ctx, []router.Record{r}); err != nil {
			t.Fatalf("insert explored request: %v", err)
		}
		if err := st.PutOutcome(ctx, router.Outcome{RequestID: id, Attempt: router.AnswerAttempt, Source: router.SourceFeedback, Score: 0, Weight: 1, Time: r.Time}); err != nil {
			t.Fatalf("feedback: %v", err)
		}
	}
	res, err := json.Marshal(eval.Result{Dataset: "demo.jsonl.gz",
		Curve: []eval.CurvePoint{{Target: 0.7, Quality: 0.7, CostPer1k: 0.3}, {Target: 0.8, Quality: 0.8, CostPer1k: 1.1}, {Target: 0.9, Quality: 0.88, CostPer1k: 3.2}},
		Policies: []eval.PolicyResult{{Name: "static", Quality: 0.84, CostPer1k: 2.5}, {Name: "always:gpt-4o", Quality: 0.9, CostPer1k: 4.8},
			{Name: "always:llama-3.1-8b-instant", Quality: 0.6, CostPer1k: 0.05}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEvalRun(ctx, router.EvalRun{Dataset: "demo.jsonl.gz", Params: json.RawMessage(`{}`), Result: res}); err != nil {
		t.Fatalf("eval run: %v", err)
	}
	// The loop's held-out measurement after each learner run
	// (eval-version --record): v1 after 300 prompts, v2 after 600.
	for _, m := range []struct {
		version, prompts int
		quality, share   float64
	}{{1, 300, 0.78, 1}, {2, 600, 0.77, 0.55}} {
		if _, err := st.CreateEvalRun(ctx, router.EvalRun{Dataset: "demo.jsonl.gz",
			Params: json.RawMessage(fmt.Sprintf(`{"kind":"eval-version","version":%d,"split":"test","prompts_replayed":%d,"static_version":1}`, m.version, m.prompts)),
			Result: json.RawMessage(fmt.Sprintf(`{"version":%d,"split":"test","n":300,"quality":%g,"cost_usd":1,"static":{"version":1,"quality":0.78,"cost_usd":1.8},"cost_share":%g}`,
				m.version, m.quality, m.share))}); err != nil {
			t.Fatalf("eval-version run: %v", err)
		}
	}
	return recs[0].ID
}
