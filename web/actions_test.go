package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// actionStore seeds v1 (retired), v2 (active, parent v1) and v3 (a
// candidate of v2) in a real store of dialect.
func actionStore(t *testing.T, dialect string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, dialect)
	v1, err := st.SeedVersion(ctx, router.Table{"simple": {"small", "big"}, "complex": {"big"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range []router.Version{
		{ParentID: v1.ID, Status: router.StatusActive, Source: "learner", Table: router.Table{"simple": {"big", "small"}, "complex": {"big"}}},
		{ParentID: 2, Source: "learner", Table: router.Table{"simple": {"small"}, "complex": {"big"}},
			Provenance: router.Provenance{Gate: "Promoted: in simple quality goes from 0.900 to 0.910."}},
	} {
		if got, err := st.CreateVersion(ctx, v); err != nil || got.ID != int64(i+2) {
			t.Fatalf("create version = v%d, %v; want v%d", got.ID, err, i+2)
		}
	}
	return st
}

func actionHandler(st *store.Store, run LearnerRunner) http.Handler {
	return New(Options{Token: testToken, Versions: st, Spend: st, Changer: st, Audit: st, Learner: run, Runs: st, Baseline: "big"})
}

// browser is one logged-in browser: the admin cookie and, once a page
// with a form was loaded, the session cookie.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{t: t, h: h, cookies: map[string]string{cookieName: base64.RawURLEncoding.EncodeToString([]byte(testToken))}}
}

func (b *browser) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		b.cookies[c.Name] = c.Value
	}
	return rec
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// form loads a confirmation page and returns its form's fields.
func (b *browser) form(target string) url.Values {
	b.t.Helper()
	rec := b.do(http.MethodGet, target, nil)
	if rec.Code != http.StatusOK {
		b.t.Fatalf("GET %s = %d, want 200: %s", target, rec.Code, rec.Body)
	}
	body := rec.Body.String()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("GET %s: no csrf field:\n%s", target, body)
	}
	f := url.Values{"csrf": {m[1]}}
	for _, name := range []string{"from", "to", "run"} {
		if m := regexp.MustCompile(`name="` + name + `" value="([0-9a-f]+)"`).FindStringSubmatch(body); m != nil {
			f.Set(name, m[1])
		}
	}
	return f
}

func activeID(t *testing.T, st *store.Store) int64 {
	t.Helper()
	v, err := st.ActiveVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func auditLines(t *testing.T, st *store.Store, version int64) []string {
	t.Helper()
	es, err := st.Audit(context.Background(), version, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %d->%d %s %s", e.Action, e.From, e.To, e.Actor, e.Address))
	}
	return out
}

// TestActionsNeedToken: without the admin token no action page answers
// and nothing changes.
func TestActionsNeedToken(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	h := actionHandler(st, nil)
	for _, tt := range []struct{ method, target string }{
		{http.MethodGet, "/admin/versions/3/promote"},
		{http.MethodPost, "/admin/versions/3/promote"},
		{http.MethodGet, "/admin/rollback"},
		{http.MethodPost, "/admin/rollback"},
	} {
		req := httptest.NewRequest(tt.method, tt.target, strings.NewReader("from=2&to=3"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without token = %d, want 401", tt.method, tt.target, rec.Code)
		}
	}
	if got := activeID(t, st); got != 2 {
		t.Errorf("active = v%d, want v2 unchanged", got)
	}
}

// TestActionsRefuseBadFormToken: a POST whose form token is missing,
// forged, for another action, from another session or expired is a 403
// saying why, and changes nothing.
func TestActionsRefuseBadFormToken(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	h := actionHandler(st, nil)
	b := newBrowser(t, h)
	good := b.form("/admin/versions/3/promote")
	other := newBrowser(t, h).form("/admin/versions/3/promote") // another browser's session
	rollback := b.form("/admin/rollback")
	promote1 := b.form("/admin/versions/1/promote")
	c := newCSRF(testToken, func() time.Time { return time.Now().Add(-3 * time.Hour) })
	expired := c.issue(b.cookies[sessionCookie], "promote v3")
	tests := []struct {
		name, csrf, want string
	}{
		{"missing", "", "carries no security token"},
		{"forged", base64.RawURLEncoding.EncodeToString(make([]byte, 40)), "not valid for this action"},
		{"garbage", "%%%", "not valid for this action"},
		{"another form's", rollback.Get("csrf"), "not valid for this action"},
		{"another version's", promote1.Get("csrf"), "not valid for this action"},
		{"another session's", other.Get("csrf"), "not valid for this action"},
		{"expired", expired, "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{"from": {"2"}, "to": {"3"}, "csrf": {tt.csrf}}
			rec := b.do(http.MethodPost, "/admin/versions/3/promote", f)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), tt.want) || !strings.Contains(rec.Body.String(), "CSRF") {
				t.Errorf("POST = %d %s, want 403 saying %q", rec.Code, rec.Body, tt.want)
			}
		})
	}
	// A browser without a session cookie (a cross-site POST that got
	// past SameSite) is refused too.
	delete(b.cookies, sessionCookie)
	if rec := b.do(http.MethodPost, "/admin/versions/3/promote", good); rec.Code != http.StatusForbidden {
		t.Errorf("POST without a session = %d, want 403", rec.Code)
	}
	if got := activeID(t, st); got != 2 {
		t.Errorf("active = v%d after refused forms, want v2", got)
	}
	if got := auditLines(t, st, 0); len(got) != 0 {
		t.Errorf("audit after refused forms = %q, want none", got)
	}
}

