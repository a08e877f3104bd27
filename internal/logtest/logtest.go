// Package logtest gives tests a slog.Handler that keeps what was logged,
// so a test can count the lines a component writes (how many during an
// outage, at which level) instead of searching text output.
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Line is one logged record: its level, message and attributes as text.
type Line struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// Handler keeps every record at Debug and above. It is safe for
// concurrent use; loggers derived with With share its lines.
type Handler struct {
	mu    *sync.Mutex
	lines *[]Line
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// New returns an empty Handler and a logger writing to it.
func New() (*Handler, *slog.Logger) {
	h := &Handler{mu: &sync.Mutex{}, lines: &[]Line{}}
	return h, slog.New(h)
}

// Enabled keeps every level, Debug included, so a test can tell a line
// demoted to Debug from one that was never written.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps r.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	l := Line{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		l.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		l.Attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.lines = append(*h.lines, l)
	h.mu.Unlock()
	return nil
}

// WithAttrs returns a handler sharing h's lines that adds attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{mu: h.mu, lines: h.lines, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// WithGroup ignores the group: tests read attributes by key.
func (h *Handler) WithGroup(string) slog.Handler { return h }

// Lines returns a copy of the lines kept so far.
func (h *Handler) Lines() []Line {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Line(nil), *h.lines...)
}

// Count returns how many lines at level min or above were kept.
func (h *Handler) Count(min slog.Level) int {
	n := 0
	for _, l := range h.Lines() {
		if l.Level >= min {
			n++
		}
	}
	return n
}

// String lists the lines, one a row, for a failing test's message.
func (h *Handler) String() string {
	var b strings.Builder
	for _, l := range h.Lines() {
		b.WriteString(l.Level.String() + " " + l.Msg)
		for k, v := range l.Attrs {
			b.WriteString(" " + k + "=" + v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
