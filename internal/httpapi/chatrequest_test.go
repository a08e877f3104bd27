package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestChatBadInput is FAULTS.md B1-B4 on /v1/chat/completions: an OpenAI
// error naming the field, and nothing reaches the upstream or the record.
func TestChatBadInput(t *testing.T) {
	user := `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, body string
		header     []string
		wantCode   int
		wantParam  string
	}{
		{"invalid json", `{"model":`, nil, 400, "body"},
		{"array body", `[1]`, nil, 400, "body"},
		{"too large", `{"model":"auto",` + user + `,"user":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "body"},
		{"missing model", `{` + user + `}`, nil, 400, "model"},
		{"model wrong type", `{"model":42,` + user + `}`, nil, 400, "model"},
		{"unknown model", `{"model":"gpt-9",` + user + `}`, nil, 404, "model"},
		{"missing messages", `{"model":"auto"}`, nil, 400, "messages"},
		{"empty messages", `{"model":"auto","messages":[]}`, nil, 400, "messages"},
		{"messages wrong type", `{"model":"auto","messages":"hi"}`, nil, 400, "messages"},
		{"message not an object", `{"model":"auto","messages":["hi"]}`, nil, 400, "messages[0]"},
		{"content wrong type", `{"model":"auto","messages":[{"role":"user","content":42}]}`, nil, 400, "messages[0].content"},
		{"content missing", `{"model":"auto","messages":[{"role":"user"}]}`, nil, 400, "messages[0].content"},
		{"role missing", `{"model":"auto","messages":[{"content":"hi"}]}`, nil, 400, "messages[0].role"},
		{"role unknown", `{"model":"auto","messages":[{"role":"wizard","content":"hi"}]}`, nil, 400, "messages[0].role"},
		{"tool message without call id", `{"model":"auto","messages":[{"role":"tool","content":"hi","tool_call_id":null}]}`, nil, 400, "messages[0].tool_call_id"},
		{"tool message answering no call", `{"model":"auto","messages":[{"role":"user","content":"hi"},{"role":"tool","content":"42","tool_call_id":"call_x"}]}`, nil, 400, "messages[1].tool_call_id"},
		{"tool call without id", `{"model":"auto","messages":[{"role":"assistant","content":"","tool_calls":[{}]},{"role":"user","content":"hi"}]}`, nil, 400, "messages[0].tool_calls[0].id"},
		{"tool call unknown key", `{"model":"auto","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}","x":1}}]},{"role":"user","content":"hi"}]}`, nil, 400, "messages[0].tool_calls[0].function.x"},
		{"tool_calls on a user message", `{"model":"auto","messages":[{"role":"user","content":"hi","tool_calls":[]}]}`, nil, 400, "messages[0].tool_calls"},
		{"image file URL (B5)", `{"model":"auto","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}`, nil, 400, "messages[0].content[0].image_url.url"},
		{"image in a system message", `{"model":"auto","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]},{"role":"user","content":"hi"}]}`, nil, 400, "messages[0].content[0].type"},
		{"audio part", `{"model":"auto","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, nil, 400, "messages[0].content[0].type"},
		{"function role", `{"model":"auto","messages":[{"role":"function","content":"hi","name":"f"}]}`, nil, 400, "messages[0].role"},
		{"no user turn", `{"model":"auto","messages":[{"role":"system","content":"be nice"}]}`, nil, 400, "messages"},
		{"blank user turn", `{"model":"auto","messages":[{"role":"user","content":"  "}]}`, nil, 400, "messages"},
		{"n of 2", `{"model":"auto",` + user + `,"n":2}`, nil, 400, "n"},
		{"max_tokens zero", `{"model":"auto",` + user + `,"max_tokens":0}`, nil, 400, "max_tokens"},
		{"max_tokens negative", `{"model":"auto",` + user + `,"max_tokens":-5}`, nil, 400, "max_tokens"},
		{"max_tokens fractional", `{"model":"auto",` + user + `,"max_tokens":1.5}`, nil, 400, "max_tokens"},
		{"max_completion_tokens huge negative", `{"model":"auto",` + user + `,"max_completion_tokens":-1e9}`, nil, 400, "max_completion_tokens"},
		{"temperature too high", `{"model":"auto",` + user + `,"temperature":3}`, nil, 400, "temperature"},
		{"temperature negative", `{"model":"auto",` + user + `,"temperature":-0.1}`, nil, 400, "temperature"},
		{"temperature wrong type", `{"model":"auto",` + user + `,"temperature":"hot"}`, nil, 400, "temperature"},
		{"top_p too high", `{"model":"auto",` + user + `,"top_p":1.5}`, nil, 400, "top_p"},
		{"stream wrong type", `{"model":"auto",` + user + `,"stream":"yes"}`, nil, 400, "stream"},
		{"stream_options without stream", `{"model":"auto",` + user + `,"stream_options":{"include_usage":true}}`, nil, 400, "stream_options"},
		{"stream_options unknown key", `{"model":"auto",` + user + `,"stream":true,"stream_options":{"include_usage":true,"x":1}}`, nil, 400, "stream_options"},
		{"metadata wrong type", `{"model":"auto",` + user + `,"metadata":{"a":1}}`, nil, 400, "metadata"},
		{"tool without a name", `{"model":"auto",` + user + `,"tools":[{"type":"function","function":{"description":"f"}}]}`, nil, 400, "tools[0].function.name"},
		{"custom tool", `{"model":"auto",` + user + `,"tools":[{"type":"custom","custom":{"name":"f"}}]}`, nil, 400, "tools[0].custom"},
		{"tool unknown key", `{"model":"auto",` + user + `,"tools":[{"type":"function","function":{"name":"f","parameters":{},"examples":[]}}]}`, nil, 400, "tools[0].function.examples"},
		{"tool parameters not an object", `{"model":"auto",` + user + `,"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]}`, nil, 400, "tools[0].function.parameters"},
		{"tool_choice unknown tool", `{"model":"auto",` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}}`, nil, 400, "tool_choice.function.name"},
		{"tool_choice without tools", `{"model":"auto",` + user + `,"tool_choice":"required"}`, nil, 400, "tool_choice"},
		{"tool_choice bad word", `{"model":"auto",` + user + `,"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"always"}`, nil, 400, "tool_choice"},
		{"five stop sequences", `{"model":"auto",` + user + `,"stop":["a","b","c","d","e"]}`, nil, 400, "stop"},
		{"response format xml", `{"model":"auto",` + user + `,"response_format":{"type":"xml"}}`, nil, 400, "response_format.type"},
		{"json_schema without name", `{"model":"auto",` + user + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`, nil, 400, "response_format.json_schema.name"},
		{"json_schema unknown key", `{"model":"auto",` + user + `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{},"format":1}}}`, nil, 400, "response_format.json_schema.format"},
		{"presence penalty too high", `{"model":"auto",` + user + `,"presence_penalty":3}`, nil, 400, "presence_penalty"},
		{"top_logprobs without logprobs", `{"model":"auto",` + user + `,"top_logprobs":3}`, nil, 400, "top_logprobs"},
		{"top_logprobs too many", `{"model":"auto",` + user + `,"logprobs":true,"top_logprobs":30}`, nil, 400, "top_logprobs"},
		{"functions (deprecated)", `{"model":"auto",` + user + `,"functions":[{"name":"f"}]}`, nil, 400, "functions"},
		{"unknown field", `{"model":"auto",` + user + `,"frobnicate":true}`, nil, 400, "frobnicate"},
		{"api_base (B4)", `{"model":"auto",` + user + `,"api_base":"http://169.254.169.254"}`, nil, 400, "api_base"},
		{"base_url (B4)", `{"model":"auto",` + user + `,"base_url":"http://evil"}`, nil, 400, "base_url"},
		{"api_key (B4)", `{"model":"auto",` + user + `,"api_key":"sk-x"}`, nil, 400, "api_key"},
		{"custom_llm_provider (B4)", `{"model":"auto",` + user + `,"custom_llm_provider":"openai"}`, nil, 400, "custom_llm_provider"},
		{"null api_base (B4)", `{"model":"auto",` + user + `,"api_base":null}`, nil, 400, "api_base"},
		{"x-api-base header (B4)", `{"model":"auto",` + user + `}`, []string{"X-Api-Base", "http://evil"}, 400, "x-api-base"},
		{"x-base-url header (B4)", `{"model":"auto",` + user + `}`, []string{"X-Base-URL", "http://evil"}, 400, "x-base-url"},
	}
	st := newStack(t, []string{"ok-a"}, 2*time.Second)
	defer st.close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := st.post(t, tt.body, tt.header...)
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.wantCode, body)
			}
			var env struct {
				Error struct {
					Message string  `json:"message"`
					Type    string  `json:"type"`
					Param   *string `json:"param"`
					Code    string  `json:"code"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("body %q is not an OpenAI error: %v", body, err)
			}
			e := env.Error
			if e.Param == nil || *e.Param != tt.wantParam || !strings.Contains(e.Message, tt.wantParam) || e.Type != "invalid_request_error" {
				t.Errorf("error = %s, want an invalid_request_error naming %q", body, tt.wantParam)
			}
		})
	}
	if got := st.up.Attempts(); len(got) != 0 {
		t.Errorf("bad input reached the upstream: %v", st.up.Models())
	}
	if got := st.rec.wait(0); len(got) != 0 {
		t.Errorf("bad input was recorded: %d records", len(got))
	}
}

