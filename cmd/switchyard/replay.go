package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/datasets"
)

// replayRequestTimeout bounds one prompt's round trip to the service.
const replayRequestTimeout = 2 * time.Minute

// replayOptions are replay's flags.
type replayOptions struct {
	dataset     string
	target      *url.URL
	feedback    bool
	rate        float64 // prompts per second; 0 means as fast as concurrency allows
	limit       int     // 0 means the whole split
	offset      int     // prompts of the split to skip first
	concurrency int
	split       string // train, test or all
	trainFrac   float64
	seed        uint64
	api         string // ask or chat
	json        bool
}

func replayCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var o replayOptions
	fs.StringVar(&o.dataset, "dataset", "", "labeled dataset (.jsonl or .jsonl.gz) whose prompts to send")
	target := fs.String("target", "", "base URL of a running switchyard (e.g. http://127.0.0.1:8080)")
	fs.BoolVar(&o.feedback, "feedback", false, "post each answer's recorded outcome (the answering model's dataset score) to /feedback")
	fs.Float64Var(&o.rate, "rate", 20, "prompts per second at most (0: no limit beyond --concurrency)")
	fs.IntVar(&o.limit, "limit", 0, "send at most this many prompts (0: all of the split)")
	fs.IntVar(&o.offset, "offset", 0, "skip this many prompts of the split first (replay a split in batches)")
	fs.IntVar(&o.concurrency, "concurrency", 4, "prompts in flight at once")
	fs.StringVar(&o.split, "split", "all", "which prompts: train, test or all")
	fs.Float64Var(&o.trainFrac, "train-frac", 0.5, "share of prompts in train when the dataset fixes no split")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the train/test split when the dataset fixes none")
	fs.StringVar(&o.api, "api", "ask", "endpoint to drive: ask (/ask) or chat (/v1/chat/completions)")
	allowRemote := fs.Bool("allow-remote", false, "allow a target that is not on this machine (it is a load tool)")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("replay: unexpected argument %q", fs.Arg(0))}
	}
	switch {
	case o.dataset == "":
		return usageError{"replay: --dataset is required"}
	case *target == "":
		return usageError{"replay: --target is required"}
	case o.rate < 0:
		return usageError{"replay: --rate must not be negative"}
	case o.limit < 0:
		return usageError{"replay: --limit must not be negative"}
	case o.offset < 0:
		return usageError{"replay: --offset must not be negative"}
	case o.concurrency < 1 || o.concurrency > 1024:
		return usageError{"replay: --concurrency must be between 1 and 1024"}
	case o.split != "train" && o.split != "test" && o.split != "all":
		return usageError{fmt.Sprintf("replay: --split %q: want train, test or all", o.split)}
	case o.trainFrac < 0 || o.trainFrac > 1:
		return usageError{"replay: --train-frac must be between 0 and 1"}
	case o.api != "ask" && o.api != "chat":
		return usageError{fmt.Sprintf("replay: --api %q: want ask or chat", o.api)}
	}
	u, err := checkTarget(*target, *allowRemote)
	if err != nil {
		return usageError{"replay: " + err.Error()}
	}
	o.target = u

	items, err := datasets.Load(o.dataset)
	if err != nil {
		return fmt.Errorf("load dataset: %w", err)
	}
	items = selectSplit(items, o.split, o.trainFrac, o.seed)
	items = items[min(o.offset, len(items)):]
	if o.limit > 0 && len(items) > o.limit {
		items = items[:o.limit]
	}
	sum, err := replay(ctx, items, o, &http.Client{Timeout: replayRequestTimeout})
	if perr := sum.print(stdout, o.json); perr != nil {
		return perr
	}
	if err != nil {
		return err
	}
	if sum.Sent > 0 && sum.OK == 0 {
		return fmt.Errorf("replay: all %d prompts failed (first error: %s)", sum.Sent, sum.FirstError)
	}
	return nil
}

