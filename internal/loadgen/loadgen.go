// Package loadgen is an open-loop HTTP load generator for the overhead
// benchmark (cmd/loadgen, scripts/bench-overhead.sh). Open loop means
// requests leave on a fixed schedule whatever the server's speed, and
// each latency is measured from the request's scheduled time, so a
// server that stalls is charged for the queue it causes (no coordinated
// omission). Every run is bounded in time and in request count.
package loadgen

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"time"
)

// Options configure one run against one URL.
type Options struct {
	URL string
	// Body returns the i-th request's JSON body.
	Body func(i int) []byte
	// Rate is requests per second on a fixed schedule; zero means
	// saturation: Conns workers each sending the next request as soon as
	// the last one answered.
	Rate float64
	// Conns bounds the client's connections (and, at saturation, is the
	// number of workers); default 64.
	Conns int
	// Duration bounds the run's sending; MaxRequests bounds its count
	// (default Rate × Duration, or 1,000,000 at saturation).
	Duration    time.Duration
	MaxRequests int
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
}

// Result is what a run observed. Latencies are sorted.
type Result struct {
	Sent     int
	OK       int           // 2xx
	Refused  int           // 429 and 503: shed load
	Failed   int           // other statuses and transport errors
	Elapsed  time.Duration // first scheduled send to last answer
	Latency  []time.Duration
	RefusedL []time.Duration
	// Service holds, for answered and refused requests, the time from
	// the client having a connection to the whole answer read: the
	// server's part, without the time a request waited in the client
	// for a connection (which grows without bound when the offered rate
	// exceeds what the machine can send).
	Service        []time.Duration
	RefusedService []time.Duration
}

// Throughput is the answered (2xx) requests per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// SuccessShare is OK over Sent.
func (r Result) SuccessShare() float64 {
	if r.Sent == 0 {
		return 0
	}
	return float64(r.OK) / float64(r.Sent)
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted
// latencies by the nearest-rank method; zero for none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Run drives opts.URL and returns what it saw once every request sent
// has answered or timed out.
func Run(ctx context.Context, opts Options) Result {
	if opts.Conns <= 0 {
		opts.Conns = 64
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxRequests <= 0 {
		opts.MaxRequests = 1_000_000
		if opts.Rate > 0 {
			opts.MaxRequests = max(1, int(opts.Rate*opts.Duration.Seconds()))
		}
	}
	tr := &http.Transport{MaxConnsPerHost: opts.Conns, MaxIdleConnsPerHost: opts.Conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: opts.Timeout}

	var (
		mu  sync.Mutex
		res Result
	)
	observe := func(scheduled time.Time, service time.Duration, code int, err error) {
		d := time.Since(scheduled)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			res.Failed++
		case code >= 200 && code < 300:
			res.OK++
			res.Latency = append(res.Latency, d)
			res.Service = append(res.Service, service)
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			res.Refused++
			res.RefusedL = append(res.RefusedL, d)
			res.RefusedService = append(res.RefusedService, service)
		default:
			res.Failed++
		}
	}
	send := func(i int, scheduled time.Time) {
		code, service, err := post(ctx, client, opts.URL, opts.Body(i))
		observe(scheduled, service, code, err)
	}

	start := time.Now()
	deadline := start.Add(opts.Duration)
	var wg sync.WaitGroup
	if opts.Rate > 0 {
		interval := time.Duration(float64(time.Second) / opts.Rate)
		for i := 0; i < opts.MaxRequests; i++ {
			at := start.Add(time.Duration(i) * interval)
			if at.After(deadline) || ctx.Err() != nil {
				break
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			res.Sent++
			wg.Go(func() { send(i, at) })
		}
	} else {
		var next sync.Mutex
		n := 0
		for range opts.Conns {
			wg.Go(func() {
				for {
					next.Lock()
					i := n
					if i >= opts.MaxRequests || time.Now().After(deadline) || ctx.Err() != nil {
						next.Unlock()
						return
					}
					n++
					next.Unlock()
					send(i, time.Now())
				}
			})
		}
		wg.Wait()
		res.Sent = n
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latency)
	slices.Sort(res.RefusedL)
	slices.Sort(res.Service)
	slices.Sort(res.RefusedService)
	return res
}

// post sends body and reads the whole answer, so the connection is
// reused and the server's last byte is part of the latency. service is
// the time from having a connection to the last byte.
func post(ctx context.Context, client *http.Client, url string, body []byte) (code int, service time.Duration, err error) {
	var got time.Time
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { got = time.Now() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, 0, err
	}
	return resp.StatusCode, time.Since(got), nil
}
