package router

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The chat-completions surface beyond plain text: tools, structured
// output, images and sampling options, carried from the client to the
// provider unchanged except where a provider's dialect needs adapting
// (internal/provider). Plain Go and encoding/json only: the HTTP edge and
// the provider client translate to and from their wire types.

// ContentPart is one part of a message's content. Images are passed on
// by URL (or data URL) and never fetched by Switchyard (FAULTS.md B5).
type ContentPart struct {
	Type     string `json:"type"` // PartText or PartImage
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	Detail   string `json:"detail,omitempty"` // "auto", "low", "high"; "" when not given
}

// Content part types.
const (
	PartText  = "text"
	PartImage = "image_url"
)

// ToolCall is a model's call of a function tool. Arguments is the JSON
// text the model produced, passed on as is.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolCallDelta is one streamed piece of a tool call: the first piece of
// a call carries its ID and Name, later ones argument fragments.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// Tool is a function the client offers the model.
type Tool struct {
	Name        string
	Description string
	// Parameters is the function's JSON schema; nil when none was given.
	Parameters json.RawMessage
	Strict     *bool
}

// ResponseFormat asks for structured output.
type ResponseFormat struct {
	Type        string // FormatText, FormatJSONObject or FormatJSONSchema
	Name        string // json_schema only
	Description string
	Schema      json.RawMessage
	Strict      *bool
}

// Response format types.
const (
	FormatText       = "text"
	FormatJSONObject = "json_object"
	FormatJSONSchema = "json_schema"
)

// Tool choices besides naming a function.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
)

// ChatOptions are the request's options beyond messages, model and the
// sampling basics: passed through to the provider. The zero value asks
// for nothing.
type ChatOptions struct {
	Tools []Tool
	// ToolChoice is "", auto, none or required; ToolChoiceName forces one
	// function by name instead.
	ToolChoice        string
	ToolChoiceName    string
	ParallelToolCalls *bool
	ResponseFormat    *ResponseFormat
	Stop              []string
	Seed              *int64
	PresencePenalty   *float64
	FrequencyPenalty  *float64
	Logprobs          bool
	TopLogprobs       *int
	User              string
	// Store asks OpenAI to keep the completion; Metadata goes with it
	// only then (OpenAI refuses metadata otherwise).
	Store    *bool
	Metadata map[string]string
}

// UsesTools reports whether the request offers tools or its history
// holds tool calls: either way the model must speak the tool protocol.
func (o ChatOptions) UsesTools() bool { return len(o.Tools) > 0 }

// JSONOutput is the structured output asked for: "", json_object or
// json_schema.
func (o ChatOptions) JSONOutput() string {
	if o.ResponseFormat == nil || o.ResponseFormat.Type == FormatText {
		return ""
	}
	return o.ResponseFormat.Type
}

// HasImages reports whether any message carries an image part.
func HasImages(msgs []Message) bool {
	for _, m := range msgs {
		for _, p := range m.Parts {
			if p.Type == PartImage {
				return true
			}
		}
	}
	return false
}

// HasToolTurns reports whether the history holds tool calls or tool
// results.
func HasToolTurns(msgs []Message) bool {
	for _, m := range msgs {
		if len(m.ToolCalls) > 0 || m.Role == "tool" {
			return true
		}
	}
	return false
}

// checkToolCalls verifies a finished answer's tool calls are whole: an
// id, a name and arguments that parse as JSON. A call cut short (a stream
// broken inside its arguments, a provider's truncation) must fail the
// attempt, never reach the client as a success.
func checkToolCalls(calls []ToolCall) error {
	for i, c := range calls {
		switch {
		case c.ID == "" || c.Name == "":
			return &CallError{Outcome: OutcomeError, Message: fmt.Sprintf("model returned tool call %d without an id or name", i)}
		case !json.Valid([]byte(strings.TrimSpace(orEmptyObject(c.Arguments)))):
			return &CallError{Outcome: OutcomeError, Message: fmt.Sprintf("model returned tool call %d (%s) with arguments that are not JSON", i, c.Name)}
		}
	}
	return nil
}

// orEmptyObject reads empty arguments as "{}": models call functions
// without parameters that way.
func orEmptyObject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "{}"
	}
	return s
}

// toolCallBuilder assembles streamed tool-call deltas by index.
type toolCallBuilder struct {
	calls []ToolCall
	index map[int]int // delta index -> position in calls
}

func (b *toolCallBuilder) add(d ToolCallDelta) {
	if b.index == nil {
		b.index = map[int]int{}
	}
	i, ok := b.index[d.Index]
	if !ok {
		i = len(b.calls)
		b.index[d.Index] = i
		b.calls = append(b.calls, ToolCall{})
	}
	c := &b.calls[i]
	if d.ID != "" {
		c.ID = d.ID
	}
	if d.Name != "" {
		c.Name = d.Name
	}
	c.Arguments += d.Arguments
}

// maxSummaryTools is how many tool names the classified text lists.
const maxSummaryTools = 8

// ClassifyPrompt is the text a request is classified (and its prompt
// hashed) by: the last user turn, and for a conversation with tools,
// tool turns or images a compact bracketed summary after it, so a tool
// loop's steps and an image question are told apart from the same words
// asked plainly, without sending the whole history to the classifier.
// A plain text request is classified by its last user turn alone.
func ClassifyPrompt(msgs []Message, o ChatOptions) string {
	prompt := LastUserPrompt(msgs)
	var notes []string
	if n := len(o.Tools); n > 0 {
		names := make([]string, 0, min(n, maxSummaryTools))
		for _, t := range o.Tools[:min(n, maxSummaryTools)] {
			names = append(names, t.Name)
		}
		more := ""
		if n > maxSummaryTools {
			more = fmt.Sprintf(" and %d more", n-maxSummaryTools)
		}
		notes = append(notes, "tools: "+strings.Join(names, ", ")+more)
	}
	calls, results, images := 0, 0, 0
	for _, m := range msgs {
		calls += len(m.ToolCalls)
		if m.Role == "tool" {
			results++
		}
		for _, p := range m.Parts {
			if p.Type == PartImage {
				images++
			}
		}
	}
	if calls > 0 || results > 0 {
		notes = append(notes, fmt.Sprintf("%d tool calls and %d tool results so far", calls, results))
	}
	if images > 0 {
		notes = append(notes, fmt.Sprintf("%d images", images))
	}
	if f := o.JSONOutput(); f != "" {
		notes = append(notes, "answer as "+f)
	}
	if len(notes) == 0 {
		return prompt
	}
	return strings.TrimSpace(prompt + "\n\n[" + strings.Join(notes, "; ") + "]")
}

// toolTokens estimates what the offered tools add to the prompt: the
// provider renders their names, descriptions and schemas into it.
func toolTokens(tools []Tool) int {
	n := 0
	for _, t := range tools {
		n += (len(t.Name)+len(t.Description)+len(t.Parameters))/4 + 8
	}
	return n
}
