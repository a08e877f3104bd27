package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/upstream"
	"github.com/switchyard/switchyard/router"
)

// The chat-completions surface end to end (issue 13): openai-go, a client
// no one here wrote, against the real server and the demo upstream
// through config/demo.yaml, where llama-3.1-8b-instant lacks tools and
// vision and the Claude models lack strict schemas.

// cutMarker in a streamed prompt makes the upstream cut its stream inside
// a tool call's arguments.
const cutMarker = "CUT_TOOL_STREAM"

// upstreamCall is one chat request as it reached the upstream.
type upstreamCall struct {
	model string
	body  map[string]any
}

// watcher stands in front of the demo upstream, keeping every request
// body and cutting marked streams.
type watcher struct {
	up    http.Handler
	mu    sync.Mutex
	calls []upstreamCall
}

func (w *watcher) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	model, _ := body["model"].(string)
	w.mu.Lock()
	w.calls = append(w.calls, upstreamCall{model: model, body: body})
	w.mu.Unlock()
	if body["stream"] == true && bytes.Contains(raw, []byte(cutMarker)) {
		// The opening tool-call piece and half the arguments, then the
		// body ends: no finish_reason, no [DONE].
		rw.Header().Set("Content-Type", "text/event-stream")
		rw.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(rw, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"`+model+`","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_cut","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`+"\n\n")
		_, _ = io.WriteString(rw, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"`+model+`","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Par"}}]},"finish_reason":null}]}`+"\n\n")
		if bytes.Contains(raw, []byte(cutMarker+"_FINISHED")) {
			// The provider claims to finish though the arguments stop
			// short.
			_, _ = io.WriteString(rw, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"`+model+`","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`+"\n\ndata: [DONE]\n\n")
		}
		rw.(http.Flusher).Flush()
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	w.up.ServeHTTP(rw, r)
}

// last returns the last request that reached model, skipping classifier
// calls.
func (w *watcher) last(t *testing.T, model string) map[string]any {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.calls) - 1; i >= 0; i-- {
		c := w.calls[i]
		if c.model == model && !strings.Contains(mustJSON(c.body["tools"]), upstream.ClassifierTool) {
			return c.body
		}
	}
	t.Fatalf("no request reached %s", model)
	return nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// startSurface serves config/demo.yaml on SQLite behind a watcher.
func startSurface(t *testing.T) (*instance, *watcher, openai.Client) {
	t.Helper()
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	up := upstream.New(items, upstream.Options{})
	w := &watcher{up: up}
	in := startServeHandler(t, storetest.URL(t, store.DialectSQLite), up, w, "../../config/demo.yaml")
	client := openai.NewClient(option.WithBaseURL(in.url+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	return in, w, client
}

// weatherTool is a strict function tool with an enum and a nested
// object, so schema-valid arguments are not trivial.
func weatherTool() openai.ChatCompletionToolUnionParam {
	return openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Current weather for a city"),
		Strict:      openai.Bool(true),
		Parameters: shared.FunctionParameters{
			"type": "object",
			"properties": map[string]any{
				"city": map[string]any{"type": "string"},
				"unit": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
				"when": map[string]any{"type": "object", "properties": map[string]any{"days_ahead": map[string]any{"type": "integer", "minimum": 0}}, "required": []string{"days_ahead"}, "additionalProperties": false},
			},
			"required":             []string{"city", "unit", "when"},
			"additionalProperties": false,
		},
	})
}

// checkWeatherArgs checks arguments against weatherTool's schema.
func checkWeatherArgs(t *testing.T, args string) {
	t.Helper()
	var a struct {
		City *string `json:"city"`
		Unit *string `json:"unit"`
		When *struct {
			DaysAhead *int `json:"days_ahead"`
		} `json:"when"`
	}
	dec := json.NewDecoder(strings.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("arguments %s: %v", args, err)
	}
	if a.City == nil || a.Unit == nil || (*a.Unit != "celsius" && *a.Unit != "fahrenheit") || a.When == nil || a.When.DaysAhead == nil || *a.When.DaysAhead < 0 {
		t.Errorf("arguments %s are not valid for the schema", args)
	}
}

