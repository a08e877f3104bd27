package main

// The fault wall's database rows: F12 (the database cut off, through a
// TCP proxy this test controls; the shared PostgreSQL is never touched),
// a provider's error text with a NUL recorded on each dialect, and B10
// (feedback for unknown and malformed ids) on each dialect. The harness
// is in faultwall_test.go.

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
)

// dbProxy forwards TCP connections to a database; cut drops every
// connection and refuses new ones (each is accepted and closed at once,
// as a database that is down answers), restore lets them through again.
type dbProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *dbProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	return p
}

func (p *dbProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}

func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *dbProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *dbProxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// via returns dbURL with its host replaced by the proxy's.
func (p *dbProxy) via(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// status GETs path and returns the status code.
func (r *row) status(t *testing.T, path string) int {
	t.Helper()
	resp, err := r.http.Get(r.in.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus polls path until it answers want, for up to d.
func (r *row) waitStatus(t *testing.T, path string, want int, d time.Duration) bool {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r.status(t, path) == want {
			return true
		}
	}
	return false
}

// F12: with PostgreSQL cut off, requests go on from the in-memory
// routing table, readiness says degraded, feedback is refused with a
// retryable 503 (not a 500), and when the database returns every record
// is written: nothing lost.
func TestFaultWallF12DatabaseDown(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	u, _ := url.Parse(dbURL)
	proxy := startProxy(t, u.Host)
	r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"ok-a"}, routing: everywhere("ok-a"), dbURL: proxy.via(t, dbURL)})
	t.Cleanup(proxy.close) // before the leak check, after serve stopped
	var raw *http.Response
	if _, err := r.client.Chat.Completions.New(r.ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 1 + 1?")}, option.WithResponseInto(&raw)); err != nil {
		t.Fatal(err)
	}
	id := raw.Header.Get("x-switchyard-request-id")
	if !r.waitStatus(t, "/readyz", 200, 5*time.Second) {
		t.Fatalf("/readyz not 200 before the outage")
	}

	proxy.cut()
	const during = 10
	for i := range during {
		if _, _, err := r.ask("What is 2 + 2?"); err != nil {
			t.Fatalf("request %d with the database down: %v", i, err)
		}
	}
	if !r.waitStatus(t, "/readyz", 503, 5*time.Second) {
		t.Errorf("/readyz never said degraded with the database down")
	}
	req, _ := http.NewRequestWithContext(r.ctx, "POST", r.in.url+"/feedback", strings.NewReader(`{"id":"`+id+`","success":true}`))
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "database_unavailable") {
		t.Errorf("feedback with the database down = %d %q (Retry-After %q), want 503 database_unavailable with Retry-After", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}

	proxy.restore()
	if !r.waitStatus(t, "/readyz", 200, 10*time.Second) {
		t.Errorf("/readyz not back to 200 after the database returned")
	}
	if code, _ := r.post(t, "/feedback", `{"id":"`+id+`","success":true}`); code != 200 {
		t.Errorf("feedback after the outage = %d, want 200", code)
	}
	if n := len(r.records(t)); n != 1+during {
		t.Errorf("records = %d, want %d: every request answered during the outage is written", n, 1+during)
	}
	if logs := r.in.stderr.String(); strings.Count(logs, "level=ERROR") > 3 {
		t.Errorf("%d error lines for one outage, want the outage's few:\n%s", strings.Count(logs, "level=ERROR"), logs)
	}
}

// A provider's error text with a NUL (and HTML, and the escape written
// out) is recorded on both dialects: on PostgreSQL the whole batch used
// to fail (22021/22P05) and the record was lost.
func TestFaultWallNULInProviderError(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"refuser"}, routing: everywhere("refuser"), dbURL: storetest.URL(t, dialect)})
			r.up.Set("refuser", faketest.Override{Status: 400, Message: "bad\x00input, literally \\u0000"})
			_, _, err := r.ask("What is 2 + 2?")
			if e := apiError(t, err); e.StatusCode != 400 {
				t.Errorf("err = %v, want the provider's 400", err)
			}
			recs := r.records(t)
			if len(recs) != 1 || len(recs[0].Attempts) != 1 {
				t.Fatalf("records = %+v, want 1 with its attempt", recs)
			}
			if got := recs[0].Attempts[0].Error; !strings.Contains(got, "bad\uFFFDinput, literally \\u0000") {
				t.Errorf("attempt error = %q, want the provider's text with U+FFFD for the NUL", got)
			}
		})
	}
}

