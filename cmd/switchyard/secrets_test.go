package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/faketest"
)

// TestKeysNeverLeak is the secrets row of FAULTS.md: a provider key is
// used through faults (401, 5xx, a stream cut mid-answer, bad input) and
// then searched for in everything the service produced: responses,
// headers, logs, metrics and the database file.
func TestKeysNeverLeak(t *testing.T) {
	const key = "sk-leak-canary-7f3a9c2e5b1d"
	up := faketest.New()
	t.Cleanup(up.Close)

	dir := t.TempDir()
	cfg := `
providers:
  - {name: p, kind: openai, base_url: "` + up.URL + `/v1", api_key_env: CANARY_KEY}
  - {name: bad, kind: anthropic, base_url: "` + up.URL + `/v1", api_key_env: CANARY_KEY}
models:
  - {name: ok-a, provider: p, input_per_mtok: 1, output_per_mtok: 2}
  - {name: status-500, provider: p, input_per_mtok: 0.1, output_per_mtok: 0.2}
  - {name: cut-after, provider: p, input_per_mtok: 0.1, output_per_mtok: 0.2}
  - {name: status-401, provider: bad, input_per_mtok: 0.1, output_per_mtok: 0.2}
classifier: {model: ""}
routing:
  simple: [status-401, ok-a]
  moderate: [status-500, ok-a]
  complex: [cut-after, ok-a]
baseline_model: ok-a
learner: {enabled: false}
`
	cfgPath := filepath.Join(dir, "canary.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "canary.db")
	env := map[string]string{"CANARY_KEY": key, "DATABASE_URL": "sqlite:" + dbPath}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath, "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw, stderr)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("serve did not start: %v\n%s", err, stderr)
	}
	var stdout bytes.Buffer
	stdout.WriteString(line)
	copied := make(chan struct{})
	go func() { io.Copy(&stdout, br); close(copied) }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "switchyard listening on "))

	var seen bytes.Buffer
	do := func(method, path, body string, hdr map[string]string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		seen.WriteString(resp.Status + "\n")
		resp.Header.Write(&seen)
		seen.Write(b)
	}
	do("POST", "/ask", `{"prompt":"What is 2 + 2?"}`, nil)
	do("POST", "/ask", `{"prompt":"Explain step by step why the sky is blue, then compare it with sunsets."}`, nil)
	do("POST", "/ask", `{"prompt":"Prove that there are infinitely many primes, derive each step, and design a test."}`, nil)
	do("POST", "/v1/chat/completions", `{"model":"status-401","messages":[{"role":"user","content":"hi"}]}`, nil)
	do("POST", "/v1/chat/completions", `{"model":"cut-after","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	do("POST", "/v1/chat/completions", `{"model":"auto","api_base":"http://evil.example/v1","messages":[{"role":"user","content":"hi"}]}`, nil)
	do("POST", "/v1/chat/completions", `{"model":"ok-a","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"Authorization": "Bearer " + "x"})
	do("GET", "/readyz", "", nil)
	do("GET", "/costs/today", "", nil)
	time.Sleep(300 * time.Millisecond) // let the recorder flush
	do("GET", "/metrics", "", nil)

	// The key did reach the provider, so the search below means something.
	var sent bool
	for _, a := range up.Attempts() {
		if strings.Contains(a.Authorization, key) {
			sent = true
		}
	}
	if !sent {
		t.Fatal("the canary key never reached the upstream; the test proves nothing")
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	<-copied
	db, _ := os.ReadFile(dbPath)
	wal, _ := os.ReadFile(dbPath + "-wal")
	for name, text := range map[string]string{
		"responses": seen.String(), "stdout": stdout.String(), "logs": stderr.String(),
		"database": string(db) + string(wal),
	} {
		if strings.Contains(text, key) || strings.Contains(text, key[:12]) {
			t.Errorf("the provider key appears in %s", name)
		}
	}
	if !strings.Contains(string(db)+string(wal), "status-401") {
		t.Errorf("the database holds no attempt records; the search proves nothing")
	}
	if !strings.Contains(stderr.String(), "level") {
		t.Errorf("no logs captured; the search proves nothing")
	}
}
