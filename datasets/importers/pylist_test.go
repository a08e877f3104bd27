package importers

import (
	"reflect"
	"testing"
)

func TestParsePyStrList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`['What is 2+2?']`, []string{"What is 2+2?"}, true},
		{`[]`, nil, true},
		{` [ 'a' , "b's" ] `, []string{"a", "b's"}, true},
		{`['a',]`, []string{"a"}, true},
		{`['it\'s', "say \"hi\""]`, []string{"it's", `say "hi"`}, true},
		{`['line\nbreak\ttab\\slash']`, []string{"line\nbreak\ttab\\slash"}, true},
		{`['caf\xe9 \u2603 \U0001F600']`, []string{"café ☃ 😀"}, true},
		{`['keep \d and \w']`, []string{`keep \d and \w`}, true},
		{`['nul\x00']`, []string{"nul\x00"}, true},
		{`['unterminated]`, nil, false},
		{`['a' 'b']`, nil, false},
		{`['a'] trailing`, nil, false},
		{`[1, 2]`, nil, false},
		{`['bad \x4']`, nil, false},
		{`['surrogate \ud800']`, nil, false},
		{"['raw\nnewline']", nil, false},
		{`not a list`, nil, false},
	}
	for _, tt := range tests {
		got, ok := parsePyStrList(tt.in)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePyStrList(%q): got %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPromptText(t *testing.T) {
	tests := map[string]string{
		`['Hello']`:              "Hello",
		`['Turn one', 'Turn 2']`: "Turn one\n\nTurn 2",
		`[not python] at all`:    "[not python] at all",
		`plain text`:             "plain text",
		`[]`:                     "[]",
	}
	for in, want := range tests {
		if got := promptText(in); got != want {
			t.Errorf("promptText(%q): got %q, want %q", in, got, want)
		}
	}
}
