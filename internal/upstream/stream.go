package upstream

import (
	"encoding/json"
	"github.com/switchyard/switchyard/internal/chatwire"
	"net/http"
	"time"
)

// firstTokenShare is the part of an answer's latency spent before the first
// chunk; the rest is spread over the chunks, as a model streams.
const firstTokenShare = 0.3

// wordsPerChunk is how many words each streamed content chunk carries.
const wordsPerChunk = 4

// stream writes the answer as server-sent events: a role chunk, content (or
// tool-call argument) chunks, a chunk with the finish reason, a usage chunk
// with no choices when the client asked for one, then [DONE]. It stops
// quietly when the client goes away.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req chatRequest, a answer, id string, created int64) {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")

	first := time.Duration(float64(a.latency) * firstTokenShare)
	if !sleep(ctx, first) {
		return
	}
	w.WriteHeader(http.StatusOK)

	send := func(choices []chatwire.ChunkChoice, u *chatwire.Usage) bool {
		if choices == nil {
			choices = []chatwire.ChunkChoice{}
		}
		b, err := json.Marshal(chatwire.Chunk{ID: id, Object: chatwire.ObjectChunk, Created: created, Model: req.Model, Choices: choices, Usage: u})
		if err != nil {
			return false
		}
		if _, err := w.Write([]byte("data: " + string(b) + "\n\n")); err != nil {
			return false
		}
		return rc.Flush() == nil
	}

	// The opening chunk carries the role (and, for a tool call, its id and
	// name); the following ones carry text pieces.
	var pieces []string
	opening := chatwire.Delta{Role: "assistant"}
	if a.toolCall != nil {
		zero := 0
		opening.ToolCalls = []chatwire.ToolCall{{Index: &zero, ID: "call_" + id, Type: "function", Function: chatwire.FunctionCall{Name: a.toolCall.Name}}}
		pieces = split(a.toolCall.Arguments, 3)
	} else {
		empty := ""
		opening.Content = &empty
		pieces = chunkWords(a.content, wordsPerChunk)
	}
	if !send([]chatwire.ChunkChoice{{Delta: opening}}, nil) {
		return
	}
	rest := a.latency - first
	for _, p := range pieces {
		if !sleep(ctx, rest/time.Duration(len(pieces))) {
			return
		}
		d := chatwire.Delta{}
		if a.toolCall != nil {
			zero := 0
			d.ToolCalls = []chatwire.ToolCall{{Index: &zero, Function: chatwire.FunctionCall{Arguments: p}}}
		} else {
			d.Content = &p
		}
		if !send([]chatwire.ChunkChoice{{Delta: d}}, nil) {
			return
		}
	}
	finish := a.finish
	if !send([]chatwire.ChunkChoice{{Delta: chatwire.Delta{}, FinishReason: &finish}}, nil) {
		return
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		if !send(nil, &a.usage) {
			return
		}
	}
	if _, err := w.Write([]byte("data: [DONE]\n\n")); err == nil {
		_ = rc.Flush()
	}
}

// chunkWords splits text into pieces of n words, keeping the whitespace, so
// that the pieces concatenate back to text exactly.
func chunkWords(text string, n int) []string {
	var pieces []string
	start, words := 0, 0
	inWord := false
	for i, r := range text {
		space := r == ' ' || r == '\n' || r == '\t'
		if !space && !inWord {
			if words == n {
				pieces = append(pieces, text[start:i])
				start, words = i, 0
			}
			words++
		}
		inWord = !space
	}
	if start < len(text) {
		pieces = append(pieces, text[start:])
	}
	return pieces
}

// split cuts s into at most n pieces of about equal length, at rune
// boundaries.
func split(s string, n int) []string {
	if s == "" {
		return nil
	}
	size := (len(s) + n - 1) / n
	var pieces []string
	for len(s) > 0 {
		cut := min(size, len(s))
		for cut < len(s) && !isRuneStart(s[cut]) {
			cut++
		}
		pieces = append(pieces, s[:cut])
		s = s[cut:]
	}
	return pieces
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