// TestChatAcceptedInput covers what must not be refused: content as text
// parts, neutral values of unsupported knobs, nulls, proxy headers.
func TestChatAcceptedInput(t *testing.T) {
	// B5: a URL in a message is text; nothing fetches it.
	var fetched atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer target.Close()

	st := newStack(t, []string{"ok-a"}, 2*time.Second)
	defer st.close()
	bodies := []struct {
		body   string
		header []string
	}{
		{`{"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"text","text":"there"}]}]}`, nil},
		{`{"model":"auto","messages":[{"role":"developer","content":"x"},{"role":"user","content":"hi","name":"bob"}],"n":1,"temperature":0.2,"top_p":1,"max_completion_tokens":50,"seed":7,"presence_penalty":0,"logprobs":false,"response_format":{"type":"text"},"tools":null,"stop":null,"top_logprobs":null}`, nil},
		{`{"model":"auto","messages":[{"role":"user","content":"summarise ` + target.URL + `/secret please"}]}`, nil},
		{`{"model":"ok-b","messages":[{"role":"user","content":"hi"}],"user":"u1","metadata":{"team":"a"}}`, []string{"X-Forwarded-Host", "gateway.example", "X-Api-Key", "client-key"}},
		// An image is passed on by URL, never fetched; an image alone is a prompt.
		{`{"model":"auto","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"` + target.URL + `/cat.png","detail":"low"}}]}]}`, nil},
		{`{"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}`, nil},
		// The whole surface at once, a tool loop's second step included.
		{`{"model":"auto","messages":[{"role":"user","content":"weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"18C"}],` +
			`"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}}],"tool_choice":"auto","parallel_tool_calls":false,` +
			`"response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object"},"strict":true}},"stop":"END","seed":1,"presence_penalty":0.5,"frequency_penalty":-0.5,"logprobs":true,"top_logprobs":2,"store":false}`, nil},
	}
	for _, b := range bodies {
		if resp, raw := st.post(t, b.body, b.header...); resp.StatusCode != 200 {
			t.Errorf("%s: status %d, want 200 (%s)", b.body, resp.StatusCode, raw)
		}
	}
	if fetched.Load() != 0 {
		t.Errorf("a URL inside a message was fetched")
	}
}

