package httpapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/switchyard/switchyard/router"
)

// Parsing of the chat-completions surface beyond the basics: messages
// with content parts and tool turns, tools, tool_choice, response_format,
// stop and logprobs. Every error names the field, down to the array
// index; unknown keys are refused by name, never dropped.

// object decodes raw as a JSON object whose keys must be among allowed.
func object(at string, raw json.RawMessage, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, router.Errorf(router.KindInvalid, at, "must be an object")
	}
	if len(allowed) == 0 {
		return m, nil
	}
	for k := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return nil, router.Errorf(router.KindInvalid, at+"."+k, "unknown field")
		}
	}
	return m, nil
}

// present reports whether m has key set to something other than null.
func present(m map[string]json.RawMessage, key string) bool {
	raw, ok := m[key]
	return ok && !isNull(raw)
}

func parseMessages(r *chatRequest, name string, raw json.RawMessage) error {
	var list []json.RawMessage
	if err := into(name, raw, &list); err != nil {
		return err
	}
	if len(list) == 0 {
		return router.Errorf(router.KindInvalid, name, "must not be empty")
	}
	r.Messages = make([]router.Message, 0, len(list))
	calls := map[string]bool{} // tool call ids the history has made
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", name, i)
		m, err := parseMessage(at, item)
		if err != nil {
			return err
		}
		for _, tc := range m.ToolCalls {
			calls[tc.ID] = true
		}
		if m.Role == "tool" && !calls[m.ToolCallID] {
			return router.Errorf(router.KindInvalid, at+".tool_call_id", "%q answers no tool call of an earlier assistant message", m.ToolCallID)
		}
		r.Messages = append(r.Messages, m)
	}
	return nil
}

func parseMessage(at string, raw json.RawMessage) (router.Message, error) {
	var msg router.Message
	keys, err := object(at, raw, "role", "content", "name", "tool_calls", "tool_call_id", "refusal", "function_call", "audio")
	if err != nil {
		return msg, err
	}
	if !present(keys, "role") {
		return msg, router.Errorf(router.KindInvalid, at+".role", "is required")
	}
	if err := into(at+".role", keys["role"], &msg.Role); err != nil {
		return msg, err
	}
	for _, k := range []string{"function_call", "audio"} {
		if present(keys, k) {
			return msg, router.Errorf(router.KindInvalid, at+"."+k, "is not supported by Switchyard (function_call is deprecated: use tool_calls)")
		}
	}
	if present(keys, "name") {
		if err := into(at+".name", keys["name"], &msg.Name); err != nil {
			return msg, err
		}
	}
	only := func(key, role string) error {
		if present(keys, key) && msg.Role != role {
			return router.Errorf(router.KindInvalid, at+"."+key, "is only allowed on %s messages", role)
		}
		return nil
	}
	for _, rule := range [][2]string{{"tool_calls", "assistant"}, {"refusal", "assistant"}, {"tool_call_id", "tool"}} {
		if err := only(rule[0], rule[1]); err != nil {
			return msg, err
		}
	}
	switch msg.Role {
	case "system", "developer":
		msg.Content, err = textContent(at+".content", keys["content"])
	case "user":
		msg.Parts, msg.Content, err = userContent(at+".content", keys["content"])
	case "assistant":
		if present(keys, "tool_calls") {
			if msg.ToolCalls, err = parseToolCalls(at+".tool_calls", keys["tool_calls"]); err != nil {
				return msg, err
			}
		}
		if present(keys, "refusal") {
			if err = into(at+".refusal", keys["refusal"], &msg.Refusal); err != nil {
				return msg, err
			}
		}
		if present(keys, "content") || (len(msg.ToolCalls) == 0 && msg.Refusal == "") {
			msg.Content, err = textContent(at+".content", keys["content"])
		}
	case "tool":
		if !present(keys, "tool_call_id") {
			return msg, router.Errorf(router.KindInvalid, at+".tool_call_id", "is required on tool messages")
		}
		if err = into(at+".tool_call_id", keys["tool_call_id"], &msg.ToolCallID); err != nil {
			return msg, err
		}
		msg.Content, err = textContent(at+".content", keys["content"])
	case "function":
		return msg, router.Errorf(router.KindInvalid, at+".role", "\"function\" messages are deprecated: use tool messages")
	default:
		return msg, router.Errorf(router.KindInvalid, at+".role", "must be system, developer, user, assistant or tool, got %q", msg.Role)
	}
	return msg, err
}

