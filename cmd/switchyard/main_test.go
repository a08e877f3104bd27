package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/upstream"
)

// syncBuffer is a goroutine-safe writer for run's stderr.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one `switchyard serve` started through run on :0 against
// the demo upstream.
type instance struct {
	url      string
	dbURL    string
	upstream *upstream.Server
	stderr   *syncBuffer
	stop     context.CancelFunc
	done     chan error
}

// startServe runs `switchyard serve` with the demo config on a fresh
// database of dialect, its providers pointed at an in-process upstream.
func startServe(t testing.TB, dialect string, latencyScale float64) *instance {
	t.Helper()
	return startServeConfig(t, dialect, latencyScale, "../../config/demo.yaml")
}

// startServeConfig is startServe with another configuration file, whose
// providers point at ${SWITCHYARD_UPSTREAM} as the demo's do.
func startServeConfig(t testing.TB, dialect string, latencyScale float64, cfgPath string) *instance {
	t.Helper()
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	up := upstream.New(items, upstream.Options{LatencyScale: latencyScale})
	return startServeAt(t, storetest.URL(t, dialect), up, cfgPath)
}

// startServeAt runs `switchyard serve` with cfgPath on the database at
// dbURL, its providers pointed at an httptest server for up. Called again
// on the same database, it is a restart.
func startServeAt(t testing.TB, dbURL string, up *upstream.Server, cfgPath string) *instance {
	t.Helper()
	return startServeHandler(t, dbURL, up, up, cfgPath)
}

// startServeHandler is startServeAt with the providers pointed at h, which
// stands in front of up (to watch or break what reaches it).
func startServeHandler(t testing.TB, dbURL string, up *upstream.Server, h http.Handler, cfgPath string) *instance {
	t.Helper()
	upSrv := httptest.NewServer(h)
	t.Cleanup(upSrv.Close)
	inst := &instance{dbURL: dbURL, upstream: up}
	launch(t, inst, cfgPath, map[string]string{"DATABASE_URL": dbURL, "SWITCHYARD_UPSTREAM": upSrv.URL + "/v1"})
	return inst
}

// launch runs serve with cfgPath and env on 127.0.0.1:0 for inst, waits
// for its listening line and stops it at cleanup; inst.done still holds
// run's result after that.
func launch(t testing.TB, inst *instance, cfgPath string, env map[string]string) {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	inst.stderr, inst.stop, inst.done = &syncBuffer{}, cancel, make(chan error, 1)
	go func() {
		inst.done <- run(ctx, []string{"serve", "--config", cfgPath, "--addr", "127.0.0.1:0"}, getenv, pw, inst.stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve did not start: %v; stderr:\n%s\nrun: %v", err, inst.stderr, <-inst.done)
	}
	go io.Copy(io.Discard, pr)
	inst.url = strings.TrimSpace(strings.TrimPrefix(line, "switchyard listening on "))
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-inst.done:
			inst.done <- err
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30s")
		}
	})
}

