package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/internal/chatwire"
	"github.com/switchyard/switchyard/internal/edge"
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
		Options:     req.Options,
	}
	if err := s.keyed(c, &rreq); err != nil {
		s.fail(c, err)
		return
	}
	conv := conversationID(c, req)
	if req.Model == "auto" {
		rreq.Prefer = s.pins.get(conv)
		if rreq.Prefer == "" {
			// A tool loop without a conversation id stays on the model
			// that made the calls it answers.
			rreq.Prefer = s.pins.get(toolCallPin(lastToolCallID(req.Messages)))
		}
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
		s.pinResult(conv, res)
	}
	routingHeaders(c.Writer.Header(), res)
	c.Header("x-switchyard-cost-usd", strconv.FormatFloat(res.Cost.USD(), 'f', 6, 64))
	c.JSON(http.StatusOK, completionOf(res, s.opts.Now().Unix()))
}

// completionOf is a served request as OpenAI's chat.completion.
func completionOf(res router.Result, created int64) chatwire.Completion {
	finish := res.FinishReason
	if finish == "" {
		finish = "stop"
		if len(res.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	msg := chatwire.Message{Role: "assistant"}
	if res.Content != "" || len(res.ToolCalls) == 0 {
		content := res.Content
		msg.Content = &content
	}
	if res.Refusal != "" {
		refusal := res.Refusal
		msg.Refusal = &refusal
	}
	for _, tc := range res.ToolCalls {
		msg.ToolCalls = append(msg.ToolCalls, chatwire.ToolCall{ID: tc.ID, Type: "function", Function: chatwire.FunctionCall{Name: tc.Name, Arguments: tc.Arguments}})
	}
	return chatwire.Completion{
		ID:      res.ID,
		Object:  chatwire.ObjectCompletion,
		Created: created,
		Model:   res.Model,
		Choices: []chatwire.Choice{{Message: msg, FinishReason: finish, Logprobs: res.Logprobs}},
		Usage:   chatwire.NewUsage(res.PromptTokens, res.CompletionTokens),
	}
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
		_ = w.frame(errorBody(e.Message, edge.Type(e.Kind), e.Field, code))
		return
	}
	if req.Model == "auto" {
		s.pinResult(conv, res)
	}
	if includeUsage {
		u := chatwire.NewUsage(res.PromptTokens, res.CompletionTokens)
		_ = w.frame(chatwire.Chunk{
			ID: w.id, Object: chatwire.ObjectChunk, Created: w.created, Model: w.model,
			Choices: []chatwire.ChunkChoice{},
			Usage:   &u,
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
	out := chatwire.Chunk{ID: w.id, Object: chatwire.ObjectChunk, Created: w.created, Model: w.model}
	cc := chatwire.ChunkChoice{Delta: chatwire.Delta{Role: ch.Role}, Logprobs: ch.Logprobs}
	if ch.Content != "" || (ch.Role != "" && len(ch.ToolCalls) == 0) {
		content := ch.Content
		cc.Delta.Content = &content
	}
	if ch.Refusal != "" {
		refusal := ch.Refusal
		cc.Delta.Refusal = &refusal
	}
	// OpenAI's framing: a call's first piece has its index, id, type and
	// name with empty arguments; later pieces only index and argument
	// fragments.
	for _, d := range ch.ToolCalls {
		index := d.Index
		tc := chatwire.ToolCall{Index: &index, ID: d.ID, Function: chatwire.FunctionCall{Name: d.Name, Arguments: d.Arguments}}
		if d.ID != "" {
			tc.Type = "function"
		}
		cc.Delta.ToolCalls = append(cc.Delta.ToolCalls, tc)
	}
	if ch.FinishReason != "" {
		f := ch.FinishReason
		cc.FinishReason = &f
	}
	out.Choices = []chatwire.ChunkChoice{cc}
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
	// Which candidates a capability filtered out (model=capability,...),
	// and whether that sent the request outside its bucket.
	if f := router.FilteredHeader(res.Filtered); f != "" {
		h.Set("x-switchyard-filtered", f)
	}
	if res.Escalated {
		h.Set("x-switchyard-escalated", "capability")
	}
	if res.Paced {
		h.Set("x-switchyard-budget", router.BudgetPacing)
	}
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

// pinResult pins the conversation, and each tool call the answer made, to
// the model that answered: the call's result comes back to it.
func (s *Server) pinResult(conv string, res router.Result) {
	s.pins.set(conv, res.Model)
	for _, tc := range res.ToolCalls {
		s.pins.set(toolCallPin(tc.ID), res.Model)
	}
}

// toolCallPin is the pin key of a tool call id, "" for none.
func toolCallPin(id string) string {
	if id == "" {
		return ""
	}
	return "tool_call:" + id
}

// lastToolCallID is the id of the last tool call in the history, "" if
// none.
func lastToolCallID(msgs []router.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if n := len(msgs[i].ToolCalls); n > 0 {
			return msgs[i].ToolCalls[n-1].ID
		}
	}
	return ""
}
