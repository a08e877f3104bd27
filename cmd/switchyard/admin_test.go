package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/store"
)

// TestServeAdmin checks serve mounts the admin page behind the demo
// configuration's token ("demo" unless SWITCHYARD_ADMIN_TOKEN is set).
func TestServeAdmin(t *testing.T) {
	inst := startServe(t, store.DialectSQLite, 0)

	resp, err := http.Get(inst.url + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/admin without a token: status = %d, want 401", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodGet, inst.url+"/admin/api/versions", nil)
	req.Header.Set("Authorization", "Bearer demo")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var versions struct {
		Versions []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"versions"`
	}
	err = json.NewDecoder(resp.Body).Decode(&versions)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(versions.Versions) != 1 || versions.Versions[0].Status != "active" {
		t.Errorf("/admin/api/versions: status %d, %+v, %v; want the seeded active version", resp.StatusCode, versions, err)
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err = client.Get(inst.url + "/admin?token=demo")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="active-version"`) {
		t.Errorf("/admin?token=demo: status %d, want 200 and the overview; body:\n%s", resp.StatusCode, page)
	}
	// serve wires the actions: promotion, rollback, a learner run.
	for _, w := range []string{`id="rollback"`, `id="learn"`} {
		if !strings.Contains(string(page), w) {
			t.Errorf("/admin lacks the action %s", w)
		}
	}
	if strings.Contains(resp.Request.URL.RawQuery, "token") {
		t.Errorf("login left the token in the address: %s", resp.Request.URL)
	}
}