// checkTarget accepts a loopback http(s) URL, or any host with
// allowRemote: replay generates load and must not be aimed at someone
// else's service by accident.
func checkTarget(raw string, allowRemote bool) (*url.URL, error) {
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

// selectSplit keeps the items of split, placed by datasets.SplitOf, so
// a replay of train and an eval of test never share a prompt.
func selectSplit(items []datasets.Item, split string, trainFrac float64, seed uint64) []datasets.Item {
	if split == "all" {
		return items
	}
	train, test := datasets.Split(items, trainFrac, seed)
	if split == datasets.SplitTrain {
		return train
	}
	return test
}

// replaySummary is what a replay did.
type replaySummary struct {
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

func (s *replaySummary) print(w io.Writer, asJSON bool) error {
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

// answer is what the service said about one prompt.
type answer struct {
	id      string
	model   string
	costUSD float64
}

// replay sends items to the service, at most o.concurrency at once and
// o.rate a second, and posts feedback when asked. It stops at the end of
// items or when ctx ends (returning ctx's error with what was done).
func replay(ctx context.Context, items []datasets.Item, o replayOptions, client *http.Client) (*replaySummary, error) {
	start := time.Now()
	sum := &replaySummary{CallsByModel: map[string]int{}}
	limit := rate.NewLimiter(rate.Inf, 1)
	if o.rate > 0 {
		limit = rate.NewLimiter(rate.Limit(o.rate), 1)
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		work = make(chan datasets.Item)
	)
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				r := replayOne(ctx, client, o, it)
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

// promptResult is what became of one prompt.
type promptResult struct {
	answer answer // zero when the service did not answer
	score  float64
	scored bool // the dataset has an outcome for the answering model
	// fed says feedback was posted; err is the first thing that went
	// wrong, with the answer or with its feedback.
	fed bool
	err error
}

// replayOne sends one prompt and, if asked and the dataset knows how
// the answering model did, posts that score as feedback.
func replayOne(ctx context.Context, client *http.Client, o replayOptions, it datasets.Item) promptResult {
	a, err := send(ctx, client, o, it.Prompt)
	if err != nil {
		return promptResult{err: err}
	}
	r := promptResult{answer: a}
	out, ok := it.Outcomes[a.model]
	if !ok {
		return r
	}
	r.score, r.scored = out.Score, true
	if o.feedback {
		r.err = postFeedback(ctx, client, o.target, a.id, out.Score)
		r.fed = r.err == nil
	}
	return r
}

// add counts r.
func (s *replaySummary) add(r promptResult) {
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

// send posts one prompt to /ask or /v1/chat/completions; a non-2xx
// answer is an error and an empty answer.
func send(ctx context.Context, client *http.Client, o replayOptions, prompt string) (answer, error) {
	if o.api == "chat" {
		body := map[string]any{"model": "auto", "messages": []map[string]string{{"role": "user", "content": prompt}}}
		resp, err := postJSONTo(ctx, client, o.target.JoinPath("/v1/chat/completions"), body)
		if err != nil {
			return answer{}, err
		}
		defer resp.Body.Close()
		if err := checkStatus(resp); err != nil {
			return answer{}, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		cost, _ := strconv.ParseFloat(resp.Header.Get("x-switchyard-cost-usd"), 64)
		a := answer{id: resp.Header.Get("x-switchyard-request-id"), model: resp.Header.Get("x-switchyard-model"), costUSD: cost}
		if a.id == "" {
			return answer{}, errors.New("chat completion: no x-switchyard-request-id header")
		}
		return a, nil
	}
	resp, err := postJSONTo(ctx, client, o.target.JoinPath("/ask"), map[string]string{"prompt": prompt})
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return answer{}, err
	}
	var out struct {
		ID       string `json:"id"`
		Metadata struct {
			ModelUsed  string  `json:"model_used"`
			ActualCost float64 `json:"actual_cost"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return answer{}, fmt.Errorf("ask: decode answer: %w", err)
	}
	if out.ID == "" {
		return answer{}, errors.New("ask: answer without an id")
	}
	return answer{id: out.ID, model: out.Metadata.ModelUsed, costUSD: out.Metadata.ActualCost}, nil
}

func postFeedback(ctx context.Context, client *http.Client, target *url.URL, id string, score float64) error {
	resp, err := postJSONTo(ctx, client, target.JoinPath("/feedback"), map[string]any{"id": id, "score": score})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return fmt.Errorf("feedback for %s: %w", id, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func postJSONTo(ctx context.Context, client *http.Client, u *url.URL, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", u.Path, err)
	}
	return resp, nil
}

// checkStatus turns a non-2xx response into an error carrying the
// service's error message.
func checkStatus(resp *http.Response) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var env struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &env) == nil && env.Error.Message != "" {
		msg = env.Error.Message
	}
	return fmt.Errorf("%s %s: %s", resp.Request.URL.Path, resp.Status, msg)
}
