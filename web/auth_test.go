package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAdminRefusesBadTokens(t *testing.T) {
	f := newFake()
	h := newTestHandler(f, testToken)
	huge := strings.Repeat("a", 10<<10)
	tests := []struct {
		name   string
		target string
		header map[string]string
	}{
		{"no token", "/admin", nil},
		{"no token api", "/admin/api/versions", nil},
		{"wrong bearer", "/admin", bearer("wrong")},
		{"prefix of the token", "/admin", bearer(testToken[:5])},
		{"token plus suffix", "/admin", bearer(testToken + "x")},
		{"10 KB bearer", "/admin", bearer(huge)},
		{"10 KB query", "/admin?token=" + huge, nil},
		{"sql bearer", "/admin", bearer("' OR 1=1 --")},
		{"sql query", "/admin?token=%27%20OR%201%3D1%20--", nil},
		{"basic scheme", "/admin", map[string]string{"Authorization": "Basic " + testToken}},
		{"bearer without token", "/admin", map[string]string{"Authorization": "Bearer"}},
		{"control characters", "/admin", bearer("s3cret\x00admin")},
		{"good query but bad header", "/admin?token=" + testToken, bearer("wrong")},
		{"bad cookie", "/admin", map[string]string{"Cookie": cookieName + "=!!!notbase64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.target, tt.header)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401; body %s", rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), testToken) {
				t.Errorf("the response shows the token: %s", rec.Body)
			}
		})
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("refused requests made %d store calls, want 0", n)
	}
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	f := newFake()
	h := newTestHandler(f, "")
	for _, target := range []string{"/admin", "/admin/api/versions", "/admin?token=anything"} {
		rec := get(t, h, target, bearer("anything"))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status = %d, want 404", target, rec.Code)
		}
		var body struct {
			Error struct{ Message, Code string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error.Message, "disabled") {
			t.Errorf("%s: body = %s, want a JSON error saying the admin page is disabled", target, rec.Body)
		}
	}
	if n := f.calls.Load(); n != 0 {
		t.Errorf("disabled page made %d store calls, want 0", n)
	}
}

func TestAdminQueryTokenSetsCookie(t *testing.T) {
	h := newTestHandler(newFake(), testToken)
	rec := get(t, h, "/admin/versions/2?token="+testToken, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", rec.Code)
	}
	if got, want := rec.Header().Get("Location"), "/admin/versions/2"; got != want {
		t.Errorf("Location = %q, want %q (token dropped)", got, want)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("got %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Name != cookieName {
		t.Errorf("cookie = %+v, want HttpOnly, SameSite=Strict %s", c, cookieName)
	}
	rec = get(t, h, "/admin/versions/2", map[string]string{"Cookie": c.String()})
	if rec.Code != http.StatusOK {
		t.Errorf("with the cookie: status = %d, want 200; body %s", rec.Code, rec.Body)
	}
}