func TestChatToolLoop(t *testing.T) {
	in, w, client := startSurface(t)
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{
		Model:    "auto",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool()},
	}
	var first *http.Response
	resp, err := client.Chat.Completions.New(ctx, params, option.WithResponseInto(&first))
	if err != nil {
		t.Fatalf("step 1: %v\n%s", err, in.stderr)
	}
	c := resp.Choices[0]
	if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 {
		t.Fatalf("step 1: finish %q with %d tool calls, want one call", c.FinishReason, len(c.Message.ToolCalls))
	}
	call := c.Message.ToolCalls[0]
	if call.ID == "" || call.Type != "function" || call.Function.Name != "get_weather" {
		t.Errorf("step 1: call %+v", call)
	}
	checkWeatherArgs(t, call.Function.Arguments)
	model := first.Header.Get("x-switchyard-model")
	if model == "llama-3.1-8b-instant" || model == "" {
		t.Errorf("step 1 went to %q, a model without tools", model)
	}
	// The tools reached the model as sent.
	sent := w.last(t, model)
	if got := mustJSON(sent["tools"]); !strings.Contains(got, `"strict":true`) || !strings.Contains(got, `"days_ahead"`) {
		t.Errorf("tools reached the upstream as %s", got)
	}

	// Step 2: the tool result goes back; the answer is text, from the
	// same model (the tool call pins the loop, no conversation id given).
	params.Messages = append(params.Messages, c.Message.ToParam(), openai.ToolMessage(`{"temperature":18,"unit":"celsius"}`, call.ID))
	var second *http.Response
	resp, err = client.Chat.Completions.New(ctx, params, option.WithResponseInto(&second))
	if err != nil {
		t.Fatalf("step 2: %v", err)
	}
	c = resp.Choices[0]
	if c.FinishReason != "stop" || c.Message.Content == "" || len(c.Message.ToolCalls) != 0 {
		t.Errorf("step 2: finish %q content %q calls %d, want a text answer", c.FinishReason, c.Message.Content, len(c.Message.ToolCalls))
	}
	if got := second.Header.Get("x-switchyard-model"); got != model {
		t.Errorf("step 2 went to %s, want the loop's model %s", got, model)
	}
	msgs, _ := w.last(t, model)["messages"].([]any)
	if len(msgs) != 3 || !strings.Contains(mustJSON(msgs[1]), call.ID) || !strings.Contains(mustJSON(msgs[2]), `"tool_call_id":"`+call.ID+`"`) {
		t.Errorf("step 2 history reached the upstream as %s", mustJSON(msgs))
	}

	// Both steps are recorded as tool traffic; the first answer was a
	// tool call, and the filter is kept.
	st := openTestStore(t, in.dbURL)
	rec := waitRecord(t, st, first.Header.Get("x-switchyard-request-id"))
	if !rec.Traffic.UsesTools || !rec.Traffic.ToolCallAnswer || rec.Status != "ok" {
		t.Errorf("step 1 record: traffic %+v status %s", rec.Traffic, rec.Status)
	}
	rec = waitRecord(t, st, second.Header.Get("x-switchyard-request-id"))
	if !rec.Traffic.UsesTools || rec.Traffic.ToolCallAnswer {
		t.Errorf("step 2 record: traffic %+v", rec.Traffic)
	}
}