func TestModels(t *testing.T) {
	st := newStack(t, []string{"ok-a"}, 2*time.Second)
	defer st.close()
	client := st.openai()
	page, err := client.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" || m.OwnedBy == "" {
			t.Errorf("model %+v: want object model and an owner", m)
		}
	}
	if len(ids) != len(fakeModels)+1 || ids[0] != "auto" {
		t.Errorf("models = %v, want auto then the %d configured", ids, len(fakeModels))
	}
	m, err := client.Models.Get(context.Background(), "ok-a")
	if err != nil || m.ID != "ok-a" || m.OwnedBy != "fake" {
		t.Errorf("get ok-a = %+v, %v", m, err)
	}
	if _, err := client.Models.Get(context.Background(), "gpt-9"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("get gpt-9 = %v, want a 404", err)
	}
}

func TestChatWithoutStreamRouter(t *testing.T) {
	// A Router that cannot stream refuses stream requests plainly.
	_, ts := newTestServer(t, &echoRouter{}, fixedSpend{}, nil)
	code, body, _ := do(t, "POST", ts.URL+"/v1/chat/completions", `{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if code != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "stream") {
		t.Errorf("status %d body %v, want 400 naming stream", code, body)
	}
	code, body, _ = do(t, "GET", ts.URL+"/v1/models", "")
	if data := body["data"].([]any); code != 200 || len(data) != 1 {
		t.Errorf("models without a lister: %d %v, want auto only", code, body)
	}
}
