package textmodel

import "strings"

// surface counts the structural cues of a raw prompt that hashed n-grams
// see only dimly: digits, lines, questions, lists, code and mathematics.
// One pass over the bytes, no allocation.
type surface struct {
	digits, letters, upper int
	newlines, questions    int
	numbered, options      int // "1." / "2)" lines; "A." / "B)" lines
	code, math             int
}

func (s *surface) scan(p string) {
	lineStart := true
	for i := 0; i < len(p); i++ {
		c := p[i]
		if lineStart {
			s.lineStart(p[i:])
			lineStart = false
		}
		// Fast path for the bytes that are most of any prompt and can
		// only be counted as letters, or not at all: one table load.
		if k := surfaceKind[c]; k != surfaceCue {
			s.letters += int(k)
			continue
		}
		var next byte
		if i+1 < len(p) {
			next = p[i+1]
		}
		switch {
		case c >= '0' && c <= '9':
			s.digits++
			// digit, operator, digit: arithmetic ("3*4", "2 + 2").
			if j := skipSpace(p, i+1); j < len(p) && isOperator(p[j]) {
				if k := skipSpace(p, j+1); k < len(p) && p[k] >= '0' && p[k] <= '9' {
					s.math++
				}
			}
		case c >= 'A' && c <= 'Z':
			s.letters++
			s.upper++
		case c == '\n':
			s.newlines++
		case c == '?':
			s.questions++
		case c == '{' || c == '}' || c == ';' || c == '`':
			s.code++
		case c == '\\' && (next >= 'a' && next <= 'z' || next >= 'A' && next <= 'Z'):
			s.math++ // a LaTeX command
		case c == '$' || c == '^':
			s.math++
		}
		switch {
		case c == '(' && next == ')', c == '=' && next == '=', c == '!' && next == '=',
			c == '-' && next == '>', c == '=' && next == '>', c == '/' && next == '/':
			s.code++
		}
		lineStart = c == '\n'
	}
}

// What scan's fast path makes of a byte: a lower-case letter counts as a
// letter, a cue goes through scan's cases, and any other byte changes
// nothing (it matches none of those cases and is not a newline).
const (
	surfaceNone   = 0
	surfaceLetter = 1
	surfaceCue    = 2
)

// surfaceKind is each byte's kind for scan: a constant table, built once.
var surfaceKind = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= 'a' && c <= 'z':
			t[c] = surfaceLetter
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', strings.IndexByte("\n?{};`\\$^(=!-/", byte(c)) >= 0:
			t[c] = surfaceCue
		}
	}
	return t
}()

// lineStart classifies the start of a line: "12. ", "3) " is a numbered
// item, "A. ", "b) " a lettered option (multiple choice).
func (s *surface) lineStart(line string) {
	j := skipSpace(line, 0)
	d := j
	for d < len(line) && d-j < 3 && line[d] >= '0' && line[d] <= '9' {
		d++
	}
	if d > j && d+1 < len(line) && (line[d] == '.' || line[d] == ')') && line[d+1] == ' ' {
		s.numbered++
		return
	}
	if j+2 < len(line) && (line[j] >= 'A' && line[j] <= 'H' || line[j] >= 'a' && line[j] <= 'h') &&
		(line[j+1] == '.' || line[j+1] == ')') && line[j+2] == ' ' {
		s.options++
	}
}

func skipSpace(p string, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t') {
		i++
	}
	return i
}

func isOperator(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '=', '<', '>', '%':
		return true
	}
	return false
}
