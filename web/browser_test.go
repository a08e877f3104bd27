package web

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// TestAdminInBrowser drives headless Chromium through the admin page
// served from a real (SQLite) store: log in with ?token=, read the
// active version and today's spend from the DOM, and check a version
// note carrying a <script> is text, never run (FAULTS.md B7).
func TestAdminInBrowser(t *testing.T) {
	needChromium(t)
	// A loaded machine (eight engineers share two cores) takes 30 s for
	// the walk; the budget only bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	st := storetest.Open(t, store.DialectSQLite)
	now := time.Now().UTC()
	seedBrowserStore(ctx, t, st, now)
	srv := httptest.NewServer(New(Options{
		Token: testToken, Versions: st, Spend: st, Evals: st, Requests: st, Prompts: st, Baseline: "gpt-4o",
		Providers: func() []router.ProviderHealth { return []router.ProviderHealth{{Provider: "openai", State: "ok"}} },
		Now:       func() time.Time { return now },
	}))
	defer srv.Close()

	browser, cancelBrowser := startChromium(ctx, t)
	defer cancelBrowser()

	// A dialog would mean the note ran as script: count it and dismiss
	// it so the test fails on the count rather than hanging.
	var dialogs atomic.Int64
	dialogsDone := make(chan struct{})
	go func() {
		defer close(dialogsDone)
		for _, err := range chromedp.Events(browser, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs.Add(1)
			_, _ = chromedp.Call(browser, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}()
	defer func() {
		cancelBrowser()
		<-dialogsDone
	}()

	step, text := browserSteps(t, browser)

	step("log in", chromedp.Navigate(srv.URL+"/admin?token="+testToken), chromedp.WaitVisible(chromedp.CSS("#active-version")))
	location, err := chromedp.Run(browser, chromedp.Location())
	if err != nil {
		t.Fatalf("browser: location: %v", err)
	}
	active, spendToday, note := text("#active-version"), text("#spend-today-total"), text("#active-note")
	scripts, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll('script:not([src="/admin/static/time.js"])').length`))
	if err != nil {
		t.Fatalf("browser: count scripts: %v", err)
	}
	// The cookie carries the session on: no token in these URLs.
	step("version page", chromedp.Navigate(srv.URL+"/admin/versions/2"), chromedp.WaitVisible(chromedp.CSS("#version-note")))
	versionNote := text("#version-note")
	step("diff page", chromedp.Navigate(srv.URL+"/admin/diff?a=1&b=2"), chromedp.WaitVisible(chromedp.CSS(".first-choice td")))
	firstChoice := text(".first-choice td")
	// Find a request by the id x-switchyard-request-id returned: type it
	// into the explorer's search box and open its page.
	step("requests page", chromedp.Navigate(srv.URL+"/admin/requests"), chromedp.WaitVisible(chromedp.CSS("#requests")))
	listed := text("#requests")
	step("find a request", chromedp.SendKeys(chromedp.CSS("#find-id"), "req_1"), chromedp.Click(chromedp.CSS("#find-go")),
		chromedp.WaitVisible(chromedp.CSS("#request-id")))
	foundID, foundModel, prompt := text("#request-id"), text("#request-model"), text("#prompt")
	attempts := text("#attempts")

	if strings.Contains(location, "token=") || !strings.HasSuffix(location, "/admin") {
		t.Errorf("location after login = %q, want /admin without the token", location)
	}
	if active != "v2" {
		t.Errorf("active version = %q, want v2", active)
	}
	if spendToday != "$0.001234" {
		t.Errorf("today's spend = %q, want $0.001234", spendToday)
	}
	if note != xssNote || versionNote != xssNote {
		t.Errorf("notes = %q, %q, want the text %q", note, versionNote, xssNote)
	}
	if scripts != 0 {
		t.Errorf("overview has %d <script> elements besides time.js, want 0", scripts)
	}
	if !strings.Contains(firstChoice, "llama-3.1-8b-instant") || !strings.Contains(firstChoice, "gpt-4o-mini") {
		t.Errorf("first choice = %q, want llama-3.1-8b-instant → gpt-4o-mini", firstChoice)
	}
	if !strings.Contains(listed, "req_1") {
		t.Errorf("requests table = %q, want req_1 listed", listed)
	}
	if foundID != "req_1" || foundModel != "gpt-4o-mini" || !strings.Contains(attempts, "ok") {
		t.Errorf("found request %q answered by %q, attempts %q; want req_1, gpt-4o-mini, an ok attempt", foundID, foundModel, attempts)
	}
	if prompt != router.NormalizePrompt(xssNote) {
		t.Errorf("kept prompt = %q, want the text %q", prompt, router.NormalizePrompt(xssNote))
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened, want 0", n)
	}
}

// seedBrowserStore stores v1 (config), v2 (learned, active, with a
// <script> note) and one of today's requests.
func seedBrowserStore(ctx context.Context, t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	v1, err := st.SeedVersion(ctx, router.Table{
		"simple": {"llama-3.1-8b-instant", "gpt-4o-mini"}, "moderate": {"gpt-4o-mini", "gpt-4o"}, "complex": {"gpt-4o"},
	})
	if err != nil {
		t.Fatalf("seed version: %v", err)
	}
	v2, err := st.CreateVersion(ctx, router.Version{
		ParentID: v1.ID, Status: router.StatusActive, Source: "learner", Note: xssNote,
		Table: router.Table{"simple": {"gpt-4o-mini", "llama-3.1-8b-instant"}, "moderate": {"gpt-4o-mini", "gpt-4o"}, "complex": {"gpt-4o"}},
	})
	if err != nil || v2.ID != 2 {
		t.Fatalf("create version = v%d, %v; want v2", v2.ID, err)
	}
	rec := router.Record{ID: "req_1", Time: now, Complexity: router.Simple, Model: "gpt-4o-mini", PromptHash: router.HashPrompt(xssNote),
		Cost: 1234, BaselineCost: 10000, Status: router.OutcomeOK, TableVersion: v2.ID, Propensity: 1,
		Attempts: []router.Attempt{{Model: "gpt-4o-mini", Provider: "openai", Status: router.OutcomeOK, LatencyMS: 640, Cost: 1234}}}
	if err := st.KeepPrompts(ctx, []router.Prompt{router.PreparePrompt(xssNote)}, now); err != nil {
		t.Fatalf("keep prompt: %v", err)
	}
	if err := st.InsertRequests(ctx, []router.Record{rec}); err != nil {
		t.Fatalf("insert request: %v", err)
	}
}

// needChromium skips the test without Chromium, except under CI=true,
// where it fails.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing under CI=true: %v", chromiumPath, err)
		}
		t.Skipf("%s missing: %v", chromiumPath, err)
	}
}

// startChromium starts headless Chromium with a profile of its own and
// returns its context, already started (so that an event listener does
// not start a second browser); cancel closes it. extra adds allocator
// options (a time zone, hidden scrollbars).
func startChromium(ctx context.Context, t *testing.T, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	}, extra...)...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(browser); err != nil {
		cancel()
		t.Fatalf("browser: start: %v", err)
	}
	return browser, cancel
}

// browserSteps returns helpers that run actions in browser and read an
// element's text, failing the test on error.
func browserSteps(t *testing.T, browser context.Context) (step func(what string, actions ...chromedp.Action[chromedp.Void]), text func(sel string) string) {
	step = func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(browser, actions...); err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return s
	}
	return step, text
}