// waitRecord waits for the recorder to write request id.
func waitRecord(t *testing.T, st *store.Store, id string) recordView {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := st.GetRequest(context.Background(), id)
		if err == nil {
			return recordView{Traffic: rec.Traffic, Status: rec.Status, Filtered: rec.Filtered}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s not recorded after 20s: %v", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type recordView struct {
	Traffic  router.Traffic
	Status   string
	Filtered []router.Filtered
}

func TestChatToolStream(t *testing.T) {
	_, _, client := startSurface(t)
	params := openai.ChatCompletionNewParams{
		Model:         "auto",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Oslo?")},
		Tools:         []openai.ChatCompletionToolUnionParam{weatherTool()},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), params)
	var acc openai.ChatCompletionAccumulator
	finished, openings, pieces := 0, 0, 0
	for stream.Next() {
		ch := stream.Current()
		acc.AddChunk(ch)
		if _, ok := acc.JustFinishedToolCall(); ok {
			finished++
		}
		for _, choice := range ch.Choices {
			for _, d := range choice.Delta.ToolCalls {
				pieces++
				// OpenAI's framing: the first piece of a call has its id,
				// type and name; later ones only index and arguments.
				if d.ID != "" {
					openings++
					if d.Type != "function" || d.Function.Name != "get_weather" || d.Index != 0 {
						t.Errorf("opening piece %s", d.RawJSON())
					}
				} else if d.Function.Name != "" || !d.JSON.Index.Valid() {
					t.Errorf("later piece %s names the function or lacks an index", d.RawJSON())
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if openings != 1 || pieces < 2 || finished != 1 {
		t.Errorf("got %d openings in %d pieces and %d finished calls, want 1 opening, several pieces, 1 finished", openings, pieces, finished)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].FinishReason != "tool_calls" || len(acc.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("accumulated %+v", acc.ChatCompletion)
	}
	checkWeatherArgs(t, acc.Choices[0].Message.ToolCalls[0].Function.Arguments)
	if acc.Usage.CompletionTokens <= 0 {
		t.Errorf("usage %+v, want completion tokens", acc.Usage)
	}
}

// TestChatToolStreamCut: a stream cut inside a tool call's arguments is a
// failure the client sees, never a partial call reported as success.
func TestChatToolStreamCut(t *testing.T) {
	in, _, client := startSurface(t)
	for _, tc := range []struct{ name, marker, want string }{
		{"cut", cutMarker, "broke off"},
		{"finished with half arguments", cutMarker + "_FINISHED", "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) { streamCut(t, in, client, tc.marker, tc.want) })
	}
}

func streamCut(t *testing.T, in *instance, client openai.Client, marker, want string) {
	params := openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather please " + marker)},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool()},
	}
	var hr *http.Response
	stream := client.Chat.Completions.NewStreaming(context.Background(), params, option.WithResponseInto(&hr))
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if _, ok := acc.JustFinishedToolCall(); ok {
			t.Errorf("a cut tool call was reported finished")
		}
	}
	err := stream.Err()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("stream error = %v, want the break reported (%q)", err, want)
	}
	if len(acc.Choices) > 0 && acc.Choices[0].FinishReason != "" {
		t.Errorf("cut stream has finish reason %q", acc.Choices[0].FinishReason)
	}
	rec := waitRecord(t, openTestStore(t, in.dbURL), hr.Header.Get("x-switchyard-request-id"))
	if rec.Status != "error" {
		t.Errorf("cut stream recorded as %q, want error", rec.Status)
	}
}

func TestChatJSONOutput(t *testing.T) {
	_, w, client := startSurface(t)
	ctx := context.Background()
	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:          "auto",
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 17 + 25? Answer in JSON.")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &obj); err != nil {
		t.Errorf("json_object answer %q is not a JSON object: %v", resp.Choices[0].Message.Content, err)
	}

	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"answer":     map[string]any{"type": "string"},
			"confidence": map[string]any{"type": "number"},
			"steps":      map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
		"required":             []string{"answer", "confidence", "steps"},
		"additionalProperties": false,
	}
	var hr *http.Response
	resp, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "auto",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is 2 + 2?")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "result", Schema: schema, Strict: openai.Bool(true)},
		}},
	}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Answer     *string   `json:"answer"`
		Confidence *float64  `json:"confidence"`
		Steps      *[]string `json:"steps"`
	}
	dec := json.NewDecoder(strings.NewReader(resp.Choices[0].Message.Content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil || out.Answer == nil || out.Confidence == nil || out.Steps == nil {
		t.Errorf("json_schema answer %q is not valid for the schema (%v)", resp.Choices[0].Message.Content, err)
	}
	model := hr.Header.Get("x-switchyard-model")
	if model != "gpt-4o-mini" && model != "gpt-4o" {
		t.Errorf("strict schema went to %s, want a model with json_schema", model)
	}
	if rf := mustJSON(w.last(t, model)["response_format"]); !strings.Contains(rf, `"strict":true`) {
		t.Errorf("response_format reached the upstream as %s", rf)
	}
}

func TestChatImage(t *testing.T) {
	_, w, client := startSurface(t)
	const img = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	var hr *http.Response
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "auto",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.TextContentPart("What is 2 + 2?"),
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: img, Detail: "low"}),
		})},
	}, option.WithResponseInto(&hr))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content == "" {
		t.Errorf("empty answer")
	}
	model := hr.Header.Get("x-switchyard-model")
	if model == "llama-3.1-8b-instant" {
		t.Errorf("an image went to a model without vision")
	}
	if got := hr.Header.Get("x-switchyard-filtered"); !strings.Contains(got, "llama-3.1-8b-instant=vision") {
		t.Errorf("x-switchyard-filtered = %q, want llama-3.1-8b-instant=vision", got)
	}
	if msgs := mustJSON(w.last(t, model)["messages"]); !strings.Contains(msgs, img) || !strings.Contains(msgs, `"detail":"low"`) {
		t.Errorf("the image part reached the upstream as %s", msgs)
	}
}

