package upstream

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestChunkWords(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want int // pieces
	}{
		{"", 4, 0},
		{"one", 4, 1},
		{"one two three four", 4, 1},
		{"one two three four five", 4, 2},
		{"  leading and\ntrailing  spaces here  ", 2, 3},
		{"ünïcode wörds ßtay whole", 1, 4},
	} {
		got := chunkWords(tc.text, tc.n)
		if len(got) != tc.want {
			t.Errorf("chunkWords(%q, %d): got %d pieces %q, want %d", tc.text, tc.n, len(got), got, tc.want)
		}
		if j := strings.Join(got, ""); j != tc.text {
			t.Errorf("chunkWords(%q, %d): pieces join to %q", tc.text, tc.n, j)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want int
	}{
		{"", 3, 0},
		{"ab", 3, 2},
		{`{"complexity":"simple"}`, 3, 3},
		{"ééééé", 2, 2},
	} {
		got := split(tc.s, tc.n)
		if len(got) != tc.want || strings.Join(got, "") != tc.s {
			t.Errorf("split(%q, %d): got %q, want %d pieces joining to the input", tc.s, tc.n, got, tc.want)
		}
		for _, p := range got {
			if !utf8.ValidString(p) {
				t.Errorf("split(%q, %d): piece %q cuts a rune", tc.s, tc.n, p)
			}
		}
	}
}
