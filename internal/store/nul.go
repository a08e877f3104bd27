package store

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL refuses a NUL character anywhere in text and invalid UTF-8
// (22021), and the escape \u0000 in JSONB (22P05), while the text
// Switchyard records is partly other people's: a provider's error
// message, a classifier's reason, a user's prompt. One such string would
// fail its whole batch of records, again on every retry. Both dialects
// store U+FFFD instead, so a row reads back the same wherever it was
// written.

// replacement stands in for a NUL or an invalid UTF-8 sequence.
const replacement = "\uFFFD"

// noNUL returns s with every NUL and invalid UTF-8 sequence replaced.
func noNUL(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, replacement)
	}
	if !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(s, "\x00", replacement)
}

// noNULJSON returns the JSON document b, with every \u0000 escape in its
// strings replaced by \ufffd, as a string. An escaped backslash followed
// by "u0000" (the text `\u0000` itself) is left alone: escapes are read
// pairwise from the left, as a JSON decoder does.
func noNULJSON(b []byte) string {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return string(b)
	}
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out.WriteByte(b[i])
			continue
		}
		if bytes.HasPrefix(b[i+1:], []byte("u0000")) {
			out.WriteString(`\ufffd`)
			i += len("u0000")
			continue
		}
		out.Write(b[i : i+2])
		i++
	}
	return out.String()
}

// refusedData reports whether err is PostgreSQL refusing the data itself
// (SQLSTATE class 22, data exception, or 23, integrity constraint
// violation), which no retry changes, rather than being unreachable.
func refusedData(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) {
		return false
	}
	return strings.HasPrefix(pg.Code, "22") || strings.HasPrefix(pg.Code, "23")
}