// TestChatCapabilityFilter: each capability filters, shows in the
// headers, escalates when the bucket has no capable model, and is a 400
// naming it when no model can.
func TestChatCapabilityFilter(t *testing.T) {
	_, _, client := startSurface(t)
	ctx := context.Background()
	user := func(s string) []openai.ChatCompletionMessageParamUnion {
		return []openai.ChatCompletionMessageParamUnion{openai.UserMessage(s)}
	}
	strict := openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "r", Schema: map[string]any{"type": "object"}, Strict: openai.Bool(true)},
	}}
	image := []openai.ChatCompletionMessageParamUnion{openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
		openai.TextContentPart("What is 2 + 2?"),
		openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.invalid/a.png"}),
	})}

	t.Run("filtered", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			params openai.ChatCompletionNewParams
			want   string
		}{
			{"tools", openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 2 + 2?"), Tools: []openai.ChatCompletionToolUnionParam{weatherTool()}}, "llama-3.1-8b-instant=tools"},
			{"vision", openai.ChatCompletionNewParams{Model: "auto", Messages: image}, "llama-3.1-8b-instant=vision"},
			{"json_schema", openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 2 + 2?"), ResponseFormat: strict}, "llama-3.1-8b-instant=json_schema"},
			{"max_output_tokens", openai.ChatCompletionNewParams{Model: "auto", Messages: user("What is 2 + 2?"), MaxTokens: openai.Int(20000)}, "gpt-4o-mini=max_output_tokens,gpt-4o=max_output_tokens"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var hr *http.Response
				if _, err := client.Chat.Completions.New(ctx, tc.params, option.WithResponseInto(&hr)); err != nil {
					t.Fatal(err)
				}
				if got := hr.Header.Get("x-switchyard-filtered"); got != tc.want {
					t.Errorf("x-switchyard-filtered = %q (model %s, complexity %s), want %q", got, hr.Header.Get("x-switchyard-model"), hr.Header.Get("x-switchyard-complexity"), tc.want)
				}
			})
		}
	})

	t.Run("escalated", func(t *testing.T) {
		// The complex bucket is gpt-4o and claude-sonnet-4-5: neither
		// writes 100,000 tokens, so the first configured model that can
		// answers.
		var hr *http.Response
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "auto", Messages: user("Prove that there are infinitely many primes."), MaxTokens: openai.Int(100000),
		}, option.WithResponseInto(&hr))
		if err != nil {
			t.Fatal(err)
		}
		if hr.Header.Get("x-switchyard-escalated") != "capability" || hr.Header.Get("x-switchyard-model") != "llama-3.1-8b-instant" {
			t.Errorf("headers %v, want escalation to llama-3.1-8b-instant", hr.Header)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			params    openai.ChatCompletionNewParams
			wantParam string
			wantWord  string
		}{
			{"named model without tools", openai.ChatCompletionNewParams{Model: "llama-3.1-8b-instant", Messages: user("hi"), Tools: []openai.ChatCompletionToolUnionParam{weatherTool()}}, "tools", "tool calling"},
			{"named model without vision", openai.ChatCompletionNewParams{Model: "llama-3.1-8b-instant", Messages: image}, "messages", "vision"},
			{"named model without strict schemas", openai.ChatCompletionNewParams{Model: "claude-haiku-4-5", Messages: user("hi"), ResponseFormat: strict}, "response_format", "json_schema"},
			{"no model writes that much", openai.ChatCompletionNewParams{Model: "auto", Messages: user("hi"), MaxTokens: openai.Int(500000)}, "max_tokens", "max_output_tokens"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := client.Chat.Completions.New(ctx, tc.params)
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != tc.wantParam || !strings.Contains(apiErr.Message, tc.wantWord) {
					t.Errorf("error = %v, want a 400 on %s naming %s", err, tc.wantParam, tc.wantWord)
				}
			})
		}
	})
}

