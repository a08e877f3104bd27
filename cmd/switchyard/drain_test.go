package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/router"
)

// TestShutdownCancelsAndRecordsAtDeadline is issue 12, items 1 and 2
// (FAULTS.md F15): on SIGTERM readiness is 503 "draining" while the
// listener still answers and new requests are refused; at the drain
// deadline the requests still with a silent upstream are cancelled, each
// client gets an error (a terminal error event for a stream that
// started), each request is recorded as cancelled, and serve's exit says
// the drain was not clean.
func TestShutdownCancelsAndRecordsAtDeadline(t *testing.T) {
	up := faketest.New()
	defer up.Close()
	cfg := faultConfig(up.URL, "  shutdown_timeout: 2s\n  attempt_timeout: 60s\n  first_byte_timeout: 60s",
		[]string{"silent-a", "stall-a"}, "  simple: [silent-a]\n  moderate: [silent-a]\n  complex: [silent-a]")
	in := startServeYAML(t, cfg, nil)

	type answer struct {
		code int
		body string
	}
	post := func(path, body string, out chan<- answer) {
		resp, err := http.Post(in.url+path, "application/json", strings.NewReader(body))
		if err != nil {
			out <- answer{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		var sb strings.Builder
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			sb.WriteString(sc.Text() + "\n")
		}
		out <- answer{resp.StatusCode, sb.String()}
	}
	plain := make(chan answer, 2)
	go post("/ask", `{"prompt":"What is 2 + 2?"}`, plain)
	go post("/v1/chat/completions", `{"model":"silent-a","messages":[{"role":"user","content":"hi"}]}`, plain)
	stream := make(chan answer, 1)
	go post("/v1/chat/completions", `{"model":"stall-a","stream":true,"messages":[{"role":"user","content":"hi"}]}`, stream)

	deadline := time.Now().Add(5 * time.Second)
	for len(up.Attempts()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(up.Attempts()); n != 3 {
		t.Fatalf("upstream attempts = %d, want 3 in flight", n)
	}
	time.Sleep(100 * time.Millisecond) // the stall model's first chunk reaches the client

	sigterm := time.Now()
	in.stop()
	time.Sleep(200 * time.Millisecond)
	resp, err := http.Get(in.url + "/readyz")
	if err != nil {
		t.Fatalf("/readyz while draining: %v, want a 503 from a listener still open", err)
	}
	var ready map[string]any
	json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 503 || ready["status"] != "draining" {
		t.Errorf("/readyz while draining = %d %v, want 503 draining", resp.StatusCode, ready)
	}
	resp, err = http.Post(in.url+"/ask", "application/json", strings.NewReader(`{"prompt":"late"}`))
	if err != nil {
		t.Fatalf("new /ask while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("new /ask while draining = %d, want 503", resp.StatusCode)
	}

	for range 2 {
		a := <-plain
		if a.code != 503 || !strings.Contains(a.body, "shutting_down") {
			t.Errorf("in-flight request at the deadline = %d %s, want 503 shutting_down", a.code, a.body)
		}
	}
	s := <-stream
	if s.code != 200 || !strings.Contains(s.body, `"shutting_down"`) || strings.Contains(s.body, "[DONE]") {
		t.Errorf("stream at the deadline = %d %q, want its chunk, then an error event and no [DONE]", s.code, s.body)
	}

	var runErr error
	select {
	case runErr = <-in.done:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of SIGTERM with shutdown_timeout 2s")
	}
	in.done <- runErr
	if took := time.Since(sigterm); took > 3*time.Second {
		t.Errorf("shutdown took %v, want within shutdown_timeout (2s) and a little", took)
	}
	if runErr == nil || !strings.Contains(runErr.Error(), "3 requests still running at the drain deadline were cancelled") {
		t.Errorf("serve = %v, want an unclean drain naming 3 cancelled requests", runErr)
	}

	st := openTestStore(t, in.dbURL)
	recs, err := st.LatestRequests(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("rows = %d, want 3 (one per cancelled request)", len(recs))
	}
	for _, r := range recs {
		if r.Status != router.OutcomeCancelled {
			t.Errorf("row %s status = %q, want cancelled", r.ID, r.Status)
		}
		if r.Model == "stall-a" && r.CompletionTokens == 0 {
			t.Errorf("stream row %+v, want its partial usage", r)
		}
	}
}

// A drain with nothing left at the deadline is clean: exit 0.
func TestShutdownCleanDrain(t *testing.T) {
	up := faketest.New()
	defer up.Close()
	cfg := faultConfig(up.URL, "  shutdown_timeout: 2s", []string{"ok-a"}, "  simple: [ok-a]\n  moderate: [ok-a]\n  complex: [ok-a]")
	in := startServeYAML(t, cfg, nil)
	code, _ := postJSON(t, in.url+"/ask", `{"prompt":"hi"}`)
	if code != 200 {
		t.Fatalf("/ask = %d", code)
	}
	in.shutdown(t)
}