// TestPromoteAndRollbackFromPage: two requests each (the confirmation
// page, the confirmed form) promote and roll back through router.Apply;
// a form submitted twice changes nothing the second time; the audit
// rows land in the database, on both dialects, and show in the
// version's history and its JSON twin.
func TestPromoteAndRollbackFromPage(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			st := actionStore(t, dialect)
			var activated []int64
			h := New(Options{Token: testToken, Versions: st, Spend: st, Changer: st, Audit: st,
				OnActivate: func(_ context.Context, v router.Version) error { activated = append(activated, v.ID); return nil }})
			b := newBrowser(t, h)
			actor := newAuth(testToken).actor()

			page := b.do(http.MethodGet, "/admin/versions/3/promote", nil).Body.String()
			for _, w := range []string{`id="change">v2 &rarr; v3`, "1 of 2 buckets change", "big &gt; small", `id="why"`, "Promoted: in simple"} {
				if !strings.Contains(page, w) {
					t.Errorf("confirm page lacks %q:\n%s", w, page)
				}
			}
			f := b.form("/admin/versions/3/promote")
			f.Set("label", "ana")
			rec := b.do(http.MethodPost, "/admin/versions/3/promote", f)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/versions/3" {
				t.Fatalf("confirm promote = %d %s, want 303 to /admin/versions/3: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
			}
			if got := activeID(t, st); got != 3 {
				t.Fatalf("active after promote = v%d, want v3", got)
			}
			// The same form again (a double click, a reload): 409, nothing
			// more written.
			if rec := b.do(http.MethodPost, "/admin/versions/3/promote", f); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "nothing was done") {
				t.Errorf("promote submitted twice = %d %s, want 409", rec.Code, rec.Body)
			}

			f = b.form("/admin/rollback")
			if f.Get("from") != "3" || f.Get("to") != "2" {
				t.Errorf("rollback form = %v, want from 3 to 2", f)
			}
			if rec := b.do(http.MethodPost, "/admin/rollback", f); rec.Code != http.StatusSeeOther {
				t.Fatalf("confirm rollback = %d: %s", rec.Code, rec.Body)
			}
			if rec := b.do(http.MethodPost, "/admin/rollback", f); rec.Code != http.StatusConflict {
				t.Errorf("rollback submitted twice = %d, want 409", rec.Code)
			}
			if got := activeID(t, st); got != 2 {
				t.Errorf("active after rollback = v%d, want v2", got)
			}
			want := []string{"rollback 3->2 " + actor + " 192.0.2.1", "promote 2->3 " + actor + " 192.0.2.1"}
			if got := auditLines(t, st, 3); !equalStrings(got, want) {
				t.Errorf("audit of v3 = %q, want %q", got, want)
			}
			if fmt.Sprint(activated) != "[3 2]" {
				t.Errorf("OnActivate got %v, want [3 2]", activated)
			}

			hist := b.do(http.MethodGet, "/admin/versions/3", nil).Body.String()
			if n := strings.Count(hist, `<tr class="audit"`); n != 2 || !strings.Contains(hist, `data-action="rollback" data-from="3" data-to="2"`) || !strings.Contains(hist, actor) {
				t.Errorf("v3's history shows %d entries, want the promotion and the rollback by %s:\n%s", n, actor, hist)
			}
			var twin struct {
				ID      int64               `json:"id"`
				Status  string              `json:"status"`
				History []router.AuditEntry `json:"history"`
			}
			if err := json.Unmarshal(b.do(http.MethodGet, "/admin/api/versions/3", nil).Body.Bytes(), &twin); err != nil {
				t.Fatal(err)
			}
			if twin.ID != 3 || twin.Status != "retired" || len(twin.History) != 2 || twin.History[0].Action != "rollback" || twin.History[1].Address != "192.0.2.1" {
				t.Errorf("JSON twin = %+v, want v3 retired with 2 history entries", twin)
			}
			// The promotion's operator named herself; the rollback's did not.
			if len(twin.History) == 2 && (twin.History[1].Label != "ana" || twin.History[0].Label != "") {
				t.Errorf("history labels = %q, %q; want the promotion's \"ana\" and none", twin.History[1].Label, twin.History[0].Label)
			}
			if !strings.Contains(hist, "(says: ana)") {
				t.Errorf("v3's history does not show the promotion's label:\n%s", hist)
			}
		})
	}
}

func equalStrings(a, b []string) bool { return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b) }

// fakeLearner answers runs with fixed reports and counts them.
type fakeLearner struct {
	dry, real learner.Report
	runs      []bool
}

