package provider

import (
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// Provider dialects: what each kind of OpenAI-compatible endpoint does
// with the chat-completions surface, and how a call is adapted so the
// client gets what it asked for, or the nearest thing, instead of a 400
// from a provider it did not choose. README's "Provider dialects" table
// says the same for users; dialect_test.go pins each row.
//
//   - anthropic (Anthropic's OpenAI-compatible endpoint) ignores
//     response_format, strict, seed, logprobs, penalties, user and
//     metadata, and rejects a whitespace-only stop sequence. JSON output
//     is asked for in a system instruction instead (the schema included);
//     ignored fields are not sent; the developer role becomes system;
//     temperature is capped at 1.
//   - groq rejects logprobs, top_logprobs and messages[].name with 400:
//     they are dropped. Strict schemas are not sent as strict.
//   - ollama ignores tool_choice and user: not sent.
//   - openai, vllm, openai-compatible: passed through.
func adapt(kind string, call router.Call) router.Call {
	o := call.Options
	if kind != "openai" {
		// Only OpenAI knows the "developer" role; elsewhere it is a
		// system message.
		call.Messages = developerAsSystem(call.Messages)
		// Stored completions and their metadata are OpenAI's.
		o.Store, o.Metadata = nil, nil
	}
	switch kind {
	case "anthropic":
		if t := call.Temperature; t != nil && *t > 1 {
			capped := 1.0 // Anthropic accepts 0..1 where OpenAI accepts 0..2
			call.Temperature = &capped
		}
		if rf := o.ResponseFormat; rf != nil {
			if rf.Type != router.FormatText {
				call.Messages = withJSONInstruction(call.Messages, rf)
			}
			o.ResponseFormat = nil
		}
		o.Tools = withoutStrict(o.Tools)
		o.Seed, o.Logprobs, o.TopLogprobs = nil, false, nil
		o.PresencePenalty, o.FrequencyPenalty, o.User = nil, nil, ""
		o.Stop = withoutBlank(o.Stop)
	case "groq":
		o.Logprobs, o.TopLogprobs = false, nil
		call.Messages = withoutNames(call.Messages)
		if rf := o.ResponseFormat; rf != nil && rf.Strict != nil {
			loose := *rf
			loose.Strict = nil
			o.ResponseFormat = &loose
		}
	case "ollama":
		o.ToolChoice, o.ToolChoiceName, o.User = "", "", ""
	}
	call.Options = o
	return call
}

// jsonInstruction is the system text that asks for JSON where the
// provider ignores response_format.
const jsonInstruction = "Respond with a single JSON object and nothing else: no prose, no code fences."

// withJSONInstruction prepends a system message asking for JSON output,
// with the schema when one was given.
func withJSONInstruction(msgs []router.Message, rf *router.ResponseFormat) []router.Message {
	text := jsonInstruction
	if rf.Type == router.FormatJSONSchema && len(rf.Schema) > 0 {
		var compact strings.Builder
		if b, err := json.Marshal(json.RawMessage(rf.Schema)); err == nil {
			compact.Write(b)
		}
		text += " It must be valid against this JSON schema: " + compact.String()
	}
	out := make([]router.Message, 0, len(msgs)+1)
	out = append(out, router.Message{Role: "system", Content: text})
	return append(out, msgs...)
}

func withoutStrict(tools []router.Tool) []router.Tool {
	if len(tools) == 0 {
		return tools
	}
	out := make([]router.Tool, len(tools))
	for i, t := range tools {
		t.Strict = nil
		out[i] = t
	}
	return out
}

func withoutBlank(stop []string) []string {
	var out []string
	for _, s := range stop {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func withoutNames(msgs []router.Message) []router.Message {
	out := make([]router.Message, len(msgs))
	for i, m := range msgs {
		m.Name = ""
		out[i] = m
	}
	return out
}

func developerAsSystem(msgs []router.Message) []router.Message {
	for i, m := range msgs {
		if m.Role == "developer" {
			out := append([]router.Message(nil), msgs...)
			for j := i; j < len(out); j++ {
				if out[j].Role == "developer" {
					out[j].Role = "system"
				}
			}
			return out
		}
	}
	return msgs
}
