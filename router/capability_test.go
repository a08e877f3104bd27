package router

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// capModels: cheap is text only, mid calls tools, strong does all but
// writes at most 1,000 tokens; order puts cheap first.
var capModels = Catalog{
	"cheap":  {Name: "cheap", Provider: "p1", InputPerMTok: 0.1, OutputPerMTok: 0.4, ContextWindow: 100000, Order: 0},
	"mid":    {Name: "mid", Provider: "p1", InputPerMTok: 1, OutputPerMTok: 2, Capabilities: Capabilities{Tools: true}, Order: 1},
	"strong": {Name: "strong", Provider: "p2", InputPerMTok: 10, OutputPerMTok: 30, Capabilities: Capabilities{Tools: true, Vision: true, JSONSchema: true, MaxOutputTokens: 1000}, Order: 2},
}

func newCapService(t *testing.T, c Completer, cls Classifier) (*Service, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	svc, err := NewService(Options{
		Models: capModels, Completers: map[string]Completer{"p1": c, "p2": c}, Classifier: cls, Recorder: rec,
		Baseline: "strong", Version: Version{ID: 1, Table: testTable, Status: StatusActive}, Timeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, rec
}

func TestCapabilityFilter(t *testing.T) {
	yes := true
	tools := ChatOptions{Tools: []Tool{{Name: "f"}}}
	image := []Message{{Role: "user", Content: "what is this", Parts: []ContentPart{{Type: PartText, Text: "what is this"}, {Type: PartImage, ImageURL: "https://x.test/a.png"}}}}
	strict := ChatOptions{ResponseFormat: &ResponseFormat{Type: FormatJSONSchema, Name: "r", Strict: &yes}}
	loose := ChatOptions{ResponseFormat: &ResponseFormat{Type: FormatJSONSchema, Name: "r"}}
	toolTurns := []Message{{Role: "user", Content: "hi"}, {Role: "assistant", ToolCalls: []ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}}, {Role: "tool", ToolCallID: "c", Content: "1"}}
	tests := []struct {
		name         string
		complexity   Complexity
		req          Request
		wantModel    string
		wantFiltered []Filtered
		wantEscal    bool
		wantErrField string
	}{
		{"plain text keeps every candidate", Simple, Request{Messages: userMsg("hi")}, "cheap", nil, false, ""},
		{"tools", Simple, Request{Messages: userMsg("hi"), Options: tools}, "mid", []Filtered{{"cheap", CapTools}}, false, ""},
		{"tool turns without tools", Simple, Request{Messages: toolTurns}, "mid", []Filtered{{"cheap", CapTools}}, false, ""},
		{"image", Simple, Request{Messages: image}, "strong", []Filtered{{"cheap", CapVision}, {"mid", CapVision}}, false, ""},
		{"strict schema", Moderate, Request{Messages: userMsg("hi"), Options: strict}, "strong", []Filtered{{"mid", CapJSONSchema}}, false, ""},
		{"loose schema is adapted, not filtered", Simple, Request{Messages: userMsg("hi"), Options: loose}, "cheap", nil, false, ""},
		{"max output escalates out of the bucket", Complex, Request{Messages: userMsg("hi"), MaxTokens: 5000}, "cheap", []Filtered{{"strong", CapMaxOutputTokens}}, true, ""},
		{"prompt plus output over the window", Simple, Request{Messages: userMsg("hi"), MaxTokens: 99999}, "mid", []Filtered{{"cheap", CapContextWindow}, {"strong", CapMaxOutputTokens}}, false, ""},
		{"named model lacking tools", Simple, Request{Model: "cheap", Messages: userMsg("hi"), Options: tools}, "", nil, false, "tools"},
		{"named model lacking vision", Simple, Request{Model: "mid", Messages: image}, "", nil, false, "messages"},
		{"no model can", Complex, Request{Messages: image, MaxTokens: 5000}, "", nil, false, "max_tokens"},
		{"image in a bucket with one capable model", Moderate, Request{Messages: image}, "strong", []Filtered{{"mid", CapVision}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{}
			svc, rec := newCapService(t, c, fixedClassifier(tt.complexity))
			res, err := svc.Serve(context.Background(), tt.req)
			if tt.wantErrField != "" {
				var e *Error
				if err == nil || KindOf(err) != KindInvalid || !errorsAs(err, &e) || e.Field != tt.wantErrField {
					t.Fatalf("err = %v, want invalid on %s", err, tt.wantErrField)
				}
				if len(c.calls) != 0 {
					t.Errorf("calls %v, want none", c.calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Model != tt.wantModel || !reflect.DeepEqual(res.Filtered, tt.wantFiltered) || res.Escalated != tt.wantEscal {
				t.Errorf("model %s filtered %v escalated %v, want %s %v %v", res.Model, res.Filtered, res.Escalated, tt.wantModel, tt.wantFiltered, tt.wantEscal)
			}
			if got := rec.recs[0].Filtered; !reflect.DeepEqual(got, tt.wantFiltered) {
				t.Errorf("recorded filtered %v", got)
			}
		})
	}
}

func errorsAs(err error, e **Error) bool {
	x, ok := err.(*Error)
	if ok {
		*e = x
	}
	return ok
}

// TestPinSkipsIncapable: a pinned model that cannot serve this turn is
// not put first; one that can keeps the loop.
func TestPinSkipsIncapable(t *testing.T) {
	tools := ChatOptions{Tools: []Tool{{Name: "f"}}}
	for _, tc := range []struct{ prefer, want string }{{"cheap", "mid"}, {"strong", "strong"}} {
		svc, _ := newCapService(t, &scripted{}, fixedClassifier(Simple))
		res, err := svc.Serve(context.Background(), Request{Messages: userMsg("hi"), Options: tools, Prefer: tc.prefer})
		if err != nil || res.Model != tc.want {
			t.Errorf("prefer %s: model %s err %v, want %s", tc.prefer, res.Model, err, tc.want)
		}
	}
}

// TestToolCallReplies: a tool call is an answer (not empty), recorded
// as such and giving no failure signal; a malformed one escalates.
func TestToolCallReplies(t *testing.T) {
	good := func() (Reply, error) {
		return Reply{ToolCalls: []ToolCall{{ID: "c1", Name: "f", Arguments: `{"x":1}`}}, FinishReason: "tool_calls", PromptTokens: 10, CompletionTokens: 5}, nil
	}
	cut := func() (Reply, error) {
		return Reply{ToolCalls: []ToolCall{{ID: "c1", Name: "f", Arguments: `{"x":`}}, FinishReason: "tool_calls"}, nil
	}
	c := &scripted{reply: map[string]func() (Reply, error){"mid": cut, "strong": good}}
	svc, rec := newCapService(t, c, fixedClassifier(Moderate))
	req := Request{Messages: userMsg("hi"), Options: ChatOptions{Tools: []Tool{{Name: "f"}}}}
	res, err := svc.Serve(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != "strong" || len(res.ToolCalls) != 1 || res.ToolCalls[0].Arguments != `{"x":1}` || res.FinishReason != "tool_calls" {
		t.Fatalf("result %+v, want strong's tool call after mid's cut one", res)
	}
	if a := res.Attempts[0]; a.Status != OutcomeError || !strings.Contains(a.Error, "not JSON") {
		t.Errorf("mid's attempt %+v, want an error naming the arguments", a)
	}
	r := rec.recs[0]
	if r.Traffic != (Traffic{UsesTools: true, ToolCallAnswer: true}) || r.Status != OutcomeOK {
		t.Errorf("record traffic %+v status %s", r.Traffic, r.Status)
	}
	for _, o := range AutoOutcomes(r, OutcomeWeights{}) {
		if o.Model == "strong" {
			t.Errorf("the tool-call answer gave a failure signal %+v", o)
		}
	}
}

func TestClassifyPrompt(t *testing.T) {
	msgs := []Message{
		{Role: "user", Content: "book a table", Parts: []ContentPart{{Type: PartText, Text: "book a table"}, {Type: PartImage, ImageURL: "https://x.test/menu.png"}}},
		{Role: "assistant", ToolCalls: []ToolCall{{ID: "c", Name: "search", Arguments: "{}"}}},
		{Role: "tool", ToolCallID: "c", Content: "3 results"},
	}
	o := ChatOptions{Tools: []Tool{{Name: "search"}, {Name: "book"}}, ResponseFormat: &ResponseFormat{Type: FormatJSONObject}}
	got := ClassifyPrompt(msgs, o)
	want := "book a table\n\n[tools: search, book; 1 tool calls and 1 tool results so far; 1 images; answer as json_object]"
	if got != want {
		t.Errorf("ClassifyPrompt = %q, want %q", got, want)
	}
	if got := ClassifyPrompt(userMsg("plain"), ChatOptions{}); got != "plain" {
		t.Errorf("plain request classified as %q", got)
	}
}

// TestEstimateSurfaceTokens: tool calls, images and offered tools count
// toward the prompt the context window must hold.
func TestEstimateSurfaceTokens(t *testing.T) {
	plain := EstimateTokens(userMsg("hi"))
	withImage := EstimateTokens([]Message{{Role: "user", Content: "hi", Parts: []ContentPart{{Type: PartText, Text: "hi"}, {Type: PartImage, ImageURL: "https://x.test/a.png"}}}})
	if withImage != plain+imageTokens {
		t.Errorf("image: %d, want %d", withImage, plain+imageTokens)
	}
	call := []Message{{Role: "assistant", ToolCalls: []ToolCall{{ID: "c", Name: "f", Arguments: strings.Repeat("x", 400)}}}}
	if got := EstimateTokens(call); got < 100 {
		t.Errorf("a 400-byte tool call counts %d tokens", got)
	}
	if got := toolTokens([]Tool{{Name: "f", Parameters: []byte(strings.Repeat("x", 4000))}}); got < 1000 {
		t.Errorf("a 4,000-byte schema counts %d tokens", got)
	}
}

// TestPolicyChoosesAmongCapable: with a per-prompt policy, a model that
// cannot serve the request is left out before the rule chooses, so the
// rule's choice among the capable models is what runs, not the
// escalation order's next model.
func TestPolicyChoosesAmongCapable(t *testing.T) {
	// Target 0.8: cheap (0.9) would be chosen, but it lacks tools; among
	// mid (0.85) and strong (0.95) the rule chooses mid. Dropping cheap
	// after ordering would have sent the request to strong, the likelier
	// model the order escalates to first.
	policy := &PromptPolicy{Models: []string{"cheap", "mid", "strong"}, Point: OperatingPoint{Rule: RuleTarget, Param: 0.8}}
	tools := ChatOptions{Tools: []Tool{{Name: "f"}}}
	tests := []struct {
		name         string
		req          Request
		wantFirst    string
		wantFiltered []Filtered
	}{
		{"no tools asked", Request{Messages: userMsg("hi")}, "cheap", nil},
		{"tools asked", Request{Messages: userMsg("hi"), Options: tools}, "mid", []Filtered{{"cheap", CapTools}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &scripted{}
			svc, rec := newCapService(t, c, &answerSeer{})
			if err := svc.Activate(Version{ID: 2, Table: testTable, Policy: policy}, &fakePredictor{success: []float64{0.9, 0.85, 0.95}}); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Serve(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if len(c.calls) == 0 || c.calls[0] != tt.wantFirst || res.Analysis.RoutedBy != RoutedByPolicy {
				t.Errorf("calls %v routed by %q, want %s first by the policy", c.calls, res.Analysis.RoutedBy, tt.wantFirst)
			}
			if !reflect.DeepEqual(res.Filtered, tt.wantFiltered) || !reflect.DeepEqual(rec.recs[0].Filtered, tt.wantFiltered) {
				t.Errorf("filtered %v (recorded %v), want %v", res.Filtered, rec.recs[0].Filtered, tt.wantFiltered)
			}
		})
	}
}