func (f *fakeLearner) Run(_ context.Context, dryRun bool) (learner.Report, error) {
	f.runs = append(f.runs, dryRun)
	if dryRun {
		return f.dry, nil
	}
	return f.real, nil
}

// TestLearnFromPage: the page runs a dry run first, showing the verdict
// and diff with a confirmation form; the confirmed run is audited and
// shows the version it wrote; a bad form token runs nothing.
func TestLearnFromPage(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	v2, _ := st.GetVersion(context.Background(), 2)
	v3, _ := st.GetVersion(context.Background(), 3)
	d := router.Diff(v2, v3)
	verdict := &learner.Verdict{Promote: true, Cause: learner.CausePromoted, Tolerance: 0.01,
		Buckets: []learner.BucketVerdict{{Bucket: "simple", Requests: 80, ActiveModel: "big", CandidateModel: "small", Counts: true, Margin: 0.02,
			Active: learner.Estimate{Quality: 0.9, Samples: 40}, Candidate: learner.Estimate{Quality: 0.91, Samples: 40}}}}
	f := &fakeLearner{
		dry:  learner.Report{Status: learner.RunPromoted, DryRun: true, Reason: "1 changed buckets with evidence", Active: v2, Candidate: &router.Version{ParentID: 2}, Diff: &d, Verdict: verdict},
		real: learner.Report{Status: learner.RunPromoted, Reason: "1 changed buckets with evidence", Active: v2, Candidate: &v3, Diff: &d, Verdict: verdict},
	}
	h := actionHandler(st, f)
	b := newBrowser(t, h)
	page := b.do(http.MethodGet, "/admin/learn", nil).Body.String()
	for _, w := range []string{`data-status="promoted"`, "Nothing was written", "Promoted: in simple", `id="verdict"`, "0.900 &rarr; 0.910 &plusmn;0.020", `id="learn-form"`} {
		if !strings.Contains(page, w) {
			t.Errorf("dry-run page lacks %q:\n%s", w, page)
		}
	}
	if rec := b.do(http.MethodPost, "/admin/learn", url.Values{"csrf": {"nope"}}); rec.Code != http.StatusForbidden {
		t.Errorf("learn with a bad token = %d, want 403", rec.Code)
	}
	form := b.form("/admin/learn")
	if form.Get("run") == "" {
		t.Fatalf("learn form carries no run id: %v", form)
	}
	// The run id is bound to the token: another id with this token is
	// refused, and runs nothing.
	forged := url.Values{"csrf": form["csrf"], "run": {strings.Repeat("0", 32)}}
	if rec := b.do(http.MethodPost, "/admin/learn", forged); rec.Code != http.StatusForbidden {
		t.Errorf("learn with another run id = %d, want 403", rec.Code)
	}
	rec := b.do(http.MethodPost, "/admin/learn", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/versions/3" {
		t.Errorf("confirmed learn = %d %s, want 303 to v3", rec.Code, rec.Header().Get("Location"))
	}
	// The same form again (a double click, a reload): the learner does
	// not run again; the answer is the first run's result, 409.
	rec = b.do(http.MethodPost, "/admin/learn", form)
	if body := rec.Body.String(); rec.Code != http.StatusConflict || !strings.Contains(body, "already submitted") || !strings.Contains(body, "ended promoted, writing v3") {
		t.Errorf("learn submitted twice = %d %s, want 409 with the first run's result", rec.Code, body)
	}
	if fmt.Sprint(f.runs) != "[true true false]" {
		t.Errorf("runs (dry?) = %v, want two dry runs and one real one", f.runs)
	}
	want := []string{"learn 2->3 " + newAuth(testToken).actor() + " 192.0.2.1"}
	if got := auditLines(t, st, 3); !equalStrings(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}

// TestLearnFromPageSharesLock: the button's run takes the learner lock
// the scheduled run takes; while another run holds it, the page says so
// (409) and nothing is written or audited.
func TestLearnFromPageSharesLock(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	job, err := learner.NewJob(learner.JobOptions{Outcomes: st, Versions: st, Lock: st})
	if err != nil {
		t.Fatal(err)
	}
	unlock, ok, err := st.TryLearnerLock(context.Background()) // the cron's run
	if err != nil || !ok {
		t.Fatalf("TryLearnerLock = %v, %v", ok, err)
	}
	defer unlock()
	h := actionHandler(st, job)
	b := newBrowser(t, h)
	b.cookies[sessionCookie] = "0123456789abcdef0123456789abcdef"
	run := randomID()
	form := url.Values{"run": {run}, "csrf": {newCSRF(testToken, time.Now).issue(b.cookies[sessionCookie], learnPurpose(run))}}
	rec := b.do(http.MethodPost, "/admin/learn", form)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "another learner is running") {
		t.Errorf("learn while locked = %d %s, want 409 saying another learner runs", rec.Code, rec.Body)
	}
	if got := auditLines(t, st, 0); len(got) != 0 {
		t.Errorf("audit = %q, want none", got)
	}
}
