package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/switchyard/switchyard/router"
)

var _ router.Streamer = (*Client)(nil)

// Stream runs call as a streamed completion, waiting for the provider's
// throttle first; the throttle slot is held until the stream is closed.
// Usage is always requested upstream, so the cost of every answer is
// known whether or not the client asked for it. Errors are
// *router.CallError whose Message is safe to show clients.
func (c *Client) Stream(ctx context.Context, call router.Call) (router.ChunkStream, error) {
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	params := c.newParams(call)
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	// The SDK sends the request here and keeps an HTTP error status in
	// the stream's Err, so a refusal is known before any chunk is read.
	st := c.api.Chat.Completions.NewStreaming(ctx, params)
	if err := st.Err(); err != nil {
		_ = st.Close()
		release()
		return nil, c.callError(ctx, err)
	}
	return &chunkStream{ctx: ctx, client: c, st: st, release: release}, nil
}

// chunkStream adapts the SDK's stream to router.ChunkStream.
type chunkStream struct {
	ctx     context.Context // the call's; the SDK's request is bound to it
	client  *Client
	st      *ssestream.Stream[openai.ChatCompletionChunk]
	final   router.Reply
	once    sync.Once
	release func()
}

// Recv returns the next chunk that says something (role, content or
// finish reason), noting usage on the way (a chunk of usage alone comes
// back marked UsageOnly); io.EOF after [DONE] or a
// clean end of the body, which the caller must check for a finish
// reason: the SDK reports a stream cut between chunks as a clean end.
func (s *chunkStream) Recv() (router.Chunk, error) {
	for s.st.Next() {
		ch := s.st.Current()
		usage := ch.JSON.Usage.Valid()
		if usage {
			s.final.PromptTokens = int(ch.Usage.PromptTokens)
			s.final.CompletionTokens = int(ch.Usage.CompletionTokens)
		}
		if len(ch.Choices) == 0 {
			if usage {
				return router.Chunk{UsageOnly: true}, nil
			}
			continue
		}
		c0 := ch.Choices[0]
		out := router.Chunk{Role: c0.Delta.Role, Content: c0.Delta.Content, Refusal: c0.Delta.Refusal, FinishReason: c0.FinishReason}
		for _, tc := range c0.Delta.ToolCalls {
			out.ToolCalls = append(out.ToolCalls, router.ToolCallDelta{Index: int(tc.Index), ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		if raw := c0.Logprobs.RawJSON(); raw != "" && raw != "null" {
			out.Logprobs = json.RawMessage(raw)
		}
		if out.FinishReason != "" {
			s.final.FinishReason = out.FinishReason
		}
		if out.Role == "" && out.Content == "" && out.Refusal == "" && out.FinishReason == "" && len(out.ToolCalls) == 0 && out.Logprobs == nil {
			continue
		}
		return out, nil
	}
	err := s.st.Err()
	if err == nil {
		return router.Chunk{}, io.EOF
	}
	var inBand *ssestream.StreamError
	switch {
	case errors.As(err, &inBand):
		// Its text is the provider's and may name internals: logs only.
		return router.Chunk{}, &router.CallError{Outcome: router.OutcomeError, Message: "provider sent an error mid-stream", Err: err}
	case isMalformed(err):
		return router.Chunk{}, &router.CallError{Outcome: router.OutcomeError, Message: "provider sent a malformed stream", Err: err}
	}
	return router.Chunk{}, s.client.callError(s.ctx, err)
}

// isMalformed tells a chunk that did not parse (or a line past the
// SDK's 32 MB limit) from a broken connection.
func isMalformed(err error) bool {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	return errors.As(err, &syntaxErr) || errors.As(err, &typeErr) || errors.Is(err, bufio.ErrTooLong)
}

// Final returns the finish reason and usage seen so far.
func (s *chunkStream) Final() router.Reply { return s.final }

// Close ends the HTTP response and frees the throttle slot.
func (s *chunkStream) Close() error {
	var err error
	s.once.Do(func() {
		err = s.st.Close()
		s.release()
	})
	return err
}
