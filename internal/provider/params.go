package provider

import (
	"encoding/json"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard/switchyard/router"
)

// anthropicMaxTokens is sent when a call to Anthropic's endpoint names no
// limit: its API requires one, unlike OpenAI's.
const anthropicMaxTokens = 4096

// newParams translates call into the SDK's request, in the parameter
// dialect of the provider's kind (dialect.go): a routed request may land
// on any provider, so the client's parameters are adapted rather than
// refused.
func (c *Client) newParams(call router.Call) openai.ChatCompletionNewParams {
	call = adapt(c.kind, call)
	params := openai.ChatCompletionNewParams{
		Model:    call.Model,
		Messages: toParams(call.Messages),
	}
	if call.MaxTokens > 0 {
		params.MaxTokens = openai.Int(int64(call.MaxTokens))
	} else if c.kind == "anthropic" {
		params.MaxTokens = openai.Int(anthropicMaxTokens)
	}
	if t := call.Temperature; t != nil {
		params.Temperature = openai.Float(*t)
	}
	if call.TopP != nil {
		params.TopP = openai.Float(*call.TopP)
	}
	setOptions(&params, call.Options)
	return params
}

// setOptions copies the chat options into params; what the dialect
// dropped is already gone from o.
func setOptions(params *openai.ChatCompletionNewParams, o router.ChatOptions) {
	for _, t := range o.Tools {
		fn := shared.FunctionDefinitionParam{Name: t.Name}
		if t.Description != "" {
			fn.Description = openai.String(t.Description)
		}
		if t.Parameters != nil {
			var schema shared.FunctionParameters
			if json.Unmarshal(t.Parameters, &schema) == nil {
				fn.Parameters = schema
			}
		}
		if t.Strict != nil {
			fn.Strict = openai.Bool(*t.Strict)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fn))
	}
	switch {
	case o.ToolChoiceName != "":
		params.ToolChoice = openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: o.ToolChoiceName})
	case o.ToolChoice != "":
		params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String(o.ToolChoice)}
	}
	if o.ParallelToolCalls != nil {
		params.ParallelToolCalls = openai.Bool(*o.ParallelToolCalls)
	}
	if rf := o.ResponseFormat; rf != nil {
		switch rf.Type {
		case router.FormatText:
			params.ResponseFormat.OfText = &shared.ResponseFormatTextParam{}
		case router.FormatJSONObject:
			params.ResponseFormat.OfJSONObject = &shared.ResponseFormatJSONObjectParam{}
		case router.FormatJSONSchema:
			js := shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: rf.Name}
			if rf.Description != "" {
				js.Description = openai.String(rf.Description)
			}
			if rf.Schema != nil {
				var schema any
				if json.Unmarshal(rf.Schema, &schema) == nil {
					js.Schema = schema
				}
			}
			if rf.Strict != nil {
				js.Strict = openai.Bool(*rf.Strict)
			}
			params.ResponseFormat.OfJSONSchema = &shared.ResponseFormatJSONSchemaParam{JSONSchema: js}
		}
	}
	switch len(o.Stop) {
	case 0:
	case 1:
		params.Stop.OfString = openai.String(o.Stop[0])
	default:
		params.Stop.OfStringArray = o.Stop
	}
	if o.Seed != nil {
		params.Seed = openai.Int(*o.Seed)
	}
	if o.PresencePenalty != nil {
		params.PresencePenalty = openai.Float(*o.PresencePenalty)
	}
	if o.FrequencyPenalty != nil {
		params.FrequencyPenalty = openai.Float(*o.FrequencyPenalty)
	}
	if o.Logprobs {
		params.Logprobs = openai.Bool(true)
		if o.TopLogprobs != nil {
			params.TopLogprobs = openai.Int(int64(*o.TopLogprobs))
		}
	}
	if o.User != "" {
		params.User = openai.String(o.User)
	}
	if o.Store != nil {
		params.Store = openai.Bool(*o.Store)
	}
	if len(o.Metadata) > 0 && o.Store != nil && *o.Store {
		// OpenAI accepts metadata only on stored completions; otherwise
		// it stays Switchyard's (conversation_id and the like).
		params.Metadata = shared.Metadata(o.Metadata)
	}
}

// toParams translates messages, parts, tool calls and tool results
// included.
func toParams(msgs []router.Message) []openai.ChatCompletionMessageParamUnion {
	out := make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs))
	for _, m := range msgs {
		name := param.Opt[string]{}
		if m.Name != "" {
			name = openai.String(m.Name)
		}
		switch m.Role {
		case "system":
			msg := openai.SystemMessage(m.Content)
			msg.OfSystem.Name = name
			out = append(out, msg)
		case "developer":
			msg := openai.DeveloperMessage(m.Content)
			msg.OfDeveloper.Name = name
			out = append(out, msg)
		case "assistant":
			a := openai.ChatCompletionAssistantMessageParam{Name: name}
			if m.Content != "" || len(m.ToolCalls) == 0 {
				a.Content.OfString = openai.String(m.Content)
			}
			if m.Refusal != "" {
				a.Refusal = openai.String(m.Refusal)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments},
					},
				})
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case "tool":
			out = append(out, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			msg := openai.UserMessage(m.Content)
			if len(m.Parts) > 0 {
				msg = openai.UserMessage(userParts(m.Parts))
			}
			msg.OfUser.Name = name
			out = append(out, msg)
		}
	}
	return out
}

func userParts(parts []router.ContentPart) []openai.ChatCompletionContentPartUnionParam {
	out := make([]openai.ChatCompletionContentPartUnionParam, 0, len(parts))
	for _, p := range parts {
		if p.Type == router.PartImage {
			out = append(out, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: p.ImageURL, Detail: p.Detail}))
			continue
		}
		out = append(out, openai.TextContentPart(p.Text))
	}
	return out
}

// replyOf reads the parts of a choice Switchyard passes back.
func replyOf(msg openai.ChatCompletionMessage, logprobs json.RawMessage, r router.Reply) router.Reply {
	r.Content, r.Refusal = msg.Content, msg.Refusal
	for _, tc := range msg.ToolCalls {
		r.ToolCalls = append(r.ToolCalls, router.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	if len(logprobs) > 0 && string(logprobs) != "null" {
		r.Logprobs = logprobs
	}
	return r
}
