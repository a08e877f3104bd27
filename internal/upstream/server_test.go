package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

func intp(v int) *int { return &v }

// testItems is a small dataset: a computable prompt with a reference, an
// open one with a label, and one whose complexity only its outcomes tell.
func testItems() []datasets.Item {
	return []datasets.Item{
		{ID: "a", Prompt: "What is 2 + 2?", Reference: "4",
			Outcomes: map[string]datasets.Outcome{
				"good": {Score: 1, PromptTokens: intp(10), CompletionTokens: intp(3), LatencyMS: intp(100)},
				"bad":  {Score: 0},
			},
			Label: datasets.Label{Complexity: "simple", Category: "math"}},
		{ID: "b", Prompt: "Explain how TCP handles packet loss.",
			Outcomes: map[string]datasets.Outcome{
				"good": {Score: 0.8, CompletionTokens: intp(300)},
				"bad":  {Score: 0.2, CompletionTokens: intp(200)},
			},
			Label: datasets.Label{Complexity: "moderate", Category: "explanation"}},
		{ID: "c", Prompt: "Which of these is a mammal? A. shark B. dolphin",
			Outcomes: map[string]datasets.Outcome{"good": {Score: 1}, "bad": {Score: 0}}},
	}
}

// newTestServer serves items with no latency and returns an openai-go client
// pointed at it.
func newTestServer(t *testing.T, items []datasets.Item, opts Options) (*Server, openai.Client) {
	t.Helper()
	s := New(items, opts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/v1"), option.WithAPIKey("test"), option.WithMaxRetries(0))
	return s, client
}

func ask(model, prompt string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You are helpful."),
			openai.UserMessage(prompt),
		},
	}
}

func TestKnownPrompt(t *testing.T) {
	_, client := newTestServer(t, testItems(), Options{})
	for _, tc := range []struct {
		name, model, prompt string
		wantContent         string // exact, when not empty
		notContent          string // must differ from this
		wantUsage           [2]int // prompt, completion; zero means estimated
	}{
		{"correct uses reference and recorded usage", "good", "What is 2 + 2?", "4", "", [2]int{10, 3}},
		{"matches after normalization", "good", "  what IS 2 +\n2?  ", "4", "", [2]int{10, 3}},
		{"incorrect is plausibly wrong", "bad", "What is 2 + 2?", "", "4", [2]int{}},
		{"recorded completion tokens", "bad", "Explain how TCP handles packet loss.", "", "", [2]int{0, 200}},
		{"correct without a reference", "good", "Which of these is a mammal? A. shark B. dolphin", "", "", [2]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Chat.Completions.New(t.Context(), ask(tc.model, tc.prompt))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if resp.Object != "chat.completion" || resp.Model != tc.model || !strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Created == 0 {
				t.Errorf("got object %q model %q id %q created %d", resp.Object, resp.Model, resp.ID, resp.Created)
			}
			if len(resp.Choices) != 1 {
				t.Fatalf("got %d choices, want 1", len(resp.Choices))
			}
			c := resp.Choices[0]
			if c.FinishReason != "stop" || c.Message.Role != "assistant" {
				t.Errorf("got finish %q role %q, want stop assistant", c.FinishReason, c.Message.Role)
			}
			if strings.TrimSpace(c.Message.Content) == "" {
				t.Error("got empty content")
			}
			if tc.wantContent != "" && c.Message.Content != tc.wantContent {
				t.Errorf("got content %q, want %q", c.Message.Content, tc.wantContent)
			}
			if tc.notContent != "" && c.Message.Content == tc.notContent {
				t.Errorf("got content %q, want anything else", c.Message.Content)
			}
			u := resp.Usage
			if tc.wantUsage[0] != 0 && u.PromptTokens != int64(tc.wantUsage[0]) {
				t.Errorf("got prompt tokens %d, want %d", u.PromptTokens, tc.wantUsage[0])
			}
			if tc.wantUsage[1] != 0 && u.CompletionTokens != int64(tc.wantUsage[1]) {
				t.Errorf("got completion tokens %d, want %d", u.CompletionTokens, tc.wantUsage[1])
			}
			if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Errorf("got usage %d+%d=%d, want positive and summed", u.PromptTokens, u.CompletionTokens, u.TotalTokens)
			}
		})
	}
}

