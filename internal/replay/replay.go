// Package replay drives a running Switchyard with a labeled dataset's
// prompts over HTTP (/ask or /v1/chat/completions) and, when asked, posts
// each answer's recorded outcome to /feedback, so the learner can be fed
// from a dataset the way live traffic would feed it. It owns the driver,
// the choice of prompts (split, offset, limit) and the summary of a run;
// the command line lives in cmd/switchyard.
package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/datasets"
)

// RequestTimeout bounds one prompt's round trip to the service.
const RequestTimeout = 2 * time.Minute

// API names the endpoint a replay drives.
const (
	APIAsk  = "ask"  // POST /ask
	APIChat = "chat" // POST /v1/chat/completions
)

// Options say where and how fast a replay sends.
type Options struct {
	Target      *url.URL
	Feedback    bool    // post each answer's recorded score to /feedback
	Rate        float64 // prompts per second; 0 means as fast as Concurrency allows
	Concurrency int     // prompts in flight at once; below 1 means 1
	API         string  // APIAsk or APIChat
}

// CheckTarget accepts a loopback http(s) URL, or any host with
// allowRemote: replay generates load and must not be aimed at someone
// else's service by accident.
func CheckTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--target %q: want an http:// or https:// URL", raw)
	}
	if allowRemote {
		return u, nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return u, nil
	}
	return nil, fmt.Errorf("--target %q is not on this machine; pass --allow-remote to drive it", raw)
}

// Selection says which of a dataset's prompts a replay sends.
type Selection struct {
	Split     string  // datasets.SplitTrain, datasets.SplitTest or "all"
	TrainFrac float64 // share of train when the dataset fixes no split
	Seed      uint64  // seed of that split
	Offset    int     // prompts of the split to skip first
	Limit     int     // 0 means the rest of the split
}

// Select returns the items of s.Split (placed by datasets.Split, so a
// replay of train and an eval of test never share a prompt), less the
// first s.Offset, at most s.Limit of them.
func Select(items []datasets.Item, s Selection) []datasets.Item {
	items = SelectSplit(items, s.Split, s.TrainFrac, s.Seed)
	items = items[min(max(s.Offset, 0), len(items)):]
	if s.Limit > 0 && len(items) > s.Limit {
		items = items[:s.Limit]
	}
	return items
}

// SelectSplit keeps the items of split ("all" keeps every item).
func SelectSplit(items []datasets.Item, split string, trainFrac float64, seed uint64) []datasets.Item {
	if split == "all" {
		return items
	}
	train, test := datasets.Split(items, trainFrac, seed)
	if split == datasets.SplitTrain {
		return train
	}
	return test
}

// Summary is what a replay did.
type Summary struct {
	Sent             int            `json:"sent"`
	OK               int            `json:"ok"`
	Failed           int            `json:"failed"`
	FeedbackPosted   int            `json:"feedback_posted"`
	FeedbackFailed   int            `json:"feedback_failed"`
	NoOutcome        int            `json:"no_recorded_outcome"` // answered by a model the dataset has no outcome for
	CostUSD          float64        `json:"cost_usd"`
	MeanScore        float64        `json:"mean_score"` // the answering models' recorded scores, over answers that have one
	CallsByModel     map[string]int `json:"calls_by_model"`
	ElapsedSeconds   float64        `json:"elapsed_seconds"`
	FirstError       string         `json:"first_error,omitempty"`
	scored, scoreSum float64
}

// Print writes the summary as an aligned table, or as indented JSON.
func (s *Summary) Print(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "sent\t%d\n", s.Sent)
	fmt.Fprintf(tw, "ok\t%d\n", s.OK)
	fmt.Fprintf(tw, "failed\t%d\n", s.Failed)
	fmt.Fprintf(tw, "feedback posted\t%d\n", s.FeedbackPosted)
	if s.FeedbackFailed > 0 || s.NoOutcome > 0 {
		fmt.Fprintf(tw, "feedback failed\t%d\n", s.FeedbackFailed)
		fmt.Fprintf(tw, "no recorded outcome\t%d\n", s.NoOutcome)
	}
	fmt.Fprintf(tw, "total cost\t$%.6f\n", s.CostUSD)
	fmt.Fprintf(tw, "mean score\t%.4f\n", s.MeanScore)
	fmt.Fprintf(tw, "elapsed\t%.1fs\n", s.ElapsedSeconds)
	if s.FirstError != "" {
		fmt.Fprintf(tw, "first error\t%s\n", s.FirstError)
	}
	models := make([]string, 0, len(s.CallsByModel))
	for m := range s.CallsByModel {
		models = append(models, m)
	}
	sort.Strings(models)
	if len(models) > 0 {
		fmt.Fprintln(tw, "\nMODEL\tANSWERS")
		for _, m := range models {
			fmt.Fprintf(tw, "%s\t%d\n", m, s.CallsByModel[m])
		}
	}
	return tw.Flush()
}

// Run sends items to the service, at most o.Concurrency at once and
// o.Rate a second, and posts feedback when asked. It stops at the end of
// items or when ctx ends (returning ctx's error with what was done).
func Run(ctx context.Context, items []datasets.Item, o Options, client *http.Client) (*Summary, error) {
	start := time.Now()
	sum := &Summary{CallsByModel: map[string]int{}}
	limit := rate.NewLimiter(rate.Inf, 1)
	if o.Rate > 0 {
		limit = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		work = make(chan datasets.Item)
	)
	for range max(o.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				r := one(ctx, client, o, it)
				mu.Lock()
				sum.add(r)
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for _, it := range items {
		if err = limit.Wait(ctx); err != nil {
			break
		}
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	sum.ElapsedSeconds = time.Since(start).Seconds()
	if sum.scored > 0 {
		sum.MeanScore = sum.scoreSum / sum.scored
	}
	if ctx.Err() != nil {
		return sum, fmt.Errorf("replay interrupted after %d of %d prompts: %w", sum.Sent, len(items), ctx.Err())
	}
	return sum, nil
}

// result is what became of one prompt.
type result struct {
	answer answer // zero when the service did not answer
	score  float64
	scored bool // the dataset has an outcome for the answering model
	// fed says feedback was posted; err is the first thing that went
	// wrong, with the answer or with its feedback.
	fed bool
	err error
}

// one sends one prompt and, if asked and the dataset knows how the
// answering model did, posts that score as feedback.
func one(ctx context.Context, client *http.Client, o Options, it datasets.Item) result {
	a, err := send(ctx, client, o, it.Prompt)
	if err != nil {
		return result{err: err}
	}
	r := result{answer: a}
	out, ok := it.Outcomes[a.model]
	if !ok {
		return r
	}
	r.score, r.scored = out.Score, true
	if o.Feedback {
		r.err = postFeedback(ctx, client, o.Target, a.id, out.Score)
		r.fed = r.err == nil
	}
	return r
}

// add counts r.
func (s *Summary) add(r result) {
	s.Sent++
	if r.err != nil && s.FirstError == "" {
		s.FirstError = r.err.Error()
	}
	if r.answer.id == "" {
		s.Failed++
		return
	}
	s.OK++
	s.CostUSD += r.answer.costUSD
	s.CallsByModel[r.answer.model]++
	if !r.scored {
		s.NoOutcome++
		return
	}
	s.scored++
	s.scoreSum += r.score
	switch {
	case r.fed:
		s.FeedbackPosted++
	case r.err != nil:
		s.FeedbackFailed++
	}
}
