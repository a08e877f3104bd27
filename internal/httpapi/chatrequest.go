package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// chatRequest is a validated OpenAI chat-completions request.
type chatRequest struct {
	Model        string
	Messages     []router.Message
	Stream       bool
	IncludeUsage bool
	MaxTokens    int
	Temperature  *float64
	TopP         *float64
	User         string
	Metadata     map[string]string
	// Options is the rest of the surface, passed to the model.
	Options router.ChatOptions
}

// field parses one top-level field (never JSON null) into req.
type field func(req *chatRequest, name string, raw json.RawMessage) error

// chatFields are the request fields Switchyard understands. Anything else
// is refused with a reason rather than silently dropped: a client that
// sends tools or a response format relies on them.
var chatFields = map[string]field{
	"model":                 func(r *chatRequest, n string, raw json.RawMessage) error { return into(n, raw, &r.Model) },
	"messages":              parseMessages,
	"stream":                func(r *chatRequest, n string, raw json.RawMessage) error { return into(n, raw, &r.Stream) },
	"stream_options":        parseStreamOptions,
	"max_tokens":            func(r *chatRequest, n string, raw json.RawMessage) error { return positive(n, raw, &r.MaxTokens) },
	"max_completion_tokens": func(r *chatRequest, n string, raw json.RawMessage) error { return positive(n, raw, &r.MaxTokens) },
	"temperature":           func(r *chatRequest, n string, raw json.RawMessage) error { return within(n, raw, 0, 2, &r.Temperature) },
	"top_p":                 func(r *chatRequest, n string, raw json.RawMessage) error { return within(n, raw, 0, 1, &r.TopP) },
	"n":                     parseN,
	"user":                  parseUser,
	"metadata":              parseMetadata,
	"tools":                 parseTools,
	"tool_choice":           parseToolChoice,
	"parallel_tool_calls": func(r *chatRequest, n string, raw json.RawMessage) error {
		return into(n, raw, &r.Options.ParallelToolCalls)
	},
	"response_format": parseResponseFormat,
	"stop":            parseStop,
	"seed":            func(r *chatRequest, n string, raw json.RawMessage) error { return into(n, raw, &r.Options.Seed) },
	"presence_penalty": func(r *chatRequest, n string, raw json.RawMessage) error {
		return within(n, raw, -2, 2, &r.Options.PresencePenalty)
	},
	"frequency_penalty": func(r *chatRequest, n string, raw json.RawMessage) error {
		return within(n, raw, -2, 2, &r.Options.FrequencyPenalty)
	},
	"logprobs":     func(r *chatRequest, n string, raw json.RawMessage) error { return into(n, raw, &r.Options.Logprobs) },
	"top_logprobs": parseTopLogprobs,
	"store":        func(r *chatRequest, n string, raw json.RawMessage) error { return into(n, raw, &r.Options.Store) },
	// Accepted and ignored: it changes nothing about the answer.
	"service_tier": func(r *chatRequest, n string, raw json.RawMessage) error { var v string; return into(n, raw, &v) },
}

// unsupported are OpenAI features Switchyard does not implement.
var unsupported = map[string]string{
	"functions":          "function calling (deprecated; use tools)",
	"function_call":      "function calling (deprecated; use tool_choice)",
	"audio":              "audio output",
	"modalities":         "output modalities",
	"prediction":         "predicted outputs",
	"web_search_options": "web search",
	"logit_bias":         "logit bias",
	"reasoning_effort":   "reasoning effort",
}

// upstreamWords in a field or header name mean it tries to choose where
// the request goes or with which key. Upstream addresses and keys come
// from configuration only (FAULTS.md B4: an SSRF and key-theft hole in
// other gateways).
var upstreamWords = []string{"base", "url", "endpoint", "host", "upstream", "api_key", "api-key", "custom_llm_provider", "api_version", "deployment", "proxy", "extra_headers", "extra_body"}

// upstreamHeaderWords are the same for headers. Key headers are left out:
// a client's key authenticates it to Switchyard and is never sent on.
var upstreamHeaderWords = []string{"base", "url", "endpoint", "upstream", "custom-host", "provider", "deployment"}

func namesUpstream(name string) bool { return containsAny(name, upstreamWords) }

