package store

import (
	"encoding/json"
	"testing"
)

func TestNoNULJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "a\uFFFDb"},
		{`a\u0000b`, `a\u0000b`}, // the six characters, not a NUL
		{"\\\x00", "\\\uFFFD"},   // a backslash, then a NUL
		{"\x00\x00", "\uFFFD\uFFFD"},
		{`tail\`, `tail\`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(map[string]string{"s": tt.in})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(noNULJSON(b)), &got); err != nil {
			t.Fatalf("%q: noNULJSON gave invalid JSON %s: %v", tt.in, noNULJSON(b), err)
		}
		if got["s"] != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got["s"], tt.want)
		}
	}
}