// textContent accepts a string or an array of text parts (refusal parts
// too, on assistant messages), joined by newlines.
func textContent(at string, raw json.RawMessage) (string, error) {
	parts, text, err := userContent(at, raw)
	if err != nil {
		return "", err
	}
	for j, p := range parts {
		if p.Type != router.PartText {
			return "", router.Errorf(router.KindInvalid, fmt.Sprintf("%s[%d].type", at, j), "only text parts are allowed here")
		}
	}
	return text, nil
}

// userContent accepts a string or an array of text and image_url parts.
// Parts is nil for a string. Image URLs are passed on, never fetched
// (FAULTS.md B5); only http(s) and data:image URLs are accepted.
func userContent(at string, raw json.RawMessage) ([]router.ContentPart, string, error) {
	if raw == nil || isNull(raw) {
		return nil, "", router.Errorf(router.KindInvalid, at, "is required")
	}
	if raw[0] == '"' {
		var s string
		return nil, s, into(at, raw, &s)
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, "", router.Errorf(router.KindInvalid, at, "must be a string or an array of content parts")
	}
	parts := make([]router.ContentPart, 0, len(list))
	var texts []string
	for j, item := range list {
		pat := fmt.Sprintf("%s[%d]", at, j)
		m, err := object(pat, item, "type", "text", "image_url", "refusal", "input_audio", "file")
		if err != nil {
			return nil, "", err
		}
		var typ string
		if err := into(pat+".type", m["type"], &typ); err != nil || typ == "" {
			return nil, "", router.Errorf(router.KindInvalid, pat+".type", "is required")
		}
		switch typ {
		case "text", "refusal":
			var text *string
			if err := into(pat+"."+typ, m[typ], &text); err != nil || text == nil {
				return nil, "", router.Errorf(router.KindInvalid, pat+"."+typ, "is required (a string)")
			}
			parts = append(parts, router.ContentPart{Type: router.PartText, Text: *text})
			texts = append(texts, *text)
		case "image_url":
			p, err := imagePart(pat+".image_url", m["image_url"])
			if err != nil {
				return nil, "", err
			}
			parts = append(parts, p)
		default:
			return nil, "", router.Errorf(router.KindInvalid, pat+".type", "%q parts are not supported by Switchyard (text and image_url are)", typ)
		}
	}
	return parts, strings.Join(texts, "\n"), nil
}

func imagePart(at string, raw json.RawMessage) (router.ContentPart, error) {
	m, err := object(at, raw, "url", "detail")
	if err != nil {
		return router.ContentPart{}, err
	}
	p := router.ContentPart{Type: router.PartImage}
	if err := into(at+".url", m["url"], &p.ImageURL); err != nil || p.ImageURL == "" {
		return p, router.Errorf(router.KindInvalid, at+".url", "is required (an http(s) or data:image URL)")
	}
	lower := strings.ToLower(p.ImageURL)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "data:image/") {
		return p, router.Errorf(router.KindInvalid, at+".url", "must be an http(s) or data:image URL")
	}
	if present(m, "detail") {
		if err := into(at+".detail", m["detail"], &p.Detail); err != nil {
			return p, err
		}
		switch p.Detail {
		case "auto", "low", "high":
		default:
			return p, router.Errorf(router.KindInvalid, at+".detail", "must be auto, low or high, got %q", p.Detail)
		}
	}
	return p, nil
}

