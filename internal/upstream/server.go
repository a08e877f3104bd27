// Package upstream is the demo and test stand-in for the model providers: an
// OpenAI-compatible chat-completions server (plain and streamed, plus the
// model list) that answers as a labeled dataset's models would. For a prompt
// in the dataset, model M answers correctly or not as the dataset recorded,
// with the recorded token usage and latency; for any other prompt a seeded
// per-model success chance by estimated difficulty decides, the same way on
// every call. Requests carrying the classify_prompt tool are answered as the
// classifier model would, with a valid analysis.
//
// It uses net/http and encoding/json only, and speaks exactly the JSON the
// openai-go v3 client sends and parses, so Switchyard's demo and tests take
// the real path with only the model behind the wire stood in.
package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/chatwire"
	"github.com/switchyard/switchyard/router"
)

// ClassifierTool is the function name that marks a classifier call.
const ClassifierTool = "classify_prompt"

// maxBodyBytes bounds a request body; the longest dataset prompts are well
// under a megabyte.
const maxBodyBytes = 16 << 20

// Options tunes a Server. The zero value serves with no artificial latency.
type Options struct {
	// Seed varies the decisions for prompts not in the dataset.
	Seed uint64
	// LatencyScale multiplies every simulated latency: 1 is as recorded,
	// 0 answers at once (for tests).
	LatencyScale float64
	// Logger receives one debug line per call; nil discards.
	Logger *slog.Logger
	// Models sets per-model defaults, overriding what the dataset implies.
	// A model named here is served even if the dataset does not name it.
	Models map[string]ModelDefaults
	// Now stamps responses; nil means time.Now.
	Now func() time.Time
}

// ModelDefaults is how a model behaves where the dataset says nothing.
type ModelDefaults struct {
	// Latency is used for prompts without a recorded latency; zero means
	// the model's mean recorded latency, or 800ms.
	Latency time.Duration
	// Success is the chance of a correct answer to an unknown prompt per
	// estimated complexity; nil means the model's success rates in the
	// dataset.
	Success *datasets.Rates
}

// defaultLatency is the latency of a model the dataset gives none for.
const defaultLatency = 800 * time.Millisecond

// Server answers chat completions as a dataset's models would. It is safe
// for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	items    []datasets.Item
	byPrompt map[string]*datasets.Item // normalized prompt -> first item with it
	models   map[string]ModelDefaults  // every model served, defaults filled in
	names    []string                  // sorted keys of models

	seq   atomic.Uint64
	mu    sync.Mutex
	calls map[string]int
}

var _ http.Handler = (*Server)(nil)

// New returns a server for items. It keeps items; the caller must not
// modify them afterwards.
func New(items []datasets.Item, opts Options) *Server {
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		items:    items,
		byPrompt: make(map[string]*datasets.Item, len(items)),
		calls:    map[string]int{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	for i := range items {
		key := router.NormalizePrompt(items[i].Prompt)
		if _, dup := s.byPrompt[key]; !dup {
			s.byPrompt[key] = &items[i]
		}
	}
	s.models = modelDefaults(items, opts.Models)
	for name := range s.models {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)

	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	s.mux.HandleFunc("GET /v1/models", s.handleModels)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found",
			fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return s
}

// ServeHTTP serves POST /v1/chat/completions and GET /v1/models.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Calls returns how many chat-completion requests named model, classifier
// calls included and requests for unknown models too.
func (s *Server) Calls(model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[model]
}

// Models lists the served model names, sorted.
func (s *Server) Models() []string { return append([]string(nil), s.names...) }

func (s *Server) count(model string) {
	s.mu.Lock()
	s.calls[model]++
	s.mu.Unlock()
}

func (s *Server) handleModels(w http.ResponseWriter, _ *http.Request) {
	list := modelList{Object: "list", Data: make([]modelInfo, 0, len(s.names))}
	for _, name := range s.names {
		list.Data = append(list.Data, modelInfo{ID: name, Object: "model", OwnedBy: "switchyard-demo"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		status := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, "invalid_request_error", "invalid_json", "could not parse the JSON body")
		return
	}
	_, _ = io.Copy(io.Discard, body)
	if req.Model == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_model", "you must provide a model parameter")
		return
	}
	s.count(req.Model)
	defaults, ok := s.models[req.Model]
	if !ok {
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model))
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_messages", "messages must not be empty")
		return
	}

	var a answer
	switch t := req.toolToCall(); {
	case req.hasTool(ClassifierTool):
		a = s.classify(req, defaults)
	case t != nil:
		a = callTool(s.answer(req, defaults), t)
	default:
		a = structured(s.answer(req, defaults), req.ResponseFormat)
	}
	a.latency = time.Duration(float64(a.latency) * s.opts.LatencyScale)
	s.log.Debug("upstream call", "model", req.Model, "classifier", a.toolCall != nil,
		"known", a.known, "correct", a.correct, "stream", req.Stream, "latency", a.latency)

	id := fmt.Sprintf("chatcmpl-demo%012d", s.seq.Add(1))
	created := s.opts.Now().Unix()
	if req.Stream {
		s.stream(w, r, req, a, id, created)
		return
	}
	if !sleep(r.Context(), a.latency) {
		return // the client has gone; nobody reads an answer
	}
	msg := chatwire.Message{Role: "assistant"}
	if a.toolCall != nil {
		msg.ToolCalls = []chatwire.ToolCall{{ID: "call_" + id, Type: "function", Function: *a.toolCall}}
	} else {
		msg.Content = &a.content
	}
	writeJSON(w, http.StatusOK, chatwire.Completion{
		ID: id, Object: chatwire.ObjectCompletion, Created: created, Model: req.Model,
		Choices: []chatwire.Choice{{Index: 0, Message: msg, FinishReason: a.finish}},
		Usage:   a.usage,
	})
}

// hasTool reports whether the request offers a function tool named name.
func (req chatRequest) hasTool(name string) bool {
	for _, t := range req.Tools {
		if t.Function.Name == name {
			return true
		}
	}
	return false
}

// lastUser returns the text of the last user message, or of the last
// message when there is no user message.
func (req chatRequest) lastUser() string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			return req.Messages[i].text()
		}
	}
	return req.Messages[len(req.Messages)-1].text()
}

// promptTokens estimates the request's prompt tokens: every message's text
// plus a few tokens of chat template per message.
func (req chatRequest) promptTokens() int {
	n := 0
	for _, m := range req.Messages {
		n += datasets.EstimateTokens(m.text()) + 4
	}
	return n
}

// lookup finds the dataset item for a prompt, or nil. Prompts the classifier
// shortened ("head [... N bytes omitted ...] tail") match by head and tail.
func (s *Server) lookup(prompt string) *datasets.Item {
	if it, ok := s.byPrompt[router.NormalizePrompt(prompt)]; ok {
		return it
	}
	loc := omitted.FindStringIndex(prompt)
	if loc == nil {
		return nil
	}
	head, tail := prompt[:loc[0]], prompt[loc[1]:]
	for i := range s.items {
		p := s.items[i].Prompt
		if len(p) >= len(head)+len(tail) && strings.HasPrefix(p, head) && strings.HasSuffix(p, tail) {
			return &s.items[i]
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may have gone; nothing else to do
}

// writeError answers in OpenAI's error envelope, which openai-go turns into
// *openai.Error with the status code.
func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Message: msg, Type: typ, Code: code}})
}