func containsAny(name string, words []string) bool {
	name = strings.ToLower(name)
	for _, w := range words {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// parseChat validates the decoded body and the headers into a request.
func parseChat(body map[string]json.RawMessage, h http.Header) (chatRequest, error) {
	if err := checkHeaders(h); err != nil {
		return chatRequest{}, err
	}
	var req chatRequest
	// Sorted, so the error for a body with several problems is stable.
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := body[name]
		if namesUpstream(name) {
			return req, router.Errorf(router.KindInvalid, name, "is not accepted: upstream addresses and keys come from configuration only")
		}
		if what, ok := unsupported[name]; ok {
			if isNull(raw) {
				continue
			}
			return req, router.Errorf(router.KindInvalid, name, "%s is not supported by Switchyard", what)
		}
		parse, ok := chatFields[name]
		if !ok {
			return req, router.Errorf(router.KindInvalid, name, "unknown field")
		}
		if isNull(raw) {
			continue
		}
		if err := parse(&req, name, raw); err != nil {
			return req, err
		}
	}
	if strings.TrimSpace(req.Model) == "" {
		return req, router.Errorf(router.KindInvalid, "model", "is required (\"auto\" routes the request)")
	}
	if body["messages"] == nil || isNull(body["messages"]) {
		return req, router.Errorf(router.KindInvalid, "messages", "is required")
	}
	if strings.TrimSpace(router.LastUserPrompt(req.Messages)) == "" && !router.HasImages(req.Messages) {
		return req, router.Errorf(router.KindInvalid, "messages", "must hold a user message with text or an image")
	}
	if err := checkOptions(&req); err != nil {
		return req, err
	}
	if body["stream_options"] != nil && !isNull(body["stream_options"]) && !req.Stream {
		return req, router.Errorf(router.KindInvalid, "stream_options", "is only allowed when stream is true")
	}
	return req, nil
}

// checkHeaders refuses headers that try to choose the upstream. Proxy
// headers (X-Forwarded-Host) describe the client side and pass.
func checkHeaders(h http.Header) error {
	for name := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, "x-") || strings.HasPrefix(lower, "x-forwarded-") || strings.HasPrefix(lower, "x-original-") {
			continue
		}
		if containsAny(lower, upstreamHeaderWords) {
			return router.Errorf(router.KindInvalid, lower, "header is not accepted: upstream addresses and keys come from configuration only")
		}
	}
	return nil
}

func parseStreamOptions(r *chatRequest, name string, raw json.RawMessage) error {
	var o struct {
		IncludeUsage       *bool `json:"include_usage"`
		IncludeObfuscation *bool `json:"include_obfuscation"` // no effect here
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return router.Errorf(router.KindInvalid, name, "must be an object with include_usage (a boolean)")
	}
	r.IncludeUsage = o.IncludeUsage != nil && *o.IncludeUsage
	return nil
}

func parseN(r *chatRequest, name string, raw json.RawMessage) error {
	var n int
	if err := into(name, raw, &n); err != nil {
		return err
	}
	if n != 1 {
		return router.Errorf(router.KindInvalid, name, "only 1 choice is supported, got %d (send n requests instead)", n)
	}
	return nil
}

func positive(name string, raw json.RawMessage, dst *int) error {
	var n int
	if err := into(name, raw, &n); err != nil {
		return err
	}
	if n <= 0 {
		return router.Errorf(router.KindInvalid, name, "must be a positive integer, got %d", n)
	}
	*dst = n
	return nil
}

func within(name string, raw json.RawMessage, lo, hi float64, dst **float64) error {
	var v float64
	if err := into(name, raw, &v); err != nil {
		return err
	}
	if v < lo || v > hi {
		return router.Errorf(router.KindInvalid, name, "must be between %g and %g, got %g", lo, hi, v)
	}
	*dst = &v
	return nil
}

// into decodes raw into dst, naming the field on a type mismatch.
func into(name string, raw json.RawMessage, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return router.Errorf(router.KindInvalid, name, "must be %s", describe(dst))
	}
	return nil
}

// describe names what dst holds the way a JSON client thinks of it.
func describe(dst any) string {
	switch dst.(type) {
	case *string:
		return "a string"
	case *bool, **bool:
		return "a boolean"
	case *int, *int64, **int64, **int:
		return "an integer"
	case *float64:
		return "a number"
	case *[]json.RawMessage:
		return "an array"
	case *map[string]string:
		return "an object of strings"
	default:
		return "an object"
	}
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