// shutdown is SIGTERM: it cancels run's context and waits for it.
func (in *instance) shutdown(t testing.TB) {
	t.Helper()
	in.stop()
	select {
	case err := <-in.done:
		if err != nil {
			t.Fatalf("serve returned %v; stderr:\n%s", err, in.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
	in.done <- nil // for the cleanup
}

func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: decode: %v", url, err)
	}
	return resp.StatusCode, out
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode, out
}

func openTestStore(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestServeEndToEnd is the "done when" on both databases: /ask
// answers through the real classifier call and openai-go request, the
// same prompt again costs no classifier call, /costs/today adds up the
// recorded costs, and the database holds both rows after SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			in := startServe(t, dialect, 0)
			const classifier = "claude-haiku-4-5"
			prompt := `{"prompt":"What is 17 + 25?"}`

			code, first := postJSON(t, in.url+"/ask", prompt)
			if code != 200 {
				t.Fatalf("first /ask: %d %v\nstderr:\n%s", code, first, in.stderr)
			}
			md := first["metadata"].(map[string]any)
			for _, k := range []string{"complexity", "model_used", "estimated_cost", "actual_cost", "latency_ms", "table_version", "analysis", "attempts"} {
				if _, ok := md[k]; !ok {
					t.Errorf("metadata.%s missing: %v", k, md)
				}
			}
			if first["response"] == "" || md["model_used"] == "" || md["table_version"] != 1.0 {
				t.Errorf("first answer = %v", first)
			}
			if tier := md["analysis"].(map[string]any)["tier"]; tier != "llm" {
				t.Errorf("first classification tier = %v, want llm", tier)
			}
			if got := in.upstream.Calls(classifier); got != 1 {
				t.Errorf("classifier calls after first /ask = %d, want 1", got)
			}

			code, second := postJSON(t, in.url+"/ask", prompt)
			if code != 200 {
				t.Fatalf("second /ask: %d %v", code, second)
			}
			md2 := second["metadata"].(map[string]any)
			if tier := md2["analysis"].(map[string]any)["tier"]; tier != "cache" {
				t.Errorf("second classification tier = %v, want cache", tier)
			}
			if got := in.upstream.Calls(classifier); got != 1 {
				t.Errorf("classifier calls after the repeat = %d, want still 1", got)
			}

			// Read-your-writes (issue 12, item 9): /costs waits for the
			// records of answered requests, so both count at once.
			wantSpend := md["actual_cost"].(float64) + md2["actual_cost"].(float64)
			_, costs := getJSON(t, in.url+"/costs/today")
			if costs["pending_records"] != 0.0 {
				t.Errorf("costs/today pending_records = %v, want 0", costs["pending_records"])
			}
			if costs["total_prompts"] != 2.0 {
				t.Fatalf("costs/today prompts = %v, want 2 (%v)", costs["total_prompts"], costs)
			}
			if got := costs["total_spend"].(float64); !near(got, wantSpend) {
				t.Errorf("costs/today total_spend = %v, want the sum of actual costs %v", got, wantSpend)
			}
			if costs["baseline_model"] != "gpt-4o" || costs["savings_vs_baseline"] == nil {
				t.Errorf("costs/today = %v, want savings against gpt-4o", costs)
			}

			resp, err := http.Get(in.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metricsText, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{`switchyard_requests_total{complexity=`, `switchyard_classifications_total{fallback="false",tier="cache"} 1`, `switchyard_table_version 1`, `switchyard_requests_in_flight 0`, `switchyard_requests_refused_total 0`, `switchyard_records_refused_total 0`} {
				if !strings.Contains(string(metricsText), want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}

			in.shutdown(t)
			st := openTestStore(t, in.dbURL)
			for _, resp := range []map[string]any{first, second} {
				rec, err := st.GetRequest(context.Background(), resp["id"].(string))
				if err != nil {
					t.Fatalf("row %v: %v", resp["id"], err)
				}
				if rec.Model != resp["metadata"].(map[string]any)["model_used"] || rec.Status != "ok" || rec.TableVersion != 1 {
					t.Errorf("row = %+v", rec)
				}
			}
		})
	}
}

// TestShutdownLosesNoRecord sends requests that are still with the
// upstream when SIGTERM arrives: every one must finish and be recorded.
func TestShutdownLosesNoRecord(t *testing.T) {
	in := startServe(t, "sqlite", 0.3)
	items, _ := datasets.Demo()
	const n = 20
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]string{"prompt": items[i].Prompt})
			resp, err := http.Post(in.url+"/ask", "application/json", bytes.NewReader(body))
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// Wait until the requests have reached the upstream (each /ask calls
	// it at least once), so that they are in flight when SIGTERM comes.
	// On a loaded machine a request may still not have arrived by then:
	// the draining server refuses it with 503 before doing any work, which
	// is the documented behaviour, and it leaves no record.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		calls := 0
		for _, m := range in.upstream.Models() {
			calls += in.upstream.Calls(m)
		}
		if calls >= n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	in.shutdown(t)
	wg.Wait()
	close(codes)
	ok := 0
	for c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable: // arrived after SIGTERM: refused
		default:
			t.Errorf("a request across SIGTERM got status %d, want 200 (in flight) or 503 (arrived while draining)", c)
		}
	}
	if ok < n/2 {
		t.Errorf("%d of %d in-flight requests succeeded across SIGTERM, want at least %d", ok, n, n/2)
	}
	st := openTestStore(t, in.dbURL)
	got, err := st.CountRequests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got != int64(ok) {
		t.Errorf("rows after shutdown = %d, want %d (one per accepted request)", got, ok)
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"serve", "--config", "/does/not/exist.yaml"}, "read config"},
		{[]string{"migrate"}, "want one of up, down, status"},
		{[]string{"migrate", "sideways"}, `unknown action "sideways"`},
		{[]string{"upstream", "--latency-scale", "-1"}, "--latency-scale must not be negative"},
		{[]string{"upstream", "--dataset", "/does/not/exist.jsonl"}, "load dataset"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}
			err := run(context.Background(), tt.args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	// The embedded default names real providers whose keys are unset here.
	env := map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY is not set") {
		t.Errorf("serve with unset keys = %v, want a refusal naming OPENAI_API_KEY", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "sqlite:" + t.TempDir() + "/m.db"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "status"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending") {
		t.Errorf("status before up = %q, want pending migrations", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "up"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pending") {
		t.Errorf("status after up = %q, want none pending", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "down"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending") {
		t.Errorf("status after down = %q, want the last migration pending", out.String())
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}
