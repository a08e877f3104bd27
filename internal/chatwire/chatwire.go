// Package chatwire is the OpenAI chat-completions response wire format,
// declared once for both sides that write it: Switchyard's own
// /v1/chat/completions (internal/httpapi) and the demo upstream
// (internal/upstream). Field names, nullability and the streamed
// tool-call framing follow OpenAI's API as openai-go v3's ChatCompletion
// and ChatCompletionChunk parse it; openai-go's own response types are
// not used for writing because they marshal every zero-valued field
// (audio, function_call, service_tier...) where OpenAI sends none.
//
// Standard library only, so the demo upstream stays free of gin and
// openai-go.
package chatwire

import "encoding/json"

// Object names.
const (
	ObjectCompletion = "chat.completion"
	ObjectChunk      = "chat.completion.chunk"
)

// Completion is a non-streamed answer ("chat.completion").
type Completion struct {
	ID      string   `json:"id"`
	Object  string   `json:"object"`
	Created int64    `json:"created"`
	Model   string   `json:"model"`
	Choices []Choice `json:"choices"`
	Usage   Usage    `json:"usage"`
}

// Choice is one answer of a Completion.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
	// Logprobs is the provider's object as it sent it; nil marshals as
	// null.
	Logprobs json.RawMessage `json:"logprobs"`
}

// Message is the assistant's answer.
type Message struct {
	Role string `json:"role"`
	// Content is null when the model answered with tool calls only.
	Content   *string    `json:"content"`
	Refusal   *string    `json:"refusal"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}

// ToolCall is a function call, whole in a Message or a piece in a Delta.
type ToolCall struct {
	// Index is set only in streamed deltas, where it says which call a
	// piece belongs to.
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"` // "function" on a call's first piece
	Function FunctionCall `json:"function"`
}

// FunctionCall is a tool call's function: name on the first piece,
// argument fragments after it (whole in a Message).
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Usage is the token count of a call.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// NewUsage fills the total.
func NewUsage(prompt, completion int) Usage {
	return Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// Chunk is one streamed event ("chat.completion.chunk").
type Chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	// Usage is only on the last chunk, which has no choices, and only
	// when the client asked for it (stream_options.include_usage).
	Usage *Usage `json:"usage,omitempty"`
}

// ChunkChoice is one choice's piece of a Chunk.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Delta is what a chunk adds to the answer.
type Delta struct {
	Role      string     `json:"role,omitempty"`
	Content   *string    `json:"content,omitempty"`
	Refusal   *string    `json:"refusal,omitempty"`
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
}
