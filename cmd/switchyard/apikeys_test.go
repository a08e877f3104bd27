package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/upstream"
)

// keysConfig is the demo config with keys required, a fast sync and no
// exploration (so which model answers is the routing's choice alone).
func keysConfig(t testing.TB, sync string) string {
	t.Helper()
	b, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{
		"require_keys: false": "require_keys: true",
		"sync_interval: 1s":   "sync_interval: " + sync,
		"exploration: 0.03":   "exploration: 0",
		"enabled: true":       "enabled: false", // neither learner nor local tier
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("demo.yaml has no %q", old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// keysRun runs `switchyard keys args...` against dbURL and returns stdout.
func keysRun(t testing.TB, dbURL string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"DATABASE_URL": dbURL}
	if err := run(context.Background(), append([]string{"keys"}, args...), func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatalf("keys %v: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// call sends one request with an optional bearer and returns the status,
// headers and decoded body.
func call(t testing.TB, method, url, bearer, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", bearer)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %q", method, url, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, out
}

// complexPrompts are demo prompts labelled complex: the table sends them
// to gpt-4o unless pacing relaxes them.
func complexPrompts(t testing.TB) []string {
	t.Helper()
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Label.Complexity == "complex" {
			out = append(out, it.Prompt)
		}
	}
	if len(out) < 60 {
		t.Fatalf("demo has %d complex prompts, want 60", len(out))
	}
	return out
}

func askBody(prompt string) string {
	b, _ := json.Marshal(map[string]string{"prompt": prompt})
	return string(b)
}

// waitFor polls until ok or 10s pass.
func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// TestKeyLife is a key's whole life through the real server on both
// databases: refused without it, created, used, rate limited, paced to
// cheaper models, stopped at its budget, its spend read with its own
// bearer, revoked.
func TestKeyLife(t *testing.T) {
	prompts := complexPrompts(t)
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dbURL := storetest.URL(t, dialect)
			items, err := datasets.Demo()
			if err != nil {
				t.Fatal(err)
			}
			in := startServeAt(t, dbURL, upstream.New(items, upstream.Options{}), keysConfig(t, "50ms"))

			code, _, body := call(t, "POST", in.url+"/ask", "", askBody("hi"))
			if code != 401 || errCode(body) != "invalid_api_key" {
				t.Fatalf("no key: %d %v, want 401 invalid_api_key", code, body)
			}

			secret := strings.Fields(keysRun(t, dbURL, "create", "--name", "team-a", "--rpm", "1000"))[0]
			other := strings.Fields(keysRun(t, dbURL, "create", "--name", "team-b", "--rpm", "2"))[0]
			if !strings.HasPrefix(secret, "sy-") {
				t.Fatalf("created key %q, want sy-…", secret)
			}
			bearer := "Bearer " + secret
			waitFor(t, "the new key is honoured", func() bool {
				code, _, _ := call(t, "GET", in.url+"/v1/models", bearer, "")
				return code == 200
			})

			// Used: the record carries the key.
			code, _, first := call(t, "POST", in.url+"/ask", bearer, askBody(prompts[0]))
			if code != 200 {
				t.Fatalf("/ask with the key: %d %v", code, first)
			}
			md := first["metadata"].(map[string]any)
			if md["model_used"] != "gpt-4o" {
				t.Fatalf("a complex prompt on pace went to %v, want gpt-4o", md["model_used"])
			}
			firstCost := md["actual_cost"].(float64)

			// Rate limited: team-b may make two requests a minute.
			waitFor(t, "team-b is honoured", func() bool {
				code, _, _ := call(t, "GET", in.url+"/v1/models", "Bearer "+other, "")
				return code == 200
			})
			var hdr http.Header
			for i := range 3 {
				code, hdr, body = call(t, "POST", in.url+"/v1/chat/completions", "Bearer "+other,
					`{"model":"auto","messages":[{"role":"user","content":"What is 2+2?"}]}`)
				if i < 2 && code != 200 {
					t.Fatalf("team-b request %d: %d %v", i+1, code, body)
				}
			}
			if code != 429 || errCode(body) != "rate_limit_exceeded" || hdr.Get("Retry-After") == "" ||
				hdr.Get("x-ratelimit-limit-requests") != "2" || hdr.Get("x-ratelimit-remaining-requests") != "0" {
				t.Errorf("third team-b request: %d %v %v, want 429 naming the limit with Retry-After", code, body, hdr)
			}
			if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "RPM") {
				t.Errorf("429 message %q does not name the limit", msg)
			}

			// Paced: a budget the first request already put ahead of pace,
			// yet not spent.
			now := time.Now().UTC()
			elapsed := float64(now.Sub(now.Truncate(24*time.Hour))) / float64(24*time.Hour)
			budget := firstCost / (elapsed + 0.5*(1-elapsed))
			keysRun(t, dbURL, "update", "team-a", "--budget", jsonNum(budget), "--period", "day")
			time.Sleep(200 * time.Millisecond) // a few syncs: the update reaches the gate
			var paced, exceeded, answered int
			var cheaper bool
			var pacedID string
			for _, p := range prompts[1:60] {
				code, hdr, body = call(t, "POST", in.url+"/ask", bearer, askBody(p))
				if code == 429 {
					if errCode(body) != "budget_exceeded" || hdr.Get("Retry-After") == "" {
						t.Fatalf("429 = %v, want budget_exceeded with Retry-After", body)
					}
					exceeded++
					break
				}
				if code != 200 {
					t.Fatalf("/ask while pacing: %d %v", code, body)
				}
				answered++
				if hdr.Get("x-switchyard-budget") == "pacing" {
					paced++
					pacedID, _ = body["id"].(string)
					md := body["metadata"].(map[string]any)
					cheaper = cheaper || md["model_used"] == "gpt-4o-mini" || md["model_used"] == "llama-3.1-8b-instant"
					if md["budget"] != "pacing" {
						t.Errorf("paced answer's metadata.budget = %v", md["budget"])
					}
				}
			}
			t.Logf("paced answers %d, then budget_exceeded", paced)
			if paced == 0 || !cheaper || exceeded == 0 {
				t.Fatalf("paced %d (cheaper %v), exceeded %d: want pacing to cheaper models, then budget_exceeded", paced, cheaper, exceeded)
			}

			// Spend by key: own bearer reads its own, not another's; the
			// admin token reads any.
			code, _, own := call(t, "GET", in.url+"/costs/today", bearer, "")
			if code != 200 || own["key"] != "team-a" || own["total_spend"].(float64) <= 0 {
				t.Errorf("own /costs/today: %d %v", code, own)
			}
			if code, _, _ := call(t, "GET", in.url+"/costs/today?key=team-b", bearer, ""); code != 403 {
				t.Errorf("team-a reading team-b's spend: %d, want 403", code)
			}
			code, _, adm := call(t, "GET", in.url+"/costs?key=team-b", "Bearer demo", "")
			if code != 200 || adm["total"].(map[string]any)["total_prompts"].(float64) != 2 {
				t.Errorf("admin /costs?key=team-b: %d %v, want 2 prompts", code, adm)
			}
			if code, _, _ := call(t, "GET", in.url+"/costs/today", "", ""); code != 401 {
				t.Errorf("/costs/today without a bearer: %d, want 401", code)
			}

			// The admin page shows both keys' spend against budget and pace
			// (once the rows are written).
			st := openTestStore(t, dbURL)
			waitFor(t, "rows written", func() bool {
				days, err := st.KeySpend(context.Background(), "team-a", now, now)
				return err == nil && days[0].Prompts >= 1+answered
			})
			code, _, ak := call(t, "GET", in.url+"/admin/api/keys", "Bearer demo", "")
			if code != 200 {
				t.Fatalf("/admin/api/keys: %d %v", code, ak)
			}
			seen := map[string]map[string]any{}
			for _, k := range ak["keys"].([]any) {
				row := k.(map[string]any)
				seen[row["name"].(string)] = row
			}
			if a := seen["team-a"]; a == nil || a["spent_micros"].(float64) < a["budget_micros"].(float64) || a["ahead_of_pace"] != true {
				t.Errorf("admin keys: team-a = %v, want spent at its budget, ahead of pace", a)
			}
			if b := seen["team-b"]; b == nil || b["prompts"].(float64) != 2 {
				t.Errorf("admin keys: team-b = %v, want 2 prompts", b)
			}
			req, _ := http.NewRequest("GET", in.url+"/admin", nil)
			req.Header.Set("Authorization", "Bearer demo")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), `id="key-team-a"`) || !strings.Contains(string(page), "ahead of pace") {
				t.Errorf("the admin page does not list team-a ahead of pace")
			}
			// A key's requests are one click away: the request explorer
			// filtered by the key lists team-a's requests and no other's.
			if !strings.Contains(string(page), `href="/admin/requests?key=team-a"`) {
				t.Errorf("the admin page does not link team-a to its requests")
			}
			code, _, ar := call(t, "GET", in.url+"/admin/api/requests?key=team-b", "Bearer demo", "")
			if code != 200 {
				t.Fatalf("/admin/api/requests?key=team-b: %d %v", code, ar)
			}
			if rows, _ := ar["requests"].([]any); len(rows) != 2 {
				t.Errorf("/admin/api/requests?key=team-b: %d requests, want 2: %v", len(rows), ar)
			}

			// The rows carry the key, and the paced ones say so.
			r, err := st.GetRequest(context.Background(), first["id"].(string))
			if err != nil || r.Key != "team-a" || r.Budget != "" {
				t.Errorf("first row: key %q budget %q (%v)", r.Key, r.Budget, err)
			}

			if r, err := st.GetRequest(context.Background(), pacedID); err != nil || r.Budget != "pacing" || r.Key != "team-a" {
				t.Errorf("paced row: key %q budget %q (%v), want team-a pacing", r.Key, r.Budget, err)
			}

			// Revoked: refused within a few syncs.
			keysRun(t, dbURL, "revoke", "team-b")
			waitFor(t, "revocation", func() bool {
				code, _, _ := call(t, "GET", in.url+"/v1/models", "Bearer "+other, "")
				return code == 401
			})
			list := keysRun(t, dbURL, "list")
			if strings.Contains(list, secret) || strings.Contains(list, other) || !strings.Contains(list, "revoked") {
				t.Errorf("keys list:\n%s", list)
			}
		})
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// TestBadKeysLeaveNoTrace: empty, huge, SQL-looking and unicode keys get
// 401 in OpenAI's shape, and the presented value appears in no log line
// and no row (the SQLite file is read whole; on Postgres the tables are).
func TestBadKeysLeaveNoTrace(t *testing.T) {
	bad := []string{
		"",
		"Bearer ",
		"Bearer sy-" + strings.Repeat("Q", 10<<10),
		"Bearer sy-canary' OR '1'='1'; DROP TABLE api_keys; --",
		"Bearer sy-canary-ключ-🔑-" + strings.Repeat("é", 16),
		"Bearer sy-canaryAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // well formed, unknown
		"Basic c3ktY2FuYXJ5",
	}
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			dbURL := storetest.URL(t, dialect)
			items, err := datasets.Demo()
			if err != nil {
				t.Fatal(err)
			}
			in := startServeAt(t, dbURL, upstream.New(items, upstream.Options{}), keysConfig(t, "50ms"))
			keysRun(t, dbURL, "create", "--name", "real")
			for _, h := range bad {
				for _, path := range []string{"/ask", "/v1/chat/completions", "/feedback"} {
					code, hdr, body := call(t, "POST", in.url+path, h, `{"prompt":"hi","id":"x"}`)
					e, _ := body["error"].(map[string]any)
					if code != 401 || e["type"] != "invalid_request_error" || e["code"] != "invalid_api_key" || hdr.Get("WWW-Authenticate") == "" {
						t.Errorf("%s with %.40q: %d %v, want 401 invalid_api_key", path, h, code, body)
					}
				}
			}
			in.shutdown(t)
			logs := in.stderr.String()
			st := openTestStore(t, dbURL)
			n, err := st.CountRequests(context.Background())
			if err != nil || n != 0 {
				t.Errorf("requests rows = %d (%v), want 0", n, err)
			}
			var db string
			if dialect == "sqlite" {
				raw, err := os.ReadFile(strings.TrimPrefix(dbURL, "sqlite:"))
				if err != nil {
					t.Fatal(err)
				}
				db = string(raw)
			}
			for _, h := range bad {
				v := strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "Basic ")
				if len(v) < 8 {
					continue
				}
				for _, probe := range []string{v, v[:8+len(v)/4]} {
					if strings.Contains(logs, probe) || strings.Contains(logs, "canary") {
						t.Errorf("logs hold a presented key (%.30q)", probe)
					}
					if db != "" && strings.Contains(db, probe) {
						t.Errorf("the database file holds a presented key (%.30q)", probe)
					}
				}
			}
		})
	}
}
