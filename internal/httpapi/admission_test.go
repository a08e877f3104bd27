package httpapi

import (
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

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/faketest"
	"github.com/switchyard/switchyard/internal/provider"
	"github.com/switchyard/switchyard/router"
)

// gatedClassifier holds every request in classification until release
// is closed, so a test controls how many are in flight.
type gatedClassifier struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gatedClassifier) Classify(ctx context.Context, prompt router.Prompt) (router.Analysis, error) {
	g.entered <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return router.Analysis{}, ctx.Err()
	}
	return router.Analysis{Complexity: router.Simple, EstimatedTokens: 5, Tier: router.TierHeuristic}, nil
}

// newAdmissionStack is the whole path (gin, router.Service, provider
// client, fake upstream) with admission bounded at limit.
func newAdmissionStack(t *testing.T, limit int, cl router.Classifier) (*Server, *httptest.Server, *memRecorder) {
	t.Helper()
	up := faketest.New()
	t.Cleanup(up.Close)
	rec := &memRecorder{}
	p := provider.New(config.Provider{Name: "fake", BaseURL: up.URL + "/v1", APIKey: providerKey}, provider.Options{})
	svc, err := router.NewService(router.Options{
		Models:     router.Catalog{"ok-a": {Name: "ok-a", Provider: "fake", InputPerMTok: 1, OutputPerMTok: 2}},
		Completers: map[string]router.Completer{"fake": p},
		Classifier: cl,
		Recorder:   rec,
		Baseline:   "ok-a",
		Version:    router.Version{ID: 1, Table: router.Table{router.Simple: {"ok-a"}, router.Moderate: {"ok-a"}, router.Complex: {"ok-a"}}, Status: router.StatusActive},
		Timeout:    5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	api := New(Options{Router: svc, Spend: fixedSpend{}, Baseline: "ok-a", MaxInFlight: limit, RequestTimeout: 10 * time.Second})
	ts := httptest.NewServer(api.Handler())
	t.Cleanup(ts.Close)
	return api, ts, rec
}

type reply struct {
	code       int
	retryAfter string
	body       string
	err        error
}

func send(client *http.Client, url, body string) reply {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(raw), err: err}
}

// TestAdmissionRefusesOverTheBound: with the bound reached, the next
// routed request is refused at once (while the others are still held,
// so it was not queued) in OpenAI's error shape with Retry-After; the
// requests in flight then finish, health checks are never refused, and
// a freed slot admits again.
func TestAdmissionRefusesOverTheBound(t *testing.T) {
	g := &gatedClassifier{entered: make(chan struct{}, 8), release: make(chan struct{})}
	api, ts, rec := newAdmissionStack(t, 2, g)
	client := &http.Client{Timeout: 10 * time.Second}

	held := make(chan reply, 2)
	go func() { held <- send(client, ts.URL+"/ask", `{"prompt":"one"}`) }()
	go func() { held <- send(client, ts.URL+"/v1/chat/completions", chatBody("auto", true, false)) }()
	<-g.entered
	<-g.entered

	for _, path := range []string{"/ask", "/v1/chat/completions"} {
		r := send(client, ts.URL+path, chatBody("auto", false, false))
		if r.err != nil || r.code != http.StatusServiceUnavailable {
			t.Fatalf("%s over the bound: status %d, err %v, body %s; want 503", path, r.code, r.err, r.body)
		}
		if r.retryAfter != "1" {
			t.Errorf("%s: Retry-After = %q, want 1", path, r.retryAfter)
		}
		var env struct {
			Error struct {
				Message, Type, Code string
				Param               *string
			}
		}
		if err := json.Unmarshal([]byte(r.body), &env); err != nil || env.Error.Type != "server_error" || env.Error.Code != "overloaded" || !strings.Contains(env.Error.Message, "max_in_flight") {
			t.Errorf("%s: body %s (err %v), want OpenAI's error envelope, code overloaded, naming server.max_in_flight", path, r.body, err)
		}
	}
	if r := send(client, ts.URL+"/healthz", ""); r.code == http.StatusServiceUnavailable {
		t.Errorf("/healthz refused by admission control")
	}
	if got := api.InFlight(); got != 2 {
		t.Errorf("InFlight = %d while two are held, want 2", got)
	}

	close(g.release)
	for range 2 {
		if r := <-held; r.err != nil || r.code != http.StatusOK {
			t.Errorf("request in flight: status %d, err %v, body %s; want 200", r.code, r.err, r.body)
		}
	}
	if r := send(client, ts.URL+"/ask", `{"prompt":"after"}`); r.code != http.StatusOK {
		t.Errorf("after the burst: status %d, body %s; want 200", r.code, r.body)
	}
	if got := api.Refused(); got != 2 {
		t.Errorf("Refused = %d, want 2", got)
	}
	if got := api.InFlight(); got != 0 {
		t.Errorf("InFlight = %d after every request returned, want 0", got)
	}
	if got := len(rec.wait(3)); got != 3 {
		t.Errorf("records = %d, want the 3 accepted", got)
	}
}

// TestAdmissionLosesNothingAccepted: a burst far over the bound gets
// only 200s and 503s, exactly the bound's worth is accepted, and every
// accepted request is recorded.
func TestAdmissionLosesNothingAccepted(t *testing.T) {
	const limit, burst = 4, 40
	g := &gatedClassifier{entered: make(chan struct{}, burst), release: make(chan struct{})}
	api, ts, rec := newAdmissionStack(t, limit, g)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: burst}}

	replies := make(chan reply, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			replies <- send(client, ts.URL+"/v1/chat/completions", fmt.Sprintf(`{"model":"auto","messages":[{"role":"user","content":"prompt %d"}]}`, i))
		})
	}
	// Every request beyond the bound returns while the bound's worth are
	// held in classification.
	for range burst - limit {
		if r := <-replies; r.err != nil || r.code != http.StatusServiceUnavailable {
			t.Fatalf("burst: status %d, err %v, body %s; want 503 while %d are held", r.code, r.err, r.body, limit)
		}
	}
	close(g.release)
	wg.Wait()
	close(replies)
	accepted := 0
	for r := range replies {
		if r.err != nil || r.code != http.StatusOK {
			t.Errorf("held request: status %d, err %v, body %s; want 200", r.code, r.err, r.body)
			continue
		}
		accepted++
	}
	if accepted != limit || api.Refused() != burst-limit {
		t.Errorf("accepted %d, refused %d; want %d and %d", accepted, api.Refused(), limit, burst-limit)
	}
	if got := len(rec.wait(accepted)); got != accepted {
		t.Errorf("records = %d, want one per accepted request (%d)", got, accepted)
	}
}