// TestDemoOutcomesHonoured checks every demo item and model: the server's
// verdict is the dataset's, and a correct answer with a reference is it.
func TestDemoOutcomesHonoured(t *testing.T) {
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	s := New(items, Options{})
	for _, it := range items {
		for model, o := range it.Outcomes {
			a := s.answer(chatRequest{Model: model, Messages: []chatMessage{userMsg(it.Prompt)}}, s.models[model])
			if !a.known || a.correct != o.Correct() {
				t.Fatalf("%s %s: got known %v correct %v, want known, correct %v", it.ID, model, a.known, a.correct, o.Correct())
			}
			if a.correct && it.Reference != "" && a.content != it.Reference {
				t.Fatalf("%s %s: got %q, want the reference %q", it.ID, model, a.content, it.Reference)
			}
			if !a.correct && (a.content == "" || a.content == it.Reference) {
				t.Fatalf("%s %s: got wrong answer %q, want non-empty and not the reference", it.ID, model, a.content)
			}
			if a.usage.CompletionTokens != *o.CompletionTokens || a.latency != time.Duration(*o.LatencyMS)*time.Millisecond {
				t.Fatalf("%s %s: got usage %+v latency %v, want the recorded ones", it.ID, model, a.usage, a.latency)
			}
		}
	}
}

func userMsg(text string) chatMessage {
	b, _ := json.Marshal(text)
	return chatMessage{Role: "user", Content: b}
}

func TestUnknownPrompt(t *testing.T) {
	_, client := newTestServer(t, testItems(), Options{Seed: 5})
	prompt := "Write a haiku about routers."
	var contents []string
	for range 3 {
		resp, err := client.Chat.Completions.New(t.Context(), ask("good", prompt))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		contents = append(contents, resp.Choices[0].Message.Content)
	}
	if contents[0] == "" || contents[1] != contents[0] || contents[2] != contents[0] {
		t.Errorf("got answers %q, want one non-empty answer repeated", contents)
	}
}

// TestUnknownPromptRates checks the per-model success chance drives the
// verdicts on unknown prompts, deterministically per seed.
func TestUnknownPromptRates(t *testing.T) {
	models := map[string]ModelDefaults{
		"always": {Success: &datasets.Rates{Simple: 1, Moderate: 1, Complex: 1}},
		"never":  {Success: &datasets.Rates{}},
		"mostly": {Success: &datasets.Rates{Simple: 0.7, Moderate: 0.7, Complex: 0.7}},
	}
	s1 := New(nil, Options{Seed: 1, Models: models})
	s1again := New(nil, Options{Seed: 1, Models: models})
	s2 := New(nil, Options{Seed: 2, Models: models})
	ok := map[string]int{}
	differ := 0
	const n = 400
	for i := range n {
		req := chatRequest{Messages: []chatMessage{userMsg("Tell me about item number " + string(rune('a'+i%26)) + strings.Repeat("x", i/26))}}
		for m := range models {
			req.Model = m
			a := s1.answer(req, s1.models[m])
			if a.known {
				t.Fatal("got known for an empty dataset")
			}
			if a.content == "" {
				t.Fatalf("%s: got empty content", m)
			}
			if a.correct {
				ok[m]++
			}
			if b := s1again.answer(req, s1again.models[m]); b.correct != a.correct || b.content != a.content {
				t.Fatalf("%s: same seed gave different answers", m)
			}
			if m == "mostly" && s2.answer(req, s2.models[m]).correct != a.correct {
				differ++
			}
		}
	}
	if ok["always"] != n || ok["never"] != 0 {
		t.Errorf("got always %d/%d never %d/%d, want all and none", ok["always"], n, ok["never"], n)
	}
	if r := float64(ok["mostly"]) / n; r < 0.6 || r > 0.8 {
		t.Errorf("got success rate %.2f at chance 0.7, want 0.6-0.8", r)
	}
	if differ == 0 {
		t.Error("seeds 1 and 2 gave identical verdicts on every prompt")
	}
}

