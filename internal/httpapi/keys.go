package httpapi

import (
	"crypto/subtle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

// KeyGate authenticates API keys and admits their requests; *keys.Gate
// implements it.
type KeyGate interface {
	// Authenticate returns the live key an Authorization header carries,
	// or a 401 Refusal.
	Authenticate(header string) (keys.Key, *keys.Refusal)
	// Admit counts a request against k's limits, or returns a 429
	// Refusal naming the limit.
	Admit(k keys.Key) (*keys.Admission, *keys.Refusal)
}

// Context keys under which the key middleware leaves its findings.
const (
	ctxKey       = "switchyard.key"
	ctxAdmission = "switchyard.admission"
)

// maxCostHeader caps one request's expected cost, in USD.
const maxCostHeader = "x-switchyard-max-cost"

// requireKey authenticates the request's API key: required when
// RequireKeys is on, otherwise honoured when sent (so spend is still
// attributed) and a bad Switchyard key still refused; a bearer token
// that is not a Switchyard key at all (OpenAI SDKs always send one, a
// placeholder or OPENAI_API_KEY) is then ignored, so the SDKs work
// unchanged against a server without keys. With admit, the key's limits
// and budget are checked too and its in-flight slot held until the
// handler returns.
func (s *Server) requireKey(admit bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		if s.opts.Keys == nil || !s.opts.RequireKeys && !keys.ClaimsKey(header) {
			c.Next()
			return
		}
		k, refusal := s.opts.Keys.Authenticate(header)
		if refusal != nil {
			writeRefusal(c, refusal)
			return
		}
		c.Set(ctxKey, k)
		if !admit {
			c.Next()
			return
		}
		a, refusal := s.opts.Keys.Admit(k)
		if refusal != nil {
			rateLimitHeaders(c.Writer.Header(), k, nil, refusal)
			writeRefusal(c, refusal)
			return
		}
		defer a.Done()
		rateLimitHeaders(c.Writer.Header(), k, a, nil)
		c.Set(ctxAdmission, a)
		c.Next()
	}
}

// writeRefusal answers a gate's refusal in OpenAI's envelope.
func writeRefusal(c *gin.Context, r *keys.Refusal) {
	if r.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(r.RetryAfter.Seconds()))))
	}
	if r.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="switchyard"`)
	}
	// param names the limit hit (requests, tokens, in_flight, budget).
	c.AbortWithStatusJSON(r.Status, errorBody(r.Message, r.Type, r.Limit, r.Code))
}

// rateLimitHeaders are OpenAI's x-ratelimit-* headers for the key's
// per-minute limits.
func rateLimitHeaders(h http.Header, k keys.Key, a *keys.Admission, r *keys.Refusal) {
	reset := ""
	if a != nil {
		reset = durationHeader(a.Reset)
	} else if r != nil && (r.Limit == "requests" || r.Limit == "tokens") {
		reset = durationHeader(r.RetryAfter)
	}
	if k.RPM > 0 {
		h.Set("x-ratelimit-limit-requests", strconv.FormatInt(k.RPM, 10))
		remaining := int64(0)
		if a != nil {
			remaining = a.RemainingRequests
		}
		h.Set("x-ratelimit-remaining-requests", strconv.FormatInt(remaining, 10))
		if reset != "" {
			h.Set("x-ratelimit-reset-requests", reset)
		}
	}
	if k.TPM > 0 {
		h.Set("x-ratelimit-limit-tokens", strconv.FormatInt(k.TPM, 10))
		remaining := int64(0)
		if a != nil {
			remaining = a.RemainingTokens
		}
		h.Set("x-ratelimit-remaining-tokens", strconv.FormatInt(remaining, 10))
		if reset != "" {
			h.Set("x-ratelimit-reset-tokens", reset)
		}
	}
}

// durationHeader formats d as OpenAI does ("6m0s", "1s").
func durationHeader(d time.Duration) string { return d.Round(time.Second).String() }

// keyed fills req's key and pacing from the middleware's findings and
// the max-cost header.
func (s *Server) keyed(c *gin.Context, req *router.Request) error {
	if v, ok := c.Get(ctxKey); ok {
		req.Key = v.(keys.Key).Name
	}
	if v, ok := c.Get(ctxAdmission); ok {
		req.Pacing = v.(*keys.Admission).Pacing
	}
	if raw := c.GetHeader(maxCostHeader); raw != "" {
		usd, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || !(usd > 0) || math.IsInf(usd, 0) {
			return router.Errorf(router.KindInvalid, maxCostHeader, "want a positive amount in USD, such as 0.01")
		}
		req.Pacing.MaxCost = max(router.MicrosFromUSD(usd), 1)
	}
	return nil
}

// spendScope is which key's spend a /costs request may read: "" for all.
// The admin token reads any key or all; a key reads only its own; without
// keys required, anyone reads anything (the demo).
func (s *Server) spendScope(c *gin.Context) (string, error) {
	want := c.Query("key")
	if want != "" {
		if err := keys.ValidName(want); err != nil {
			return "", router.Errorf(router.KindInvalid, "key", "want a key name: letters, digits, '-', '_' or '.'")
		}
	}
	header := c.GetHeader("Authorization")
	if tok, ok := strings.CutPrefix(header, "Bearer "); ok && s.opts.AdminToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) == 1 {
		return want, nil
	}
	if s.opts.Keys == nil || header == "" && !s.opts.RequireKeys {
		return want, nil
	}
	k, refusal := s.opts.Keys.Authenticate(header)
	if refusal != nil {
		return "", refusal
	}
	if want != "" && want != k.Name {
		return "", &keys.Refusal{Status: http.StatusForbidden, Type: "invalid_request_error", Code: "forbidden",
			Message: "a key reads only its own spend; the admin token reads every key's"}
	}
	return k.Name, nil
}
