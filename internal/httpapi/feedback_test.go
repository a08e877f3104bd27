package httpapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/recorder"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

func newFeedbackServer(t *testing.T, fs FeedbackStore, pending Buffer, grace time.Duration) *httptest.Server {
	t.Helper()
	s := New(Options{
		Router:        &echoRouter{},
		Spend:         fixedSpend{},
		MaxBodyBytes:  1024,
		Feedback:      fs,
		Pending:       pending,
		FeedbackGrace: grace,
		Now:           func() time.Time { return time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC) },
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// TestFeedback runs the endpoint through the real gin engine and the
// real store on each dialect; the steps share one database, in order.
func TestFeedback(t *testing.T) {
	steps := []struct {
		name      string
		body      string
		wantCode  int
		wantParam string  // for 4xx: the field named
		wantScore float64 // for 200: the stored feedback score afterwards
	}{
		{"success", `{"id":"req_a","success":true}`, 200, "", 1},
		{"failure replaces", `{"id":"req_a","success":false}`, 200, "", 0},
		{"score replaces", `{"id":"req_a","score":0.75}`, 200, "", 0.75},
		{"unknown id", `{"id":"req_nobody","success":true}`, 404, "id", 0},
		{"bad JSON", `{"id":"req_a",`, 400, "body", 0},
		{"not an object", `[1]`, 400, "body", 0},
		{"id not a string", `{"id":7,"success":true}`, 400, "id", 0},
		{"success not a boolean", `{"id":"req_a","success":"yes"}`, 400, "success", 0},
		{"score not a number", `{"id":"req_a","score":"high"}`, 400, "score", 0},
		{"score above 1", `{"id":"req_a","score":1.5}`, 400, "score", 0},
		{"score below 0", `{"id":"req_a","score":-0.1}`, 400, "score", 0},
		{"both", `{"id":"req_a","success":true,"score":1}`, 400, "score", 0},
		{"neither", `{"id":"req_a"}`, 400, "score", 0},
		{"no id", `{"success":true}`, 400, "id", 0},
		{"empty id", `{"id":"","success":true}`, 400, "id", 0},
		// Issue 12, item 4: PostgreSQL refuses a NUL in text (22021).
		{"id with NUL", `{"id":"req_\u0000a","success":true}`, 400, "id", 0},
		{"id with control", `{"id":"req_\u001b[31m","success":true}`, 400, "id", 0},
		{"id too long", fmt.Sprintf(`{"id":%q,"success":true}`, strings.Repeat("x", 200)), 400, "id", 0},
	}
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			st := storetest.Open(t, dialect)
			ctx := context.Background()
			if err := st.InsertRequests(ctx, []router.Record{{ID: "req_a", Time: time.Now(), Model: "cheap", Status: router.OutcomeOK}}); err != nil {
				t.Fatal(err)
			}
			ts := newFeedbackServer(t, st, nil, -1)
			for _, step := range steps {
				code, body, _ := do(t, "POST", ts.URL+"/feedback", step.body)
				if code != step.wantCode {
					t.Fatalf("%s: status %d (%v), want %d", step.name, code, body, step.wantCode)
				}
				if code != 200 {
					e, _ := body["error"].(map[string]any)
					if e["param"] != step.wantParam {
						t.Errorf("%s: error param = %v (%v), want %q", step.name, e["param"], body, step.wantParam)
					}
					continue
				}
				if body["id"] != "req_a" || body["score"] != step.wantScore || body["source"] != router.SourceFeedback {
					t.Errorf("%s: body = %v", step.name, body)
				}
				assertFeedback(t, st, "req_a", step.wantScore)
			}
			// Nothing was stored for the rejected or unknown requests.
			got, err := st.Outcomes(ctx, "req_nobody")
			if err != nil || len(got) != 0 {
				t.Errorf("Outcomes(req_nobody) = %v, %v; want none", got, err)
			}
		})
	}
}

