package classify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/switchyard/switchyard/router"
)

// testAPIKey must never show up in an error or a log line.
const testAPIKey = "sk-test-do-not-leak-4242"

// validArgs is a well-formed classify_prompt argument object.
const validArgs = `{"complexity":"moderate","reasoning_required":true,"external_knowledge_needed":false,"multi_step":true,"estimated_tokens":420,"category":"Code","reason":"asks for a small function\nwith tests"}`

// chatRequest is the part of a chat-completions request the tests check.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string         `json:"name"`
			Parameters map[string]any `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
}

// fakeLLM is a local OpenAI-compatible server that counts requests, keeps
// their bodies, and answers with respond.
type fakeLLM struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	bodies   []chatRequest
	respond  func(w http.ResponseWriter, r *http.Request)
}

func newFakeLLM(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *fakeLLM {
	t.Helper()
	f := &fakeLLM{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+testAPIKey {
			http.Error(w, `{"error":{"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req chatRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, req)
		f.mu.Unlock()
		f.respond(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// requestAt returns the i-th request the server decoded.
func (f *fakeLLM) requestAt(t *testing.T, i int) chatRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.bodies) {
		t.Fatalf("request %d: server decoded only %d requests", i, len(f.bodies))
	}
	return f.bodies[i]
}

// client is a real openai-go client pointed at the fake server.
func (f *fakeLLM) client() openai.Client {
	return openai.NewClient(option.WithBaseURL(f.URL+"/v1/"), option.WithAPIKey(testAPIKey), option.WithMaxRetries(0))
}

// toolCall answers with one classify_prompt call carrying args.
func toolCall(args string) func(http.ResponseWriter, *http.Request) {
	return completion(map[string]any{
		"role":    "assistant",
		"content": nil,
		"tool_calls": []map[string]any{{
			"id": "call_1", "type": "function",
			"function": map[string]any{"name": ToolName, "arguments": args},
		}},
	}, "tool_calls")
}

// content answers with a plain assistant message.
func content(text string) func(http.ResponseWriter, *http.Request) {
	return completion(map[string]any{"role": "assistant", "content": text}, "stop")
}

func completion(msg map[string]any, finish string) func(http.ResponseWriter, *http.Request) {
	body, err := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "classifier-test",
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
	})
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

// status answers with an HTTP error in the OpenAI envelope.
func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error":{"message":"overloaded","type":"server_error"}}`)
	}
}

// hang blocks until the client gives up (or the server closes).
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// memStore is an in-memory Store; err, when set, fails every call.
type memStore struct {
	mu   sync.Mutex
	m    map[string]router.Analysis
	err  error
	gets atomic.Int64
	puts atomic.Int64
}

func newMemStore() *memStore { return &memStore{m: map[string]router.Analysis{}} }

func (s *memStore) GetClassification(_ context.Context, key string) (router.Analysis, bool, error) {
	s.gets.Add(1)
	if s.err != nil {
		return router.Analysis{}, false, s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[key]
	return a, ok, nil
}

func (s *memStore) PutClassification(_ context.Context, key string, a router.Analysis) error {
	s.puts.Add(1)
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = a
	return nil
}

func (s *memStore) lookup(key string) (router.Analysis, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[key]
	return a, ok
}

var errDatabaseDown = errors.New("database down")