func TestStream(t *testing.T) {
	_, client := newTestServer(t, testItems(), Options{})
	for _, tc := range []struct{ model, prompt string }{
		{"good", "What is 2 + 2?"},
		{"bad", "Explain how TCP handles packet loss."},
		{"good", "An unknown prompt with a few words in it to stream."},
	} {
		t.Run(tc.model+" "+tc.prompt, func(t *testing.T) {
			plain, err := client.Chat.Completions.New(t.Context(), ask(tc.model, tc.prompt))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			params := ask(tc.model, tc.prompt)
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			stream := client.Chat.Completions.NewStreaming(t.Context(), params)
			var acc openai.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("accumulator rejected chunk %d", chunks)
				}
				chunks++
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if len(acc.Choices) != 1 {
				t.Fatalf("got %d choices, want 1", len(acc.Choices))
			}
			got, want := acc.Choices[0].Message.Content, plain.Choices[0].Message.Content
			if got != want {
				t.Errorf("streamed content %q, want %q", got, want)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("got finish reason %q, want stop", acc.Choices[0].FinishReason)
			}
			if acc.Usage.TotalTokens != plain.Usage.TotalTokens || acc.Usage.PromptTokens != plain.Usage.PromptTokens {
				t.Errorf("got streamed usage %d+%d, want %d+%d", acc.Usage.PromptTokens, acc.Usage.CompletionTokens, plain.Usage.PromptTokens, plain.Usage.CompletionTokens)
			}
			if chunks < 4 {
				t.Errorf("got %d chunks, want role, content, finish and usage chunks", chunks)
			}
		})
	}
}

func classifierParams(model, prompt string) openai.ChatCompletionNewParams {
	content, _ := json.Marshal(map[string]string{"prompt": prompt})
	return openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You classify prompts."),
			openai.UserMessage(string(content)),
		},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:       ClassifierTool,
			Parameters: shared.FunctionParameters{"type": "object"},
		})},
		ToolChoice: openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: ClassifierTool}),
	}
}

func TestClassifier(t *testing.T) {
	s, client := newTestServer(t, testItems(), Options{})
	for _, tc := range []struct {
		prompt       string
		want         router.Complexity
		wantCategory string
	}{
		{"What is 2 + 2?", router.Simple, "math"},                                // label
		{"Explain how TCP handles packet loss.", router.Moderate, "explanation"}, // label
		{"Which of these is a mammal? A. shark B. dolphin", router.Moderate, ""}, // half the models right
		{"Prove that there are infinitely many primes.", router.Complex, "reasoning"},
		{"What is the capital of Peru?", router.Simple, "factual"},
	} {
		t.Run(tc.prompt, func(t *testing.T) {
			before := s.Calls("good")
			resp, err := client.Chat.Completions.New(t.Context(), classifierParams("good", tc.prompt))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := s.Calls("good") - before; got != 1 {
				t.Errorf("got %d calls counted, want 1", got)
			}
			c := resp.Choices[0]
			if c.FinishReason != "tool_calls" || len(c.Message.ToolCalls) != 1 {
				t.Fatalf("got finish %q with %d tool calls, want tool_calls with 1", c.FinishReason, len(c.Message.ToolCalls))
			}
			call := c.Message.ToolCalls[0]
			if call.Type != "function" || call.Function.Name != ClassifierTool || call.ID == "" {
				t.Errorf("got call %q %q id %q", call.Type, call.Function.Name, call.ID)
			}
			a := decodeAnalysis(t, call.Function.Arguments)
			if a.Complexity != tc.want {
				t.Errorf("got complexity %q, want %q", a.Complexity, tc.want)
			}
			if tc.wantCategory != "" && a.Category != tc.wantCategory {
				t.Errorf("got category %q, want %q", a.Category, tc.wantCategory)
			}
			if resp.Usage.CompletionTokens != classifierCompletionTokens || resp.Usage.PromptTokens <= 0 {
				t.Errorf("got usage %+v, want %d completion tokens", resp.Usage, classifierCompletionTokens)
			}
		})
	}
}