// assertFeedback checks that id has exactly one outcome, the feedback
// with score want.
func assertFeedback(t *testing.T, st *store.Store, id string, want float64) {
	t.Helper()
	got, err := st.Outcomes(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Source != router.SourceFeedback || got[0].Score != want || got[0].Attempt != router.AnswerAttempt {
		t.Errorf("outcomes of %s = %+v, want one feedback scored %v", id, got, want)
	}
}

// heldSink writes records to the store only once released, like a
// database that is slow to take the recorder's batch.
type heldSink struct {
	st      *store.Store
	release chan struct{}
}

func (h *heldSink) InsertRequests(ctx context.Context, recs []router.Record) error {
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.st.InsertRequests(ctx, recs)
}

// TestFeedbackBeforeRecordWritten: feedback arriving while the request's
// record is still in the recorder's buffer is accepted, with no waiting,
// and attributed to the answering model once the record is written.
func TestFeedbackBeforeRecordWritten(t *testing.T) {
	st := storetest.Open(t, store.DialectSQLite)
	ctx := context.Background()
	held := &heldSink{st: st, release: make(chan struct{})}
	rec := recorder.New(held, recorder.Options{FlushInterval: time.Millisecond})
	r := router.Record{ID: "req_buffered", Time: time.Now(), Complexity: router.Simple, Model: "cheap", Status: router.OutcomeOK, Propensity: 1,
		Attempts: []router.Attempt{{Model: "cheap", Status: router.OutcomeOK, Cost: 9}}}
	if err := rec.Record(ctx, r); err != nil {
		t.Fatal(err)
	}
	ts := newFeedbackServer(t, st, rec, -1)

	code, body, _ := do(t, "POST", ts.URL+"/feedback", `{"id":"req_buffered","score":0.5}`)
	if code != 200 {
		t.Fatalf("feedback for a buffered record: %d %v, want 200", code, body)
	}
	close(held.release)
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	obs, err := st.Observations(ctx, r.Time.Add(-time.Minute), r.Time.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 1 || obs[0].Model != "cheap" || obs[0].Score != 0.5 || obs[0].Cost != 9 {
		t.Errorf("observations = %+v, want one of cheap scored 0.5 costing 9", obs)
	}
}

// lateStore finds its request only on the third look, as when another
// replica's recorder writes it a moment after the feedback arrives.
type lateStore struct {
	mu    sync.Mutex
	looks int
	puts  []router.Outcome
}

func (l *lateStore) HasRequest(ctx context.Context, id string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.looks++
	return id == "req_late" && l.looks >= 3, nil
}

func (l *lateStore) PutOutcome(ctx context.Context, o router.Outcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.puts = append(l.puts, o)
	return nil
}

func TestFeedbackWaitsForLateRecord(t *testing.T) {
	ls := &lateStore{}
	// A grace far longer than the test needs: the third look succeeds.
	ts := newFeedbackServer(t, ls, nil, time.Minute)
	code, body, _ := do(t, "POST", ts.URL+"/feedback", `{"id":"req_late","success":true}`)
	if code != 200 {
		t.Fatalf("late feedback: %d %v, want 200", code, body)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.looks != 3 || len(ls.puts) != 1 || ls.puts[0].RequestID != "req_late" {
		t.Errorf("looks = %d, puts = %+v; want 3 looks and one put", ls.looks, ls.puts)
	}
}

func TestFeedbackUnknownAfterGrace(t *testing.T) {
	ls := &lateStore{}
	ts := newFeedbackServer(t, ls, nil, 50*time.Millisecond)
	code, body, _ := do(t, "POST", ts.URL+"/feedback", `{"id":"req_never","success":true}`)
	if code != 404 {
		t.Fatalf("feedback for an id that never appears: %d %v, want 404", code, body)
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.looks < 1 || len(ls.puts) != 0 {
		t.Errorf("looks = %d, puts = %d; want at least 1 look and no put", ls.looks, len(ls.puts))
	}
}

func TestFeedbackRouteNeedsStore(t *testing.T) {
	_, ts := newTestServer(t, &echoRouter{}, fixedSpend{}, nil)
	if code, body, _ := do(t, "POST", ts.URL+"/feedback", `{"id":"req_1","success":true}`); code != 404 {
		t.Errorf("POST /feedback without a store: %d %v, want 404", code, body)
	}
}

// downStore is a database that is unreachable for lookups (or only for
// writes), as during an outage.
type downStore struct{ lookupsWork bool }

func (d downStore) HasRequest(ctx context.Context, id string) (bool, error) {
	if d.lookupsWork {
		return true, nil
	}
	return false, fmt.Errorf("look up request %s: dial tcp 127.0.0.1:5432: connect: connection refused", id)
}

func (d downStore) PutOutcome(ctx context.Context, o router.Outcome) error {
	return fmt.Errorf("put outcome: write tcp: broken pipe")
}

// outageCount counts the failures and successes reported to it.
type outageCount struct {
	mu       sync.Mutex
	fails    int
	lastOp   string
	recovers int
}

func (o *outageCount) Fail(op string, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fails++
	o.lastOp = op
}

func (o *outageCount) OK() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recovers++
}

// TestFeedbackDatabaseDown: feedback while the database is unreachable
// is a 503 the client can retry (Retry-After, x-should-retry: true,
// code database_unavailable), not a 500, and the failure goes to the
// outage tracker (one line per outage) rather than a log line per call.
func TestFeedbackDatabaseDown(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   downStore
	}{
		{"lookup fails", downStore{}},
		{"write fails", downStore{lookupsWork: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			oc := &outageCount{}
			s := New(Options{Router: &echoRouter{}, Spend: fixedSpend{}, Feedback: tt.st, FeedbackGrace: -1, StoreOutage: oc})
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			code, body, hdr := do(t, "POST", ts.URL+"/feedback", `{"id":"req_a","success":true}`)
			e, _ := body["error"].(map[string]any)
			if code != 503 || hdr.Get("Retry-After") == "" || hdr.Get("x-should-retry") != "true" || e["code"] != "database_unavailable" {
				t.Errorf("feedback with the database down = %d %v %v, want 503 database_unavailable with Retry-After", code, hdr, body)
			}
			if msg, _ := e["message"].(string); strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "tcp") {
				t.Errorf("message %q leaks the driver's error", msg)
			}
			oc.mu.Lock()
			defer oc.mu.Unlock()
			if oc.fails != 1 || oc.lastOp != "feedback" {
				t.Errorf("outage tracker told %d failures (last %q), want 1 of feedback", oc.fails, oc.lastOp)
			}
		})
	}
}
