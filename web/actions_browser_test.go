package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchyard/switchyard/internal/store"
)

// TestActionsInBrowser drives headless Chromium through a promotion and
// a rollback, two clicks each (the action, then the confirmation), on a
// real (SQLite) store, and reads the active version and the version's
// history from the pages afterwards.
func TestActionsInBrowser(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st := actionStore(t, store.DialectSQLite)
	srv := httptest.NewServer(actionHandler(st, nil))
	defer srv.Close()
	browser, cancelBrowser := startChromium(ctx, t)
	defer cancelBrowser()

	step, text := browserSteps(t, browser)
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(browser, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
		if err != nil {
			t.Fatalf("browser: count %s: %v", sel, err)
		}
		return n
	}

	step("log in", chromedp.Navigate(srv.URL+"/admin?token="+testToken), chromedp.WaitVisible(chromedp.CSS("#active-version")))
	if got := text("#active-version"); got != "v2" {
		t.Fatalf("active before = %q, want v2", got)
	}

	// Promote v3: its page's button, then the confirmation.
	step("v3's page", chromedp.Navigate(srv.URL+"/admin/versions/3"), chromedp.WaitVisible(chromedp.CSS("#promote")))
	step("click promote", chromedp.Click(chromedp.CSS("#promote")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if got := text("#change"); got != "v2 → v3" {
		t.Errorf("confirmation shows %q, want v2 → v3", got)
	}
	step("name yourself, click confirm", chromedp.SendKeys(chromedp.CSS("#label"), "ana"),
		chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#history")))
	if got := count(`#history tr.audit[data-action="promote"][data-from="2"][data-to="3"]`); got != 1 {
		t.Errorf("v3's history after promotion has %d promote v2 -> v3 rows, want 1", got)
	}
	if got := text("#history tr.audit .label"); got != "(says: ana)" {
		t.Errorf("the promotion's label reads %q, want (says: ana)", got)
	}
	step("overview", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("#active-version")))
	if got := text("#active-version"); got != "v3" {
		t.Errorf("active after promotion = %q, want v3", got)
	}

	// Roll back: the overview's button, then the confirmation.
	step("click roll back", chromedp.Click(chromedp.CSS("#rollback")), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	if got := text("#change"); got != "v3 → v2" {
		t.Errorf("confirmation shows %q, want v3 → v2", got)
	}
	step("click confirm", chromedp.Click(chromedp.CSS("#confirm")), chromedp.WaitVisible(chromedp.CSS("#history")))
	if got := text("#version-id"); got != "v2" {
		t.Errorf("rollback landed on %q, want v2's page", got)
	}
	step("overview", chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible(chromedp.CSS("#active-version")))
	if got := text("#active-version"); got != "v2" {
		t.Errorf("active after rollback = %q, want v2", got)
	}
	step("v3's history", chromedp.Navigate(srv.URL+"/admin/versions/3"), chromedp.WaitVisible(chromedp.CSS("#history")))
	if got := count(`#history tr.audit`); got != 2 {
		t.Errorf("v3's history has %d rows, want the promotion and the rollback", got)
	}
	if got := count(`#history tr.audit[data-action="rollback"][data-from="3"][data-to="2"]`); got != 1 {
		t.Errorf("v3's history has %d rollback v3 -> v2 rows, want 1", got)
	}
	if got := auditLines(t, st, 0); len(got) != 2 {
		t.Errorf("audit rows in the database = %q, want 2", got)
	}
}