func parseToolCalls(at string, raw json.RawMessage) ([]router.ToolCall, error) {
	var list []json.RawMessage
	if err := into(at, raw, &list); err != nil {
		return nil, err
	}
	out := make([]router.ToolCall, 0, len(list))
	for i, item := range list {
		cat := fmt.Sprintf("%s[%d]", at, i)
		m, err := object(cat, item, "id", "type", "function")
		if err != nil {
			return nil, err
		}
		var tc router.ToolCall
		if err := into(cat+".id", m["id"], &tc.ID); err != nil || tc.ID == "" {
			return nil, router.Errorf(router.KindInvalid, cat+".id", "is required")
		}
		if present(m, "type") {
			var typ string
			if err := into(cat+".type", m["type"], &typ); err != nil || typ != "function" {
				return nil, router.Errorf(router.KindInvalid, cat+".type", "must be \"function\"")
			}
		}
		fn, err := object(cat+".function", m["function"], "name", "arguments")
		if err != nil {
			return nil, err
		}
		if err := into(cat+".function.name", fn["name"], &tc.Name); err != nil || tc.Name == "" {
			return nil, router.Errorf(router.KindInvalid, cat+".function.name", "is required")
		}
		if err := into(cat+".function.arguments", fn["arguments"], &tc.Arguments); err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, nil
}

// toolName is OpenAI's rule for function names.
var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

func parseTools(r *chatRequest, name string, raw json.RawMessage) error {
	var list []json.RawMessage
	if err := into(name, raw, &list); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", name, i)
		m, err := object(at, item, "type", "function")
		if err != nil {
			return err
		}
		var typ string
		if err := into(at+".type", m["type"], &typ); err != nil || typ != "function" {
			return router.Errorf(router.KindInvalid, at+".type", "must be \"function\" (custom tools are not supported by Switchyard)")
		}
		fn, err := object(at+".function", m["function"], "name", "description", "parameters", "strict")
		if err != nil {
			return err
		}
		var t router.Tool
		if err := into(at+".function.name", fn["name"], &t.Name); err != nil || !toolName.MatchString(t.Name) {
			return router.Errorf(router.KindInvalid, at+".function.name", "must be 1 to 64 letters, digits, _ or -")
		}
		if seen[t.Name] {
			return router.Errorf(router.KindInvalid, at+".function.name", "duplicate tool %q", t.Name)
		}
		seen[t.Name] = true
		if present(fn, "description") {
			if err := into(at+".function.description", fn["description"], &t.Description); err != nil {
				return err
			}
		}
		if present(fn, "parameters") {
			if _, err := object(at+".function.parameters", fn["parameters"], anyKey...); err != nil {
				return err
			}
			t.Parameters = fn["parameters"]
		}
		if present(fn, "strict") {
			if err := into(at+".function.strict", fn["strict"], &t.Strict); err != nil {
				return err
			}
		}
		r.Options.Tools = append(r.Options.Tools, t)
	}
	return nil
}

// anyKey lets object check only that a value is an object: a JSON schema
// may hold any keys.
var anyKey []string

func parseToolChoice(r *chatRequest, name string, raw json.RawMessage) error {
	if raw[0] == '"' {
		if err := into(name, raw, &r.Options.ToolChoice); err != nil {
			return err
		}
		switch r.Options.ToolChoice {
		case router.ToolChoiceAuto, router.ToolChoiceNone, router.ToolChoiceRequired:
			return nil
		}
		return router.Errorf(router.KindInvalid, name, "must be auto, none, required or a function, got %q", r.Options.ToolChoice)
	}
	m, err := object(name, raw, "type", "function")
	if err != nil {
		return err
	}
	var typ string
	if err := into(name+".type", m["type"], &typ); err != nil || typ != "function" {
		return router.Errorf(router.KindInvalid, name+".type", "must be \"function\"")
	}
	fn, err := object(name+".function", m["function"], "name")
	if err != nil {
		return err
	}
	if err := into(name+".function.name", fn["name"], &r.Options.ToolChoiceName); err != nil || r.Options.ToolChoiceName == "" {
		return router.Errorf(router.KindInvalid, name+".function.name", "is required")
	}
	return nil
}