// TestChatDialects: what each provider kind of config/demo.yaml receives
// (internal/provider/dialect.go has every kind's rules).
func TestChatDialects(t *testing.T) {
	_, w, client := startSurface(t)
	ctx := context.Background()
	full := func(model string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{
			Model: model,
			Messages: []openai.ChatCompletionMessageParamUnion{
				openai.DeveloperMessage("Be brief."),
				{OfUser: &openai.ChatCompletionUserMessageParam{Content: openai.ChatCompletionUserMessageParamContentUnion{OfString: openai.String("What is 2 + 2?")}, Name: openai.String("ann")}},
			},
			Tools: []openai.ChatCompletionToolUnionParam{weatherTool()},
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "r", Schema: map[string]any{"type": "object", "properties": map[string]any{"answer": map[string]any{"type": "string"}}}},
			}},
			Stop:             openai.ChatCompletionNewParamsStopUnion{OfStringArray: []string{" ", "END"}},
			Seed:             openai.Int(7),
			PresencePenalty:  openai.Float(0.5),
			FrequencyPenalty: openai.Float(0.5),
			Logprobs:         openai.Bool(true),
			TopLogprobs:      openai.Int(2),
			Temperature:      openai.Float(1.5),
			User:             openai.String("u1"),
			ToolChoice:       openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")},
		}
	}
	for _, model := range []string{"gpt-4o", "claude-haiku-4-5"} {
		if _, err := client.Chat.Completions.New(ctx, full(model)); err != nil {
			t.Fatalf("%s: %v", model, err)
		}
	}
	llama := full("llama-3.1-8b-instant")
	llama.Tools, llama.ToolChoice = nil, openai.ChatCompletionToolChoiceOptionUnionParam{}
	if _, err := client.Chat.Completions.New(ctx, llama); err != nil {
		t.Fatalf("llama: %v", err)
	}

	has := func(body map[string]any, keys ...string) []string {
		var missing []string
		for _, k := range keys {
			if _, ok := body[k]; !ok {
				missing = append(missing, k)
			}
		}
		return missing
	}
	all := []string{"response_format", "stop", "seed", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "user", "tools", "tool_choice"}

	t.Run("openai passes everything", func(t *testing.T) {
		body := w.last(t, "gpt-4o")
		if missing := has(body, all...); len(missing) > 0 {
			t.Errorf("missing %v in %s", missing, mustJSON(body))
		}
		if msgs := mustJSON(body["messages"]); !strings.Contains(msgs, `"role":"developer"`) || !strings.Contains(msgs, `"name":"ann"`) {
			t.Errorf("messages %s", msgs)
		}
	})
	t.Run("anthropic", func(t *testing.T) {
		body := w.last(t, "claude-haiku-4-5")
		for _, k := range []string{"response_format", "seed", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs", "user"} {
			if _, ok := body[k]; ok {
				t.Errorf("%s was sent to Anthropic, which ignores it", k)
			}
		}
		if got := mustJSON(body["stop"]); got != `"END"` {
			t.Errorf("stop = %s, want the blank sequence dropped", got)
		}
		if strings.Contains(mustJSON(body["tools"]), "strict") {
			t.Errorf("tools kept strict: %s", mustJSON(body["tools"]))
		}
		if body["temperature"] != 1.0 {
			t.Errorf("temperature = %v, want capped at 1", body["temperature"])
		}
		msgs, _ := body["messages"].([]any)
		first := mustJSON(msgs[0])
		if !strings.Contains(first, `"role":"system"`) || !strings.Contains(first, "JSON") || !strings.Contains(first, `\"answer\"`) {
			t.Errorf("first message %s, want a system instruction with the schema", first)
		}
		if strings.Contains(mustJSON(msgs), "developer") {
			t.Errorf("developer role sent to Anthropic: %s", mustJSON(msgs))
		}
	})
	t.Run("groq", func(t *testing.T) {
		body := w.last(t, "llama-3.1-8b-instant")
		for _, k := range []string{"logprobs", "top_logprobs"} {
			if _, ok := body[k]; ok {
				t.Errorf("%s was sent to Groq, which refuses it", k)
			}
		}
		if strings.Contains(mustJSON(body["messages"]), `"name"`) {
			t.Errorf("messages[].name sent to Groq: %s", mustJSON(body["messages"]))
		}
		if missing := has(body, "seed", "stop", "response_format"); len(missing) > 0 {
			t.Errorf("missing %v", missing)
		}
	})
}