// decodeAnalysis checks the arguments carry every field, validly.
func decodeAnalysis(t *testing.T, args string) router.Analysis {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal([]byte(args), &fields); err != nil {
		t.Fatalf("arguments %q: %v", args, err)
	}
	for _, f := range []string{"complexity", "reasoning_required", "external_knowledge_needed", "multi_step", "estimated_tokens", "category", "reason"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("arguments %s: missing %s", args, f)
		}
	}
	var a router.Analysis
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		t.Fatalf("arguments %q: %v", args, err)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("arguments %s: %v", args, err)
	}
	if a.Reason == "" || strings.Contains(a.Reason, "\n") || a.EstimatedTokens <= 0 {
		t.Errorf("arguments %s: want a one-line reason and positive tokens", args)
	}
	return a
}

func TestClassifierStream(t *testing.T) {
	_, client := newTestServer(t, testItems(), Options{})
	params := classifierParams("good", "Explain how TCP handles packet loss.")
	stream := client.Chat.Completions.NewStreaming(t.Context(), params)
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		if !acc.AddChunk(stream.Current()) {
			t.Fatal("accumulator rejected a chunk")
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	calls := acc.Choices[0].Message.ToolCalls
	if acc.Choices[0].FinishReason != "tool_calls" || len(calls) != 1 || calls[0].Function.Name != ClassifierTool {
		t.Fatalf("got finish %q calls %+v", acc.Choices[0].FinishReason, calls)
	}
	if a := decodeAnalysis(t, calls[0].Function.Arguments); a.Complexity != router.Moderate {
		t.Errorf("got complexity %q, want moderate", a.Complexity)
	}
}

func TestUnknownModel(t *testing.T) {
	s, client := newTestServer(t, testItems(), Options{})
	_, err := client.Chat.Completions.New(t.Context(), ask("no-such-model", "hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v (%T), want *openai.Error", err, err)
	}
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "model_not_found" || apiErr.Type != "invalid_request_error" || apiErr.Message == "" {
		t.Errorf("got status %d code %q type %q message %q", apiErr.StatusCode, apiErr.Code, apiErr.Type, apiErr.Message)
	}
	if got := s.Calls("no-such-model"); got != 1 {
		t.Errorf("got %d calls, want 1", got)
	}
}

func TestBadRequests(t *testing.T) {
	s := New(testItems(), Options{})
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"bad json", "POST", "/v1/chat/completions", `{"model":`, http.StatusBadRequest},
		{"no model", "POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, http.StatusBadRequest},
		{"no messages", "POST", "/v1/chat/completions", `{"model":"good","messages":[]}`, http.StatusBadRequest},
		{"unknown route", "GET", "/v1/embeddings", ``, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
			if rec.Code != tc.want {
				t.Errorf("got status %d, want %d", rec.Code, tc.want)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Message == "" || body.Error.Type == "" {
				t.Errorf("got body %q, want an OpenAI error envelope", rec.Body.String())
			}
		})
	}
}

func TestModelsList(t *testing.T) {
	_, client := newTestServer(t, testItems(), Options{Models: map[string]ModelDefaults{"extra": {}}})
	page, err := client.Models.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, m := range page.Data {
		got = append(got, m.ID)
	}
	if want := []string{"bad", "extra", "good"}; !slices.Equal(got, want) {
		t.Errorf("got models %v, want %v", got, want)
	}
}

// TestCancelDuringLatency checks a client that gives up is not kept waiting
// by a long simulated latency, plain or streamed.
func TestCancelDuringLatency(t *testing.T) {
	items := []datasets.Item{{ID: "slow", Prompt: "slow prompt",
		Outcomes: map[string]datasets.Outcome{"m": {Score: 1, LatencyMS: intp(3_600_000)}}}}
	s := New(items, Options{LatencyScale: 1})
	hs := httptest.NewServer(s)
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/v1"), option.WithAPIKey("test"), option.WithMaxRetries(0))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 2)
	go func() {
		_, err := client.Chat.Completions.New(ctx, ask("m", "slow prompt"))
		done <- err
	}()
	go func() {
		st := client.Chat.Completions.NewStreaming(ctx, ask("m", "slow prompt"))
		for st.Next() {
		}
		done <- st.Err()
	}()
	for s.Calls("m") < 2 { // both requests are in the handler, sleeping
		time.Sleep(time.Millisecond)
	}
	cancel()
	for range 2 {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	}
	// Close waits for every handler to return: it would block for an hour
	// if the sleeps ignored the request context.
	closed := make(chan struct{})
	go func() { hs.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("handlers still running after the client cancelled")
	}
}
