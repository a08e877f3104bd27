package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard/switchyard/router"
)

const surfaceLogprobs = `{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[]}],"refusal":null}`

// surfaceRouter answers with a tool call, a refusal and logprobs, whole
// or streamed, and keeps the request it was given.
type surfaceRouter struct {
	mu  sync.Mutex
	req router.Request
}

func (s *surfaceRouter) result(req router.Request) router.Result {
	s.mu.Lock()
	s.req = req
	s.mu.Unlock()
	return router.Result{
		ID: "req_s", Model: "m", FinishReason: "tool_calls", Refusal: "not that",
		ToolCalls: []router.ToolCall{{ID: "call_1", Name: "get", Arguments: `{"q":1}`}, {ID: "call_2", Name: "put", Arguments: `{}`}},
		Logprobs:  json.RawMessage(surfaceLogprobs), PromptTokens: 3, CompletionTokens: 4,
		Attempts: []router.Attempt{{Model: "m", Status: router.OutcomeOK}},
		Filtered: []router.Filtered{{Model: "small", Capability: router.CapTools}},
	}
}

func (s *surfaceRouter) Serve(ctx context.Context, req router.Request) (router.Result, error) {
	return s.result(req), nil
}

func (s *surfaceRouter) ServeStream(ctx context.Context, req router.Request, w router.StreamWriter) (router.Result, error) {
	res := s.result(req)
	if err := w.Start(res); err != nil {
		return res, err
	}
	for _, ch := range []router.Chunk{
		{Role: "assistant", ToolCalls: []router.ToolCallDelta{{Index: 0, ID: "call_1", Name: "get"}}, Logprobs: json.RawMessage(surfaceLogprobs)},
		{ToolCalls: []router.ToolCallDelta{{Index: 0, Arguments: `{"q":`}}},
		{ToolCalls: []router.ToolCallDelta{{Index: 0, Arguments: `1}`}}},
		{ToolCalls: []router.ToolCallDelta{{Index: 1, ID: "call_2", Name: "put"}}},
		{ToolCalls: []router.ToolCallDelta{{Index: 1, Arguments: `{}`}}},
		{Refusal: "not that"},
		{FinishReason: "tool_calls"},
	} {
		if err := w.Write(ch); err != nil {
			return res, err
		}
	}
	return res, nil
}

// TestChatSurfaceWire: what a client sends reaches the router parsed, and
// tool calls, refusals and logprobs come back as openai-go reads them.
func TestChatSurfaceWire(t *testing.T) {
	sr := &surfaceRouter{}
	s := New(Options{Router: sr, Spend: fixedSpend{}, Baseline: "m", MaxBodyBytes: 1 << 20, Now: func() time.Time { return time.Unix(1, 0) }})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	client := openai.NewClient(option.WithBaseURL(ts.URL+"/v1"), option.WithAPIKey("x"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model: "auto",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.TextContentPart("look"), openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://x.test/a.png", Detail: "high"}),
		})},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: "get", Parameters: shared.FunctionParameters{"type": "object"}, Strict: openai.Bool(true),
		})},
		ToolChoice:        openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get"}),
		ParallelToolCalls: openai.Bool(false),
		ResponseFormat:    openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
		Stop:              openai.ChatCompletionNewParamsStopUnion{OfString: openai.String("END")},
		Seed:              openai.Int(9),
		Logprobs:          openai.Bool(true),
		TopLogprobs:       openai.Int(1),
		User:              openai.String("u"),
	}

	var hr *http.Response
	resp, err := client.Chat.Completions.New(context.Background(), params, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	no, seed, top := false, int64(9), 1
	want := router.ChatOptions{
		Tools:      []router.Tool{{Name: "get", Parameters: json.RawMessage(`{"type":"object"}`), Strict: &[]bool{true}[0]}},
		ToolChoice: "", ToolChoiceName: "get", ParallelToolCalls: &no,
		ResponseFormat: &router.ResponseFormat{Type: router.FormatJSONObject},
		Stop:           []string{"END"}, Seed: &seed, Logprobs: true, TopLogprobs: &top, User: "u",
	}
	sr.mu.Lock()
	got := sr.req
	sr.mu.Unlock()
	if !reflect.DeepEqual(got.Options, want) {
		t.Errorf("options\n%+v\nwant\n%+v", got.Options, want)
	}
	if parts := got.Messages[0].Parts; len(parts) != 2 || parts[1] != (router.ContentPart{Type: router.PartImage, ImageURL: "https://x.test/a.png", Detail: "high"}) {
		t.Errorf("parts %+v", parts)
	}
	c := resp.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 2 || c.Message.ToolCalls[0].Function.Arguments != `{"q":1}` || c.Message.Refusal != "not that" ||
		len(c.Logprobs.Content) != 1 || c.Logprobs.Content[0].Token != "Hi" || c.Message.JSON.Content.Raw() != "null" {
		t.Errorf("choice %s", c.RawJSON())
	}
	if f := hr.Header.Get("x-switchyard-filtered"); f != "small=tools" {
		t.Errorf("x-switchyard-filtered = %q", f)
	}

	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	finished := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if _, ok := acc.JustFinishedToolCall(); ok {
			finished++
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	m := acc.Choices[0].Message
	if finished != 2 || len(m.ToolCalls) != 2 || m.ToolCalls[0].Function.Arguments != `{"q":1}` || m.ToolCalls[1].Function.Name != "put" ||
		m.Refusal != "not that" || acc.Choices[0].FinishReason != "tool_calls" || len(acc.Choices[0].Logprobs.Content) != 1 {
		t.Errorf("accumulated %+v (finished %d)", acc.Choices[0], finished)
	}
}
