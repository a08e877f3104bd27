package router

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the one place that maps errors to HTTP
// status codes (internal/httpapi).
type Kind string

// Error kinds.
const (
	KindInvalid     Kind = "invalid"     // bad input: 400
	KindNotFound    Kind = "not_found"   // unknown id or model: 404
	KindTooLarge    Kind = "too_large"   // body or prompt over a limit: 413
	KindConflict    Kind = "conflict"    // the state changed under the request: 409
	KindUnavailable Kind = "unavailable" // every candidate failed: 502/503
	KindInternal    Kind = "internal"    // a bug or a broken dependency: 500
)

// Error is the domain's error: a kind, the field it is about (for bad
// input), and a message safe to show a client.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	Err     error // the cause, never shown to clients
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of kind k about field (which may be empty).
func Errorf(k Kind, field, format string, args ...any) *Error {
	return &Error{Kind: k, Field: field, Message: fmt.Sprintf(format, args...)}
}

// KindOf reports the kind of err: that of the first *Error in its chain,
// else KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
