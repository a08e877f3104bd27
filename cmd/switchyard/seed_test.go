package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/router"
)

// A changed routing: in the configuration becomes a candidate version
// with source config (promoted only when asked), said on start; an
// active table naming a model the configuration dropped does not stop
// the service (issue 12, item 7).
func TestConfiguredTableChanges(t *testing.T) {
	up := faketest.New()
	defer up.Close()
	env := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "seed.db")}
	all := "  simple: [ok-a, ok-b]\n  moderate: [ok-a, ok-b]\n  complex: [ok-a, ok-b]"
	changed := "  simple: [ok-b, ok-a]\n  moderate: [ok-a, ok-b]\n  complex: [ok-a, ok-b]"
	dropped := "  simple: [ok-b]\n  moderate: [ok-b]\n  complex: [ok-b]"
	version := func(in *instance) float64 {
		t.Helper()
		code, body := postJSON(t, in.url+"/ask", `{"prompt":"What is 2 + 2?"}`)
		if code != 200 {
			t.Fatalf("/ask = %d %v\n%s", code, body, in.stderr)
		}
		return body["metadata"].(map[string]any)["table_version"].(float64)
	}

	in := startServeYAML(t, faultConfig(up.URL, "  addr: \":0\"", []string{"ok-a", "ok-b"}, all), env)
	if v := version(in); v != 1 {
		t.Errorf("first start routes by version %v, want the seeded 1", v)
	}
	in.shutdown(t)

	for range 2 { // the second start with the same config adds nothing
		in = startServeYAML(t, faultConfig(up.URL, "  addr: \":0\"", []string{"ok-a", "ok-b"}, changed), env)
		if v := version(in); v != 1 {
			t.Errorf("after a config edit routes by version %v, want still 1 until promoted", v)
		}
		in.shutdown(t)
	}
	st := openTestStore(t, env["DATABASE_URL"])
	vs, err := st.ListVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("versions = %d, want the seed and one candidate from the edited config", len(vs))
	}
	var cand router.Version
	for _, v := range vs {
		if v.ID == 2 {
			cand = v
		}
	}
	if cand.Source != "config" || cand.Status != router.StatusCandidate || cand.Table["simple"][0] != "ok-b" {
		t.Errorf("version 2 = %+v, want a config candidate with the edited table", cand)
	}

	// The configuration drops ok-a, which the active version 1 names.
	in = startServeYAML(t, faultConfig(up.URL, "  addr: \":0\"", []string{"ok-b"}, dropped), env)
	if v := version(in); v != 3 {
		t.Errorf("with the active table unservable routes by version %v, want the configured table's new version 3", v)
	}
	logs := in.stderr.String()
	in.shutdown(t)
	for _, want := range []string{"stored as a candidate", "switchyard table promote 3", "cannot be served with this configuration"} {
		if !strings.Contains(logs, want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs)
		}
	}
}
