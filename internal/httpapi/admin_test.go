package httpapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAdminMounted checks that Options.Admin receives /admin and every
// path under it, unchanged, and that without it the routes are absent.
func TestAdminMounted(t *testing.T) {
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "admin:"+r.URL.Path+"?"+r.URL.RawQuery)
	})
	tests := []struct {
		name   string
		admin  http.Handler
		path   string
		status int
		body   string
	}{
		{"root", admin, "/admin", 200, "admin:/admin?"},
		{"page", admin, "/admin/versions/3", 200, "admin:/admin/versions/3?"},
		{"api with query", admin, "/admin/api/diff?a=1&b=2", 200, "admin:/admin/api/diff?a=1&b=2"},
		{"not configured", nil, "/admin", 404, ""},
		{"not configured api", nil, "/admin/api/versions", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Router: &echoRouter{}, Spend: fixedSpend{}, Admin: tt.admin}).Handler())
			defer srv.Close()
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.body != "" && string(b) != tt.body {
				t.Errorf("body = %q, want %q", b, tt.body)
			}
		})
	}
}
