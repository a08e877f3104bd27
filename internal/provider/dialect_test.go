package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/router"
)

// fullCall asks for the whole chat-completions surface at once.
func fullCall() router.Call {
	yes, no := true, false
	seed, top := int64(7), 2
	pen := 0.5
	return router.Call{
		Model: "m",
		Messages: []router.Message{
			{Role: "user", Content: "weather?", Name: "ann", Parts: []router.ContentPart{{Type: router.PartText, Text: "weather?"}, {Type: router.PartImage, ImageURL: "https://x.test/a.png", Detail: "low"}}},
			{Role: "assistant", ToolCalls: []router.ToolCall{{ID: "c1", Name: "get", Arguments: `{"q":1}`}}},
			{Role: "tool", ToolCallID: "c1", Content: "18C"},
		},
		Options: router.ChatOptions{
			Tools:             []router.Tool{{Name: "get", Description: "d", Parameters: json.RawMessage(`{"type":"object"}`), Strict: &yes}},
			ToolChoice:        router.ToolChoiceRequired,
			ParallelToolCalls: &no,
			ResponseFormat:    &router.ResponseFormat{Type: router.FormatJSONSchema, Name: "r", Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: &yes},
			Stop:              []string{"\n", "END"},
			Seed:              &seed, PresencePenalty: &pen, FrequencyPenalty: &pen,
			Logprobs: true, TopLogprobs: &top, User: "u1",
			Store: &yes, Metadata: map[string]string{"team": "a"},
		},
	}
}

// TestDialectSurface pins README's provider-dialect table: the top-level
// fields each kind receives for fullCall, and the adaptations inside.
func TestDialectSurface(t *testing.T) {
	all := []string{"frequency_penalty", "logprobs", "messages", "metadata", "model", "parallel_tool_calls", "presence_penalty", "response_format", "seed", "stop", "store", "tool_choice", "tools", "top_logprobs", "user"}
	without := func(drop ...string) []string {
		var out []string
		for _, k := range all {
			if !contains(drop, k) {
				out = append(out, k)
			}
		}
		return out
	}
	tests := []struct {
		kind     string
		wantKeys []string
		check    func(t *testing.T, body map[string]any)
	}{
		{"openai", all, func(t *testing.T, body map[string]any) {
			if rf := jsonOf(body["response_format"]); !strings.Contains(rf, `"strict":true`) {
				t.Errorf("response_format %s", rf)
			}
			if !strings.Contains(jsonOf(body["messages"]), `"name":"ann"`) || jsonOf(body["metadata"]) != `{"team":"a"}` {
				t.Errorf("name or metadata lost: %s %s", jsonOf(body["messages"]), jsonOf(body["metadata"]))
			}
		}},
		{"anthropic", append(without("response_format", "seed", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "user", "store", "metadata"), "max_tokens"), func(t *testing.T, body map[string]any) {
			msgs := body["messages"].([]any)
			if first := jsonOf(msgs[0]); !strings.Contains(first, `"role":"system"`) || !strings.Contains(first, "JSON schema") {
				t.Errorf("first message %s, want the JSON instruction", first)
			}
			if jsonOf(body["stop"]) != `"END"` {
				t.Errorf("stop %s, want the blank one dropped", jsonOf(body["stop"]))
			}
			if strings.Contains(jsonOf(body["tools"]), "strict") {
				t.Errorf("tools %s kept strict", jsonOf(body["tools"]))
			}
		}},
		{"groq", without("logprobs", "top_logprobs", "store", "metadata"), func(t *testing.T, body map[string]any) {
			if strings.Contains(jsonOf(body["messages"]), `"name":"ann"`) {
				t.Errorf("messages kept names: %s", jsonOf(body["messages"]))
			}
			if strings.Contains(jsonOf(body["response_format"]), "strict") {
				t.Errorf("response_format kept strict: %s", jsonOf(body["response_format"]))
			}
		}},
		{"ollama", without("tool_choice", "user", "store", "metadata"), nil},
		{"vllm", without("store", "metadata"), nil},
		{"openai-compatible", without("store", "metadata"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			body := sent(t, tt.kind, fullCall())
			var keys []string
			for k := range body {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			want := append([]string(nil), tt.wantKeys...)
			sort.Strings(want)
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("sent %v\nwant %v", keys, want)
			}
			// Tool turns and image parts reach every kind intact.
			msgs := jsonOf(body["messages"])
			for _, s := range []string{`"image_url":{"detail":"low","url":"https://x.test/a.png"}`, `"tool_call_id":"c1"`, `"id":"c1"`, `"arguments":"{\"q\":1}"`} {
				if !strings.Contains(msgs, s) {
					t.Errorf("messages %s lack %s", msgs, s)
				}
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sent returns the body a provider of kind receives for call.
func sent(t *testing.T, kind string, call router.Call) map[string]any {
	t.Helper()
	var body map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("decode: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	defer srv.Close()
	c := New(config.Provider{Name: "p", Kind: kind, BaseURL: srv.URL + "/v1"}, Options{})
	if _, err := c.Complete(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestReplySurface: tool calls, refusals and logprobs come back from a
// whole answer and from a stream.
func TestReplySurface(t *testing.T) {
	const logprobs = `{"content":[{"token":"ok","logprob":-0.1,"bytes":[111,107],"top_logprobs":[]}],"refusal":null}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if !req.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I cannot","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get","arguments":"{\"q\":1}"}}]},"logprobs":`+logprobs+`,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, d := range []string{
			`{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get","arguments":""}}]}`,
			`{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]}`,
			`{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}`,
		} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":null}]}\n\n", d)
		}
		fmt.Fprint(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	c := New(config.Provider{Name: "p", Kind: "openai", BaseURL: srv.URL + "/v1"}, Options{})

	reply, err := c.Complete(context.Background(), router.Call{Model: "m", Messages: []router.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []router.ToolCall{{ID: "call_1", Name: "get", Arguments: `{"q":1}`}}
	if !reflect.DeepEqual(reply.ToolCalls, want) || reply.Refusal != "I cannot" || reply.FinishReason != "tool_calls" || !strings.Contains(string(reply.Logprobs), `"logprob":-0.1`) {
		t.Errorf("reply %+v logprobs %s", reply, reply.Logprobs)
	}

	st, err := c.Stream(context.Background(), router.Call{Model: "m", Messages: []router.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var deltas []router.ToolCallDelta
	for {
		ch, err := st.Recv()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		deltas = append(deltas, ch.ToolCalls...)
	}
	wantDeltas := []router.ToolCallDelta{{Index: 0, ID: "call_1", Name: "get"}, {Index: 0, Arguments: `{"q":`}, {Index: 0, Arguments: "1}"}}
	if !reflect.DeepEqual(deltas, wantDeltas) || st.Final().FinishReason != "tool_calls" {
		t.Errorf("deltas %+v finish %q", deltas, st.Final().FinishReason)
	}
}
