package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// bearerDo sends a request as a script does: the admin token in a
// header, a form body when given, and extra headers.
func bearerDo(t *testing.T, h http.Handler, method, target string, form url.Values, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestConfirmationTwins: the promote, rollback and learn pages have JSON
// twins that change nothing and carry the confirming form's fields; a
// script POSTs those fields as the page does (X-Admin-User naming its
// operator), and the same rules hold: a bad label or a stale change
// changes nothing.
func TestConfirmationTwins(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	v2, _ := st.GetVersion(t.Context(), 2)
	d := router.Diff(v2, v2)
	f := &fakeLearner{dry: learner.Report{Status: learner.RunKept, DryRun: true, Reason: "no changed bucket", Active: v2, Diff: &d}}
	h := actionHandler(st, f)

	tests := []struct {
		path     string
		from, to int64
		action   string
	}{
		{"/admin/api/versions/3/promote", 2, 3, "/admin/versions/3/promote"},
		{"/admin/api/rollback", 2, 1, "/admin/rollback"},
	}
	for _, tt := range tests {
		rec := bearerDo(t, h, http.MethodGet, tt.path, nil, nil)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s = %d %s: %s", tt.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		var got confirmJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("GET %s: %v", tt.path, err)
		}
		if got.Change.From.ID != tt.from || got.Change.To.ID != tt.to || got.Noop || got.Confirm == nil ||
			got.Confirm.Action != tt.action || got.Confirm.Fields["csrf"] == "" || got.Changed == nil {
			t.Errorf("GET %s = %+v, want v%d -> v%d with a form for %s", tt.path, got, tt.from, tt.to, tt.action)
		}
	}
	if got := activeID(t, st); got != 2 {
		t.Fatalf("after the GET twins v%d is active, want v2 still", got)
	}

	// Confirm the promotion from the twin's fields.
	var plan confirmJSON
	if err := json.Unmarshal(bearerDo(t, h, http.MethodGet, "/admin/api/versions/3/promote", nil, nil).Body.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, v := range plan.Confirm.Fields {
		form.Set(k, v)
	}
	if rec := bearerDo(t, h, http.MethodPost, plan.Confirm.Action, form, map[string]string{labelHeader: "deploy\x07bot"}); rec.Code != http.StatusBadRequest {
		t.Errorf("POST with a control character in the label = %d, want 400", rec.Code)
	}
	if got := activeID(t, st); got != 2 {
		t.Fatalf("after a refused label v%d is active, want v2 still", got)
	}
	if rec := bearerDo(t, h, http.MethodPost, plan.Confirm.Action, form, map[string]string{labelHeader: "deploy-bot"}); rec.Code != http.StatusSeeOther {
		t.Fatalf("POST the twin's form = %d: %s", rec.Code, rec.Body)
	}
	hist, err := st.Audit(t.Context(), 3, 0)
	if err != nil || len(hist) != 1 || hist[0].Label != "deploy-bot" || hist[0].Actor != newAuth(testToken).actor() {
		t.Errorf("audit of v3 = %+v, %v; want one promotion by the token labelled deploy-bot", hist, err)
	}

	// The learner's twin is a dry run with a single-use run id.
	rec := bearerDo(t, h, http.MethodGet, "/admin/api/learn", nil, nil)
	var learn learnJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &learn); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /admin/api/learn = %d %s, %v", rec.Code, rec.Body, err)
	}
	if !learn.Report.DryRun || learn.Report.Status != learner.RunKept || learn.Confirm == nil ||
		!validRandomID(learn.Confirm.Fields["run"]) || learn.Confirm.Action != "/admin/learn" {
		t.Errorf("GET /admin/api/learn = %+v, want a kept dry run with a run id", learn)
	}
	for _, dry := range f.runs {
		if !dry {
			t.Errorf("the twins ran the learner for real: runs %v", f.runs)
		}
	}
	// The twins are GETs only.
	for _, path := range []string{"/admin/api/versions/3/promote", "/admin/api/rollback", "/admin/api/learn"} {
		if rec := bearerDo(t, h, http.MethodPost, path, url.Values{}, nil); rec.Code != http.StatusMethodNotAllowed && rec.Code != http.StatusNotFound {
			t.Errorf("POST %s = %d, want it refused", path, rec.Code)
		}
	}
}

// failingLearner dry-runs as kept and fails every real run.
type failingLearner struct{ real int }

func (f *failingLearner) Run(_ context.Context, dryRun bool) (learner.Report, error) {
	if dryRun {
		return learner.Report{Status: learner.RunKept, DryRun: true}, nil
	}
	f.real++
	return learner.Report{}, errors.New("database went away")
}

// TestLearnFailedRunNotRerun: a confirmed run that fails is recorded as
// failed, so the same form again runs nothing and says so, rather than
// reading as a run still going or running the learner a second time.
func TestLearnFailedRunNotRerun(t *testing.T) {
	st := actionStore(t, store.DialectSQLite)
	f := &failingLearner{}
	b := newBrowser(t, actionHandler(st, f))
	form := b.form("/admin/learn")
	if rec := b.do(http.MethodPost, "/admin/learn", form); rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "database went away") {
		t.Errorf("failed run = %d %s, want 500 without the internal error", rec.Code, rec.Body)
	}
	rec := b.do(http.MethodPost, "/admin/learn", form)
	if body := rec.Body.String(); rec.Code != http.StatusConflict || !strings.Contains(body, "ended failed") {
		t.Errorf("failed run's form again = %d %s, want 409 saying it failed", rec.Code, body)
	}
	if f.real != 1 {
		t.Errorf("the learner ran %d times for real, want 1", f.real)
	}
}
