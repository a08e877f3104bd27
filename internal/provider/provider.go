// Package provider talks to LLM providers: one openai-go client per
// configured OpenAI-compatible endpoint (OpenAI, Anthropic's compatible
// endpoint, Groq, Ollama, vLLM), throttled per provider, with the SDK's
// own retries off because Switchyard decides when to retry or escalate.
package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"golang.org/x/time/rate"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/router"
)

// Client runs calls against one provider. It implements router.Completer.
type Client struct {
	name    string
	kind    string
	api     openai.Client
	limiter *rate.Limiter // nil: no request rate limit
	slots   chan struct{} // nil: no concurrency limit
	log     *slog.Logger
}

var _ router.Completer = (*Client)(nil)

// Options tune a Client.
type Options struct {
	// HTTPClient carries the calls; nil means a client with sane
	// transport timeouts.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// New returns a client for p.
func New(p config.Provider, opts Options) *Client {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:                 nil, // upstream addresses come from configuration only
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 0, // bounded by the attempt's context instead
		}}
	}
	key := p.APIKey
	if key == "" {
		// Local servers need none, but the SDK wants a value; never let it
		// fall back to OPENAI_API_KEY from the environment.
		key = "none"
	}
	c := &Client{
		name: p.Name,
		kind: p.Kind,
		api: openai.NewClient(
			option.WithBaseURL(p.BaseURL),
			option.WithAPIKey(key),
			option.WithHTTPClient(hc),
			option.WithMaxRetries(0), // Switchyard owns retries and escalation
			option.WithHeaderDel("OpenAI-Organization"),
			option.WithHeaderDel("OpenAI-Project"),
		),
		log: opts.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if p.RequestsPerMinute > 0 {
		burst := max(1, p.RequestsPerMinute/60)
		c.limiter = rate.NewLimiter(rate.Limit(float64(p.RequestsPerMinute)/60), burst)
	}
	if p.MaxConcurrency > 0 {
		c.slots = make(chan struct{}, p.MaxConcurrency)
	}
	return c
}

// Name is the provider's configured name.
func (c *Client) Name() string { return c.name }

// API returns the underlying openai-go client, for callers that need
// features beyond router.Call (the classifier's forced tool call).
func (c *Client) API() openai.Client { return c.api }

// Complete runs call, waiting for the provider's throttle first. Errors
// are *router.CallError whose Message is safe to show clients.
func (c *Client) Complete(ctx context.Context, call router.Call) (router.Reply, error) {
	release, err := c.acquire(ctx)
	if err != nil {
		return router.Reply{}, err
	}
	defer release()

	resp, err := c.api.Chat.Completions.New(ctx, c.newParams(call))
	if err != nil {
		return router.Reply{}, c.callError(ctx, err)
	}
	reply := router.Reply{
		PromptTokens:     int(resp.Usage.PromptTokens),
		CompletionTokens: int(resp.Usage.CompletionTokens),
	}
	if len(resp.Choices) == 0 {
		return reply, &router.CallError{Outcome: router.OutcomeEmpty, Message: "provider returned no choices"}
	}
	c0 := resp.Choices[0]
	reply = replyOf(c0.Message, json.RawMessage(c0.Logprobs.RawJSON()), reply)
	reply.FinishReason = c0.FinishReason
	return reply, nil
}

// Acquire waits for the provider's throttle (a rate-limit token and a
// concurrency slot) on behalf of a call made outside Complete and Stream,
// such as the classifier's; release must be called when the call ends.
func (c *Client) Acquire(ctx context.Context) (release func(), err error) { return c.acquire(ctx) }

// acquire waits for a rate-limit token and a concurrency slot.
func (c *Client) acquire(ctx context.Context) (release func(), err error) {
	if c.limiter != nil {
		// Wait fails at once when the wait would outlast ctx's deadline, so
		// a throttled provider escalates instead of queueing forever.
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, &router.CallError{Outcome: router.OutcomeSkipped, Message: "provider throttled (requests_per_minute)", Err: err}
		}
	}
	if c.slots == nil {
		return func() {}, nil
	}
	select {
	case c.slots <- struct{}{}:
		return func() { <-c.slots }, nil
	case <-ctx.Done():
		return nil, &router.CallError{Outcome: router.OutcomeSkipped, Message: "provider throttled (max_concurrency)", Err: ctx.Err()}
	}
}

// callError maps an SDK error to what the executor needs. The SDK's error
// text includes the request URL, so it goes only into Err (logs), never
// into Message.
func (c *Client) callError(ctx context.Context, err error) *router.CallError {
	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr):
		ce := &router.CallError{Outcome: router.OutcomeError, StatusCode: apiErr.StatusCode, Err: err}
		if apiErr.Response != nil {
			ce.RetryAfter = RetryAfter(apiErr.Response.Header, time.Now())
		}
		switch code := apiErr.StatusCode; {
		case code == http.StatusTooManyRequests:
			ce.Message = "provider rate limit (429)"
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			ce.Message = fmt.Sprintf("provider %s rejected its credentials (%d)", c.name, code)
		case code >= 500:
			ce.Message = fmt.Sprintf("provider error (%d)", code)
		default:
			ce.Message = fmt.Sprintf("provider refused the request (%d)", code)
			if apiErr.Message != "" {
				ce.Message += ": " + truncate(apiErr.Message, 200)
			}
		}
		return ce
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &router.CallError{Outcome: router.OutcomeTimeout, Message: "provider did not answer in time", Err: err}
	case ctx.Err() != nil:
		return &router.CallError{Outcome: router.OutcomeCancelled, Message: "request cancelled", Err: err}
	default:
		return &router.CallError{Outcome: router.OutcomeError, Message: "provider unreachable", Err: err}
	}
}

// RetryAfter reads how long a provider asks to be left alone:
// retry-after-ms (OpenAI's, fractional milliseconds), else Retry-After as
// seconds or an HTTP date. Absent, negative or unreadable values give 0;
// the caller decides what a huge value means.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 1e9 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// truncate cuts s to at most n bytes on a character boundary: half a
// character is invalid UTF-8, which PostgreSQL refuses in the record.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
