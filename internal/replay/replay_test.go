package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/datasets"
)

// fakeService answers /ask or /v1/chat/completions as switchyard would,
// and counts feedback.
type fakeService struct {
	mu       sync.Mutex
	asks     int
	feedback map[string]float64
	failAsk  bool
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/ask", "/v1/chat/completions":
		f.asks++
		if f.failAsk {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, `{"error":{"message":"every candidate model failed"}}`)
			return
		}
		id := fmt.Sprintf("req_%d", f.asks)
		if r.URL.Path == "/ask" {
			fmt.Fprintf(w, `{"id":%q,"response":"ok","metadata":{"model_used":"small","actual_cost":0.001}}`, id)
			return
		}
		w.Header().Set("x-switchyard-request-id", id)
		w.Header().Set("x-switchyard-model", "small")
		w.Header().Set("x-switchyard-cost-usd", "0.001000")
		fmt.Fprint(w, `{"id":"chatcmpl-1","choices":[]}`)
	case "/feedback":
		var fb struct {
			ID    string  `json:"id"`
			Score float64 `json:"score"`
		}
		_ = json.NewDecoder(r.Body).Decode(&fb)
		f.feedback[fb.ID] = fb.Score
		fmt.Fprint(w, `{}`)
	default:
		http.NotFound(w, r)
	}
}

// counts returns the asks and feedback seen so far.
func (f *fakeService) counts() (asks, feedback int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asks, len(f.feedback)
}

func items(n int) []datasets.Item {
	items := make([]datasets.Item, n)
	for i := range items {
		items[i] = datasets.Item{ID: fmt.Sprint("p", i), Prompt: fmt.Sprint("prompt ", i),
			Outcomes: map[string]datasets.Outcome{"small": {Score: float64(i % 2)}}}
	}
	return items
}

func TestReplayAPIs(t *testing.T) {
	for _, api := range []string{APIAsk, APIChat} {
		t.Run(api, func(t *testing.T) {
			f := &fakeService{feedback: map[string]float64{}}
			ts := httptest.NewServer(f)
			defer ts.Close()
			u, _ := url.Parse(ts.URL)
			o := Options{Target: u, Feedback: true, Concurrency: 3, API: api}
			sum, err := Run(context.Background(), items(10), o, ts.Client())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Sent != 10 || sum.OK != 10 || sum.FeedbackPosted != 10 || sum.CallsByModel["small"] != 10 || sum.MeanScore != 0.5 {
				t.Errorf("summary = %+v", sum)
			}
			if math.Abs(sum.CostUSD-0.01) > 1e-9 {
				t.Errorf("cost = %v, want 0.01", sum.CostUSD)
			}
			if _, fed := f.counts(); fed != 10 {
				t.Errorf("feedback posted for %d requests, want 10", fed)
			}
		})
	}
}

func TestReplayFailuresAndNoFeedback(t *testing.T) {
	f := &fakeService{feedback: map[string]float64{}, failAsk: true}
	ts := httptest.NewServer(f)
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	sum, err := Run(context.Background(), items(4), Options{Target: u, Feedback: true, Concurrency: 1, API: APIAsk}, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 4 || sum.Failed != 4 || sum.OK != 0 || sum.FeedbackPosted != 0 || !strings.Contains(sum.FirstError, "every candidate model failed") {
		t.Errorf("summary = %+v, want 4 failures naming the service's error", sum)
	}
}

func TestReplayStopsOnCancel(t *testing.T) {
	f := &fakeService{feedback: map[string]float64{}}
	ts := httptest.NewServer(f)
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// One prompt a minute: without cancellation this would never end.
	sum, err := Run(ctx, items(100), Options{Target: u, Rate: 1.0 / 60, Concurrency: 2, API: APIAsk}, ts.Client())
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("replay with a cancelled ctx = %v, want interrupted", err)
	}
	if asks, _ := f.counts(); sum.Sent != 0 || asks != 0 {
		t.Errorf("sent %d, service saw %d; want nothing after cancellation", sum.Sent, asks)
	}
}

func TestSelectSplit(t *testing.T) {
	items := items(200)
	items[0].Split, items[1].Split = "test", "train"
	train := SelectSplit(items, "train", 0.5, 7)
	test := SelectSplit(items, "test", 0.5, 7)
	if len(train)+len(test) != len(items) {
		t.Fatalf("train %d + test %d != %d", len(train), len(test), len(items))
	}
	if len(train) < 70 || len(train) > 130 {
		t.Errorf("train share %d of 200, want about half", len(train))
	}
	seen := map[string]string{}
	for _, it := range train {
		seen[it.ID] = "train"
	}
	for _, it := range test {
		if seen[it.ID] != "" {
			t.Errorf("%s in both splits", it.ID)
		}
	}
	if seen["p0"] != "" || seen["p1"] != "train" {
		t.Errorf("fixed splits ignored: p0 %q, p1 %q", seen["p0"], seen["p1"])
	}
	if again := SelectSplit(items, "train", 0.5, 7); len(again) != len(train) || again[2].ID != train[2].ID {
		t.Error("the split is not deterministic for a seed")
	}
	if all := SelectSplit(items, "all", 0.5, 7); len(all) != 200 {
		t.Errorf("all = %d items, want 200", len(all))
	}
}

func TestSelectOffsetAndLimit(t *testing.T) {
	all := items(10)
	tests := []struct {
		name      string
		sel       Selection
		wantFirst string
		wantN     int
	}{
		{"everything", Selection{Split: "all"}, "p0", 10},
		{"limit", Selection{Split: "all", Limit: 3}, "p0", 3},
		{"offset", Selection{Split: "all", Offset: 4}, "p4", 6},
		{"offset and limit", Selection{Split: "all", Offset: 4, Limit: 2}, "p4", 2},
		{"offset past the end", Selection{Split: "all", Offset: 20}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Select(all, tt.sel)
			if len(got) != tt.wantN {
				t.Fatalf("len = %d, want %d", len(got), tt.wantN)
			}
			if tt.wantN > 0 && got[0].ID != tt.wantFirst {
				t.Errorf("first = %s, want %s", got[0].ID, tt.wantFirst)
			}
		})
	}
}

func TestCheckTarget(t *testing.T) {
	tests := []struct {
		raw         string
		allowRemote bool
		wantErr     string
	}{
		{"http://127.0.0.1:8080", false, ""},
		{"http://localhost:1", false, ""},
		{"https://[::1]:1", false, ""},
		{"http://example.com", false, "not on this machine"},
		{"http://example.com", true, ""},
		{"ftp://127.0.0.1", false, "want an http://"},
		{"127.0.0.1:8080", true, "want an http://"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := CheckTarget(tt.raw, tt.allowRemote)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("CheckTarget(%q, %v) = %v, want error containing %q", tt.raw, tt.allowRemote, err, tt.wantErr)
			}
		})
	}
}

func TestSummaryPrint(t *testing.T) {
	s := &Summary{Sent: 2, OK: 2, CallsByModel: map[string]int{"big": 1, "small": 1}, MeanScore: 0.5}
	var text strings.Builder
	if err := s.Print(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sent", "mean score", "0.5000", "MODEL", "big", "small"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.String())
		}
	}
	var js strings.Builder
	if err := s.Print(&js, true); err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil || back.Sent != 2 || back.CallsByModel["big"] != 1 {
		t.Errorf("JSON summary %s = %+v, %v", js.String(), back, err)
	}
}