func parseResponseFormat(r *chatRequest, name string, raw json.RawMessage) error {
	m, err := object(name, raw, "type", "json_schema")
	if err != nil {
		return err
	}
	rf := &router.ResponseFormat{}
	if err := into(name+".type", m["type"], &rf.Type); err != nil {
		return err
	}
	switch rf.Type {
	case router.FormatText, router.FormatJSONObject:
		if present(m, "json_schema") {
			return router.Errorf(router.KindInvalid, name+".json_schema", "is only allowed with type json_schema")
		}
	case router.FormatJSONSchema:
		at := name + ".json_schema"
		js, err := object(at, m["json_schema"], "name", "description", "schema", "strict")
		if err != nil {
			return err
		}
		if err := into(at+".name", js["name"], &rf.Name); err != nil || !toolName.MatchString(rf.Name) {
			return router.Errorf(router.KindInvalid, at+".name", "is required: 1 to 64 letters, digits, _ or -")
		}
		if present(js, "description") {
			if err := into(at+".description", js["description"], &rf.Description); err != nil {
				return err
			}
		}
		if present(js, "schema") {
			if _, err := object(at+".schema", js["schema"], anyKey...); err != nil {
				return err
			}
			rf.Schema = js["schema"]
		}
		if present(js, "strict") {
			if err := into(at+".strict", js["strict"], &rf.Strict); err != nil {
				return err
			}
		}
	default:
		return router.Errorf(router.KindInvalid, name+".type", "must be text, json_object or json_schema, got %q", rf.Type)
	}
	r.Options.ResponseFormat = rf
	return nil
}

func parseStop(r *chatRequest, name string, raw json.RawMessage) error {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		r.Options.Stop = []string{one}
		return nil
	}
	if json.Unmarshal(raw, &r.Options.Stop) != nil {
		return router.Errorf(router.KindInvalid, name, "must be a string or an array of up to 4 strings")
	}
	if len(r.Options.Stop) > 4 {
		return router.Errorf(router.KindInvalid, name, "at most 4 stop sequences, got %d", len(r.Options.Stop))
	}
	return nil
}

func parseTopLogprobs(r *chatRequest, name string, raw json.RawMessage) error {
	var n int
	if err := into(name, raw, &n); err != nil {
		return err
	}
	if n < 0 || n > 20 {
		return router.Errorf(router.KindInvalid, name, "must be between 0 and 20, got %d", n)
	}
	r.Options.TopLogprobs = &n
	return nil
}

func parseUser(r *chatRequest, name string, raw json.RawMessage) error {
	if err := into(name, raw, &r.User); err != nil {
		return err
	}
	r.Options.User = r.User
	return nil
}

func parseMetadata(r *chatRequest, name string, raw json.RawMessage) error {
	if err := into(name, raw, &r.Metadata); err != nil {
		return err
	}
	r.Options.Metadata = r.Metadata
	return nil
}

// checkOptions checks what depends on more than one field.
func checkOptions(r *chatRequest) error {
	o := &r.Options
	if o.TopLogprobs != nil && !o.Logprobs {
		return router.Errorf(router.KindInvalid, "top_logprobs", "needs logprobs: true")
	}
	if (o.ToolChoice != "" || o.ToolChoiceName != "") && len(o.Tools) == 0 {
		return router.Errorf(router.KindInvalid, "tool_choice", "needs tools")
	}
	if o.ParallelToolCalls != nil && len(o.Tools) == 0 {
		return router.Errorf(router.KindInvalid, "parallel_tool_calls", "needs tools")
	}
	if o.ToolChoiceName != "" {
		for _, t := range o.Tools {
			if t.Name == o.ToolChoiceName {
				return nil
			}
		}
		return router.Errorf(router.KindInvalid, "tool_choice.function.name", "%q is not among the tools", o.ToolChoiceName)
	}
	return nil
}
