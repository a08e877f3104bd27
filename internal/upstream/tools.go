package upstream

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/internal/chatwire"
)

// The demo's answers to the chat-completions surface beyond text: a
// request offering tools gets a call of the first offered tool (or the
// one tool_choice names) with arguments valid for its schema, until the
// history ends in a tool result, which is answered in text; json_schema
// gets an object valid for the schema, json_object a JSON object. The
// answer's text (right or wrong, as the dataset says) goes into the
// first string field, so routing quality still shows.

// toolToCall returns the tool the request should be answered with a call
// of, or nil when it should be answered in text.
func (req chatRequest) toolToCall() *tool {
	if len(req.Tools) == 0 || len(req.Messages) == 0 || req.Messages[len(req.Messages)-1].Role == "tool" {
		return nil
	}
	var choice string
	if json.Unmarshal(req.ToolChoice, &choice) == nil && choice == "none" {
		return nil
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(req.ToolChoice, &named) == nil && named.Function.Name != "" {
		for i := range req.Tools {
			if req.Tools[i].Function.Name == named.Function.Name {
				return &req.Tools[i]
			}
		}
	}
	return &req.Tools[0]
}

// callTool turns a text answer into a call of t with schema-valid
// arguments.
func callTool(a answer, t *tool) answer {
	args, _ := json.Marshal(example(t.Function.Parameters, a.content))
	a.toolCall = &chatwire.FunctionCall{Name: t.Function.Name, Arguments: string(args)}
	a.finish = "tool_calls"
	a.usage = chatwire.NewUsage(a.usage.PromptTokens, max(1, len(args)/4))
	return a
}

// structured turns a text answer into the JSON the response format asks
// for; other formats leave it as it is.
func structured(a answer, rf *responseFormat) answer {
	if rf == nil {
		return a
	}
	var v any
	switch rf.Type {
	case "json_object":
		v = map[string]any{"answer": a.content}
	case "json_schema":
		var schema json.RawMessage
		if rf.JSONSchema != nil {
			schema = rf.JSONSchema.Schema
		}
		v = example(schema, a.content)
	default:
		return a
	}
	b, _ := json.Marshal(v)
	a.content = string(b)
	return a
}

// example returns a value valid for the JSON schema: every property of
// an object (strict schemas require all), one item of an array, the
// first of an enum or a union. text fills the first string met; later
// strings get a short placeholder.
func example(raw json.RawMessage, text string) any {
	used := false
	return exampleOf(raw, raw, &text, &used, 0)
}

func exampleOf(root, raw json.RawMessage, text *string, used *bool, depth int) any {
	var s struct {
		Type       any                        `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Items      json.RawMessage            `json:"items"`
		Enum       []any                      `json:"enum"`
		Const      *any                       `json:"const"`
		AnyOf      []json.RawMessage          `json:"anyOf"`
		OneOf      []json.RawMessage          `json:"oneOf"`
		Ref        string                     `json:"$ref"`
		MinItems   int                        `json:"minItems"`
		Minimum    *float64                   `json:"minimum"`
	}
	if depth > 8 || json.Unmarshal(raw, &s) != nil {
		return map[string]any{}
	}
	switch {
	case s.Const != nil:
		return *s.Const
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Ref != "":
		return exampleOf(root, resolve(root, s.Ref), text, used, depth+1)
	case len(s.AnyOf) > 0:
		return exampleOf(root, s.AnyOf[0], text, used, depth+1)
	case len(s.OneOf) > 0:
		return exampleOf(root, s.OneOf[0], text, used, depth+1)
	}
	typ, _ := s.Type.(string)
	if list, ok := s.Type.([]any); ok && len(list) > 0 {
		typ, _ = list[0].(string)
	}
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	switch typ {
	case "string":
		if !*used {
			*used = true
			return *text
		}
		return "example"
	case "integer":
		if s.Minimum != nil {
			return int(*s.Minimum + 0.999999)
		}
		return 1
	case "number":
		if s.Minimum != nil {
			return *s.Minimum
		}
		return 1
	case "boolean":
		return true
	case "null":
		return nil
	case "array":
		n := max(1, s.MinItems)
		out := make([]any, n)
		for i := range out {
			out[i] = exampleOf(root, s.Items, text, used, depth+1)
		}
		return out
	default: // object, or a schema that says nothing
		out := map[string]any{}
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		sort.Strings(names) // the text lands in the same field every time
		for _, name := range names {
			out[name] = exampleOf(root, s.Properties[name], text, used, depth+1)
		}
		return out
	}
}

// resolve follows a local reference such as #/$defs/step.
func resolve(root json.RawMessage, ref string) json.RawMessage {
	path, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	cur := root
	for _, key := range strings.Split(path, "/") {
		var m map[string]json.RawMessage
		if json.Unmarshal(cur, &m) != nil {
			return nil
		}
		cur = m[key]
	}
	return cur
}
