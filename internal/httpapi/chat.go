package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// StreamRouter is a Router that can also stream; *router.Service is one.
// Without it, stream requests are refused.
type StreamRouter interface {
	// ServeStream answers req through w; see router.Service.ServeStream.
	ServeStream(ctx context.Context, req router.Request, w router.StreamWriter) (router.Result, error)
}

// conversationHeader names the conversation a request belongs to; the
// metadata key conversation_id and the user field are the fallbacks.
const conversationHeader = "x-switchyard-conversation"

type completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []choice `json:"choices"`
	Usage   usage    `json:"usage"`
}

type choice struct {
	Index        int             `json:"index"`
	Message      message         `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

type message struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

type completionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *usage        `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int     `json:"index"`
	Delta        delta   `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type delta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

// chatCompletions is OpenAI's POST /v1/chat/completions: model "auto"
// routes, a configured model name goes straight there.
func (s *Server) chatCompletions(c *gin.Context) {
	var body map[string]json.RawMessage
	if err := decode(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	req, err := parseChat(body, c.Request.Header)
	if err != nil {
		s.fail(c, err)
		return
	}
	rreq := router.Request{
		Endpoint:    "chat",
		Messages:    req.Messages,
		Model:       req.Model,
		MaxTokens:   req.MaxTokens,
		Temperature: req.Temperature,
		TopP:        req.TopP,
	}
	conv := conversationID(c, req)
	if req.Model == "auto" {
		rreq.Prefer = s.pins.get(conv)
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()

	if req.Stream {
		s.streamChat(ctx, c, rreq, req.IncludeUsage, conv)
		return
	}
	res, err := s.opts.Router.Serve(ctx, rreq)
	if res.ID != "" {
		c.Header("x-switchyard-request-id", res.ID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Model == "auto" {
		s.pins.set(conv, res.Model)
	}
	routingHeaders(c.Writer.Header(), res)
	c.Header("x-switchyard-cost-usd", strconv.FormatFloat(res.Cost.USD(), 'f', 6, 64))
	finish := res.FinishReason
	if finish == "" {
		finish = "stop"
	}
	c.JSON(http.StatusOK, completion{
		ID:      res.ID,
		Object:  "chat.completion",
		Created: s.opts.Now().Unix(),
		Model:   res.Model,
		Choices: []choice{{Message: message{Role: "assistant", Content: res.Content}, FinishReason: finish, Logprobs: json.RawMessage("null")}},
		Usage:   usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, TotalTokens: res.PromptTokens + res.CompletionTokens},
	})
}

// streamChat serves a stream request. Until the first content chunk a
// failure is an ordinary JSON error; after it, one error event ends the
// stream, without [DONE], so clients cannot take a cut answer as whole.
func (s *Server) streamChat(ctx context.Context, c *gin.Context, req router.Request, includeUsage bool, conv string) {
	sr, ok := s.opts.Router.(StreamRouter)
	if !ok {
		s.fail(c, router.Errorf(router.KindInvalid, "stream", "streaming is not available on this server"))
		return
	}
	w := &sseWriter{c: c, created: s.opts.Now().Unix()}
	res, err := sr.ServeStream(ctx, req, w)
	if !w.started {
		if res.ID != "" {
			c.Header("x-switchyard-request-id", res.ID)
		}
		if err == nil {
			err = router.Errorf(router.KindInternal, "", "stream ended before it started")
		}
		s.fail(c, err)
		return
	}
	if err != nil {
		if c.Request.Context().Err() == nil {
			s.log.Warn("stream broke off", "id", res.ID, "model", res.Model, "err", err)
		}
		var e *router.Error
		if !errors.As(err, &e) {
			e = &router.Error{Kind: router.KindInternal, Message: "internal error"}
		}
		code := string(e.Kind)
		if shuttingDown(c) {
			e, code = shutdownError(), "shutting_down"
		}
		_ = w.frame(errorBody(e.Message, typeOf(e.Kind), e.Field, code))
		return
	}
	if req.Model == "auto" {
		s.pins.set(conv, res.Model)
	}
	if includeUsage {
		_ = w.frame(completionChunk{
			ID: w.id, Object: "chat.completion.chunk", Created: w.created, Model: w.model,
			Choices: []chunkChoice{},
			Usage:   &usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens, TotalTokens: res.PromptTokens + res.CompletionTokens},
		})
	}
	_ = w.raw("[DONE]")
}

// sseWriter writes a routed stream as OpenAI's server-sent events:
// "data: {json}\n\n" frames only.
type sseWriter struct {
	c       *gin.Context
	created int64
	id      string
	model   string
	started bool
}

// Start sends the status and the routing headers.
func (w *sseWriter) Start(res router.Result) error {
	w.id, w.model, w.started = res.ID, res.Model, true
	h := w.c.Writer.Header()
	routingHeaders(h, res)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold the stream
	w.c.Status(http.StatusOK)
	w.c.Writer.WriteHeaderNow()
	w.c.Writer.Flush()
	return w.c.Request.Context().Err()
}

// Write sends one chunk.
func (w *sseWriter) Write(ch router.Chunk) error {
	out := completionChunk{ID: w.id, Object: "chat.completion.chunk", Created: w.created, Model: w.model}
	cc := chunkChoice{Delta: delta{Role: ch.Role}}
	if ch.Content != "" || ch.Role != "" {
		content := ch.Content
		cc.Delta.Content = &content
	}
	if ch.FinishReason != "" {
		f := ch.FinishReason
		cc.FinishReason = &f
	}
	out.Choices = []chunkChoice{cc}
	return w.frame(out)
}

func (w *sseWriter) frame(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.raw(string(b))
}

// raw writes one data frame and flushes it. A client that went away shows
// as its request context being done.
func (w *sseWriter) raw(data string) error {
	if _, err := w.c.Writer.WriteString("data: " + data + "\n\n"); err != nil {
		return err
	}
	w.c.Writer.Flush()
	return w.c.Request.Context().Err()
}

// routingHeaders tells the client how its request was routed.
func routingHeaders(h http.Header, res router.Result) {
	h.Set("x-switchyard-request-id", res.ID)
	h.Set("x-switchyard-model", res.Model)
	if res.Analysis.Complexity != "" {
		h.Set("x-switchyard-complexity", string(res.Analysis.Complexity))
	}
	h.Set("x-switchyard-table-version", strconv.FormatInt(res.TableVersion, 10))
	h.Set("x-switchyard-attempts", strconv.Itoa(len(res.Attempts)))
}

// conversationID is the conversation a request belongs to, "" if none.
func conversationID(c *gin.Context, req chatRequest) string {
	if id := c.GetHeader(conversationHeader); id != "" {
		return id
	}
	if id := req.Metadata["conversation_id"]; id != "" {
		return id
	}
	return req.User
}
