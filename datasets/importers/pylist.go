package importers

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// parsePyStrList parses Python's repr of a list of strings, such as
// ['a', "b's"], and reports whether s was exactly that. It understands the
// escapes Python's repr produces (\\ \' \" \n \r \t \xhh \uhhhh \Uhhhhhhhh)
// and the other single-character ones; as in Python, a backslash before any
// other character is kept.
func parsePyStrList(s string) ([]string, bool) {
	p := pyParser{s: s}
	p.space()
	if !p.eat('[') {
		return nil, false
	}
	var out []string
	p.space()
	if p.eat(']') {
		return p.finish(out)
	}
	for {
		str, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, str)
		p.space()
		if p.eat(']') {
			return p.finish(out)
		}
		if !p.eat(',') {
			return nil, false
		}
		p.space()
		if p.eat(']') { // a trailing comma
			return p.finish(out)
		}
	}
}

type pyParser struct {
	s string
	i int
}

// finish accepts out if only white space follows the closing bracket.
func (p *pyParser) finish(out []string) ([]string, bool) {
	p.space()
	if p.i != len(p.s) {
		return nil, false
	}
	return out, true
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// pySimpleEscape returns what Python's one-character escape \e stands for.
func pySimpleEscape(e byte) (string, bool) {
	switch e {
	case '\\', '\'', '"':
		return string(e), true
	case 'n':
		return "\n", true
	case 'r':
		return "\r", true
	case 't':
		return "\t", true
	case 'a':
		return "\a", true
	case 'b':
		return "\b", true
	case 'f':
		return "\f", true
	case 'v':
		return "\v", true
	case '0':
		return "\x00", true
	case '\n': // a line continuation
		return "", true
	}
	return "", false
}

// str parses one quoted string literal.
func (p *pyParser) str() (string, bool) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	quote := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == quote:
			p.i++
			return b.String(), true
		case c == '\n':
			return "", false // not allowed in a single-quoted literal
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		// A backslash escape.
		if p.i+1 >= len(p.s) {
			return "", false
		}
		e := p.s[p.i+1]
		if r, ok := pySimpleEscape(e); ok && !(e == '0' && p.i+2 < len(p.s) && isOctal(p.s[p.i+2])) {
			b.WriteString(r)
			p.i += 2
			continue
		}
		width := 0
		switch e {
		case 'x':
			width = 2
		case 'u':
			width = 4
		case 'U':
			width = 8
		default:
			// Unknown escapes (and octal ones, which repr never writes)
			// keep their backslash, as Python does.
			b.WriteByte('\\')
			p.i++
			continue
		}
		if p.i+2+width > len(p.s) {
			return "", false
		}
		n, err := strconv.ParseUint(p.s[p.i+2:p.i+2+width], 16, 32)
		if err != nil || !utf8.ValidRune(rune(n)) {
			return "", false
		}
		b.WriteRune(rune(n))
		p.i += 2 + width
	}
	return "", false
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
