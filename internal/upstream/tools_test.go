package upstream

import (
	"encoding/json"
	"testing"
)

func TestExample(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"no schema", ``, `{}`},
		{"object of every type", `{"type":"object","properties":{"s":{"type":"string"},"t":{"type":"string"},"i":{"type":"integer","minimum":3},"n":{"type":"number"},"b":{"type":"boolean"},"z":{"type":"null"}},"required":["s","t","i","n","b","z"]}`,
			`{"b":true,"i":3,"n":1,"s":"TEXT","t":"example","z":null}`},
		{"enum and const", `{"type":"object","properties":{"e":{"enum":["x","y"]},"c":{"const":5}}}`, `{"c":5,"e":"x"}`},
		{"array with min items", `{"type":"array","items":{"type":"integer"},"minItems":2}`, `[1,1]`},
		{"nullable type list", `{"type":["string","null"]}`, `"TEXT"`},
		{"anyOf and $ref", `{"$defs":{"step":{"type":"object","properties":{"say":{"type":"string"}}}},"type":"object","properties":{"steps":{"type":"array","items":{"$ref":"#/$defs/step"}},"u":{"anyOf":[{"type":"integer"},{"type":"string"}]}}}`,
			`{"steps":[{"say":"TEXT"}],"u":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := json.Marshal(example(json.RawMessage(tt.schema), "TEXT"))
			if string(got) != tt.want {
				t.Errorf("example = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestToolToCall: the first tool, the named one, none when the last turn
// is a tool result or tool_choice is none.
func TestToolToCall(t *testing.T) {
	tools := func() []tool {
		var ts []tool
		for _, n := range []string{"a", "b"} {
			var x tool
			x.Type, x.Function.Name = "function", n
			ts = append(ts, x)
		}
		return ts
	}
	user := []chatMessage{userMsg("hi")}
	afterTool := append(user, chatMessage{Role: "tool", Content: json.RawMessage(`"42"`)})
	tests := []struct {
		name   string
		req    chatRequest
		wantFn string
	}{
		{"first tool", chatRequest{Messages: user, Tools: tools()}, "a"},
		{"named", chatRequest{Messages: user, Tools: tools(), ToolChoice: json.RawMessage(`{"type":"function","function":{"name":"b"}}`)}, "b"},
		{"none", chatRequest{Messages: user, Tools: tools(), ToolChoice: json.RawMessage(`"none"`)}, ""},
		{"after a tool result", chatRequest{Messages: afterTool, Tools: tools()}, ""},
		{"no tools", chatRequest{Messages: user}, ""},
	}
	for _, tt := range tests {
		got := ""
		if tl := tt.req.toolToCall(); tl != nil {
			got = tl.Function.Name
		}
		if got != tt.wantFn {
			t.Errorf("%s: tool %q, want %q", tt.name, got, tt.wantFn)
		}
	}
}