// B10: feedback for an id never served is a 404 and one with a NUL a
// 400 naming id, on both dialects, while a real id's feedback is taken.
// (A malformed dataset line: TestDatasetImportBadInput runs the
// `dataset import` command on one and checks the line it names.)
func TestFaultWallFeedbackIDs(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			r := startRow(t, spec{server: "  first_byte_timeout: 5s", models: []string{"ok-a"}, routing: everywhere("ok-a"), dbURL: storetest.URL(t, dialect)})
			var raw *http.Response
			if _, err := r.client.Chat.Completions.New(r.ctx, openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 1 + 1?")}, option.WithResponseInto(&raw)); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				body      string
				wantCode  int
				wantParam string
			}{
				{`{"id":"req_never_served","success":true}`, 404, "id"},
				{`{"id":"req_\u0000x","success":true}`, 400, "id"},
				{`{"id":"req_'; DROP TABLE requests; --","success":true}`, 404, "id"},
				{`{"id":"` + raw.Header.Get("x-switchyard-request-id") + `","score":0.5}`, 200, ""},
			}
			for _, tt := range tests {
				if code, param := r.post(t, "/feedback", tt.body); code != tt.wantCode || param != tt.wantParam {
					t.Errorf("feedback %s: %d naming %q, want %d naming %q", tt.body, code, param, tt.wantCode, tt.wantParam)
				}
			}
			if n := len(r.records(t)); n != 1 {
				t.Errorf("records = %d, want 1: bad feedback loses nothing", n)
			}
		})
	}
}

// F15 mid-learner-run, on PostgreSQL: a learner run in progress (holding
// the learner lock, its read of the versions held up by a table lock
// this test takes) when serve gets SIGTERM is stopped at once, not at
// the shutdown deadline (30 s, which it used to hold out for, leaving the
// recorder's last flush no time): serve ends cleanly within seconds, the
// run has written nothing and has released the learner lock. (That a
// run stopped later writes no half version: learner
// TestJobStopsWhenCancelled; each version is one transaction.)
func TestFaultWallF15LearnerSIGTERM(t *testing.T) {
	dbURL := storetest.URL(t, store.DialectPostgres)
	r := startRow(t, spec{server: "  first_byte_timeout: 5s\n  shutdown_timeout: 30s", models: []string{"ok-a"}, routing: everywhere("ok-a"),
		learner: `{enabled: true, schedule: "@every 1s"}`, dbURL: dbURL})
	conn, err := pgx.Connect(r.ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Released before serve's cleanup waits for it, should serve hang.
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(r.ctx, `LOCK TABLE table_versions IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	// The next scheduled run takes the learner lock and waits for the
	// table.
	for {
		var held bool
		err := conn.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database())`).Scan(&held)
		if err != nil {
			t.Fatalf("no learner run holding the lock: %v", err)
		}
		if held {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.in.stop()
	sigterm := time.Now()
	select {
	case err := <-r.in.done:
		r.in.done <- err
		if err != nil {
			t.Errorf("serve = %v, want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve still stopping 10s after SIGTERM with a learner run in progress (shutdown_timeout 30s):\n%s", r.in.stderr)
	}
	took := time.Since(sigterm)
	if err := tx.Rollback(r.ctx); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, dbURL)
	vs, err := st.ListVersions(r.ctx)
	if err != nil || len(vs) != 1 {
		t.Errorf("versions = %d, %v; want 1: the stopped run wrote nothing", len(vs), err)
	}
	unlock, ok, err := st.TryLearnerLock(r.ctx)
	if err != nil || !ok {
		t.Errorf("learner lock after serve stopped: %v, %v; want it free", ok, err)
	} else {
		unlock()
	}
	if logs := r.in.stderr.String(); !strings.Contains(logs, "learner run stopped") {
		t.Errorf("the log does not say the learner run was stopped (serve took %v):\n%s", took, logs)
	}
}
