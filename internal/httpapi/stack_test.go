package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/internal/provider"
	"github.com/switchyard/switchyard/router"
)

// providerKey must never reach a client.
const providerKey = "sk-fake-provider-key-0123456789"

// memRecorder keeps records in memory.
type memRecorder struct {
	mu   sync.Mutex
	recs []router.Record
}

func (m *memRecorder) Record(ctx context.Context, r router.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

// wait returns the records once there are n, or what there is after 2s:
// a stream's record is written after its last byte.
func (m *memRecorder) wait(n int) []router.Record {
	deadline := time.Now().Add(2 * time.Second)
	for {
		m.mu.Lock()
		got := append([]router.Record(nil), m.recs...)
		m.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type simpleClassifier struct{}

func (simpleClassifier) Classify(ctx context.Context, prompt router.Prompt) (router.Analysis, error) {
	return router.Analysis{Complexity: router.Simple, EstimatedTokens: 5, Tier: router.TierHeuristic}, nil
}

// stack is the whole request path: the gin engine, a router.Service and
// a provider.Client talking HTTP to the fake upstream.
type stack struct {
	up     *faketest.Server
	api    *httptest.Server
	svc    *router.Service
	rec    *memRecorder
	client *http.Client // for raw requests; its own transport
	upHTTP *http.Client // the provider's
}

// fakeModels are the fake upstream's models; the name selects the fault.
var fakeModels = []string{"ok-a", "ok-b", "cut-before", "cut-after", "no-done", "stall", "error-event", "malformed", "silent", "status-503"}

// newStack serves every bucket from candidates, with timeout per attempt.
func newStack(t *testing.T, candidates []string, timeout time.Duration) *stack {
	t.Helper()
	st := &stack{up: faketest.New(), rec: &memRecorder{}}
	cat := router.Catalog{}
	for _, m := range fakeModels {
		cat[m] = router.Model{Name: m, Provider: "fake", InputPerMTok: 1, OutputPerMTok: 2, Capabilities: router.Capabilities{Tools: true, Vision: true, JSONSchema: true}}
	}
	st.upHTTP = &http.Client{Transport: &http.Transport{}}
	p := provider.New(config.Provider{Name: "fake", BaseURL: st.up.URL + "/v1", APIKey: providerKey}, provider.Options{HTTPClient: st.upHTTP})
	var ids atomic.Int64
	svc, err := router.NewService(router.Options{
		Models:     cat,
		Completers: map[string]router.Completer{"fake": p},
		Classifier: simpleClassifier{},
		Recorder:   st.rec,
		Baseline:   "ok-b",
		Version:    router.Version{ID: 3, Table: router.Table{router.Simple: candidates, router.Moderate: candidates, router.Complex: candidates}, Status: router.StatusActive},
		Timeout:    timeout,
		NewID:      func() string { return fmt.Sprintf("req_%d", ids.Add(1)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	st.svc = svc
	api := New(Options{
		Router:         svc,
		Spend:          fixedSpend{},
		Baseline:       "ok-b",
		MaxBodyBytes:   64 << 10,
		RequestTimeout: 10 * time.Second,
		Now:            func() time.Time { return time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC) },
	})
	st.api = httptest.NewServer(api.Handler())
	st.client = &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	return st
}

// close shuts everything down, so a goroutine count afterwards means
// something.
func (st *stack) close() {
	st.api.Close()
	st.up.Close()
	st.client.CloseIdleConnections()
	st.upHTTP.CloseIdleConnections()
}

func (st *stack) openai() openai.Client {
	return openai.NewClient(option.WithBaseURL(st.api.URL+"/v1"), option.WithAPIKey("x"), option.WithMaxRetries(0),
		option.WithHTTPClient(st.client), option.WithRequestTimeout(10*time.Second))
}

// post sends body to /v1/chat/completions and returns the whole response.
func (st *stack) post(t *testing.T, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", st.api.URL+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := st.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if strings.Contains(string(raw), providerKey) || strings.Contains(fmt.Sprint(resp.Header), providerKey) {
		t.Errorf("the provider key reached the client")
	}
	return resp, string(raw)
}

func chatBody(model string, stream, usage bool) string {
	b := fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"say hi"}]`, model)
	if stream {
		b += `,"stream":true`
	}
	if usage {
		b += `,"stream_options":{"include_usage":true}`
	}
	return b + "}"
}
