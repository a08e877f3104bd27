package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/replay"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/router"
)

// writeDataset writes items to a temporary JSON Lines file.
func writeDataset(t *testing.T, items []datasets.Item) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "replay.jsonl")
	var buf bytes.Buffer
	if err := datasets.Write(&buf, items); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayClosesTheLoop drives a real `switchyard serve` (demo upstream)
// with demo prompts and feedback: every prompt becomes one request row,
// and each row's feedback is the dataset's score of the model that
// answered it.
func TestReplayClosesTheLoop(t *testing.T) {
	demo, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	// Prompts unique after normalisation, so a row maps to one item.
	const n = 30
	byHash := map[string]datasets.Item{}
	var items []datasets.Item
	for _, it := range demo {
		h := router.HashPrompt(it.Prompt)
		if _, dup := byHash[h]; dup {
			continue
		}
		byHash[h] = it
		items = append(items, it)
		if len(items) == n {
			break
		}
	}
	path := writeDataset(t, items)

	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			in := startServe(t, dialect, 0)
			var out bytes.Buffer
			args := []string{"replay", "--dataset", path, "--target", in.url, "--feedback",
				"--rate", "0", "--concurrency", "4", "--json"}
			if err := run(context.Background(), args, func(string) string { return "" }, &out, io.Discard); err != nil {
				t.Fatalf("replay: %v\nserve stderr:\n%s", err, in.stderr)
			}
			var sum replay.Summary
			if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
				t.Fatalf("replay --json output %q: %v", out.String(), err)
			}
			if sum.Sent != n || sum.OK != n || sum.Failed != 0 || sum.FeedbackPosted != n || sum.NoOutcome != 0 {
				t.Errorf("summary = %+v, want %d sent, ok and fed back", sum, n)
			}
			in.shutdown(t) // flushes every record

			st := openTestStore(t, in.dbURL)
			ctx := context.Background()
			rows, err := st.CountRequests(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rows != n {
				t.Errorf("request rows = %d, want one per prompt (%d)", rows, n)
			}
			obs, err := st.Observations(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var fed int
			var scoreSum float64
			calls := map[string]int{}
			for _, ob := range obs {
				if ob.Source != router.SourceFeedback {
					continue
				}
				fed++
				rec, err := st.GetRequest(ctx, ob.RequestID)
				if err != nil {
					t.Fatal(err)
				}
				it, ok := byHash[rec.PromptHash]
				if !ok {
					t.Errorf("request %s: prompt not in the dataset", ob.RequestID)
					continue
				}
				want := it.Outcomes[rec.Model].Score
				if ob.Model != rec.Model || ob.Score != want || ob.Weight != router.DefaultOutcomeWeights().Feedback {
					t.Errorf("feedback of %s (%s) = %s %v weight %v, want %s %v", ob.RequestID, it.ID, ob.Model, ob.Score, ob.Weight, rec.Model, want)
				}
				scoreSum += want
				calls[rec.Model]++
			}
			if fed != n {
				t.Errorf("feedback observations = %d, want %d", fed, n)
			}
			if math.Abs(sum.MeanScore-scoreSum/n) > 1e-9 {
				t.Errorf("summary mean score = %v, want %v", sum.MeanScore, scoreSum/n)
			}
			for m, c := range calls {
				if sum.CallsByModel[m] != c {
					t.Errorf("summary calls of %s = %d, want %d", m, sum.CallsByModel[m], c)
				}
			}
		})
	}
}

// countingService answers /ask as switchyard would and counts the asks
// and the feedback; the driver's own behaviour is tested in
// internal/replay, this is only for the command line's wiring.
type countingService struct {
	mu             sync.Mutex
	asks, feedback int
}

func (f *countingService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/ask":
		f.asks++
		fmt.Fprintf(w, `{"id":"req_%d","response":"ok","metadata":{"model_used":"small","actual_cost":0.001}}`, f.asks)
	case "/feedback":
		f.feedback++
		fmt.Fprint(w, `{}`)
	default:
		http.NotFound(w, r)
	}
}

func replayItems(n int) []datasets.Item {
	items := make([]datasets.Item, n)
	for i := range items {
		items[i] = datasets.Item{ID: fmt.Sprint("p", i), Prompt: fmt.Sprint("prompt ", i),
			Outcomes: map[string]datasets.Outcome{"small": {Score: float64(i % 2)}}}
	}
	return items
}

// TestReplayLimitAndSplit runs the command: --limit reaches the driver,
// no feedback is posted without --feedback, and the summary is printed.
// (Which prompts a split, offset and limit select: internal/replay.)
func TestReplayLimitAndSplit(t *testing.T) {
	items := replayItems(200)
	f := &countingService{}
	ts := httptest.NewServer(f)
	defer ts.Close()
	path := writeDataset(t, items)
	var out bytes.Buffer
	args := []string{"replay", "--dataset", path, "--target", ts.URL, "--limit", "7", "--rate", "0"}
	if err := run(context.Background(), args, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	asks, fed := f.asks, f.feedback
	f.mu.Unlock()
	if asks != 7 || fed != 0 {
		t.Errorf("--limit 7 without --feedback: %d asks, %d feedback; want 7, 0", asks, fed)
	}
	for _, want := range []string{"sent", "7", "mean score", "MODEL", "small"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReplayCommandLine(t *testing.T) {
	path := writeDataset(t, replayItems(1))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://127.0.0.1:1"}, "--dataset is required"},
		{[]string{"--dataset", path}, "--target is required"},
		{[]string{"--dataset", path, "--target", "http://example.com"}, "not on this machine"},
		{[]string{"--dataset", path, "--target", "ftp://127.0.0.1"}, "want an http://"},
		{[]string{"--dataset", path, "--target", "http://127.0.0.1:1", "--split", "dev"}, `--split "dev"`},
		{[]string{"--dataset", path, "--target", "http://127.0.0.1:1", "--rate", "-1"}, "--rate must not be negative"},
		{[]string{"--dataset", path, "--target", "http://127.0.0.1:1", "--concurrency", "0"}, "--concurrency"},
		{[]string{"--dataset", path, "--target", "http://127.0.0.1:1", "--api", "grpc"}, `--api "grpc"`},
		{[]string{"--dataset", "/does/not/exist.jsonl", "--target", "http://localhost:1"}, "load dataset"},
		// Nothing listens on port 1: every prompt fails, and replay says so.
		{[]string{"--dataset", path, "--target", "http://[::1]:1", "--rate", "0"}, "all 1 prompts failed"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			err := run(context.Background(), append([]string{"replay"}, tt.args...), func(string) string { return "" }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("replay %v = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
