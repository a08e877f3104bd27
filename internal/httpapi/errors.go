package httpapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// statusOf is the one mapping from domain error kinds to HTTP status.
func statusOf(k router.Kind) int {
	switch k {
	case router.KindInvalid:
		return http.StatusBadRequest
	case router.KindNotFound:
		return http.StatusNotFound
	case router.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case router.KindUnavailable:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// typeOf names the error in OpenAI's "type" vocabulary, so OpenAI SDKs
// classify it as they would OpenAI's own.
func typeOf(k router.Kind) string {
	switch k {
	case router.KindInvalid, router.KindTooLarge, router.KindNotFound:
		return "invalid_request_error"
	case router.KindUnavailable:
		return "upstream_error"
	default:
		return "server_error"
	}
}

// fail logs server-side failures and writes err for the client.
func (s *Server) fail(c *gin.Context, err error) {
	if shuttingDown(c) {
		// Cancelled at the drain deadline: not the upstream's fault, and
		// another replica may well answer (issue 12, item 1).
		c.Header("x-should-retry", "true")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody(shutdownError().Message, "server_error", "", "shutting_down"))
		return
	}
	if statusOf(router.KindOf(err)) >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	writeError(c, err)
}

// writeError writes err in OpenAI's envelope. Only *router.Error messages
// reach the client; anything else is reported generically.
func writeError(c *gin.Context, err error) {
	var e *router.Error
	if !errors.As(err, &e) {
		e = &router.Error{Kind: router.KindInternal, Message: "internal error", Err: err}
	}
	status := statusOf(e.Kind)
	if status >= 500 {
		// Retrying the same request cannot help when every candidate
		// already failed or the server is broken; say so (FAULTS.md F2).
		c.Header("x-should-retry", "false")
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	c.AbortWithStatusJSON(status, errorBody(msg, typeOf(e.Kind), e.Field, string(e.Kind)))
}

func errorBody(message, typ, param, code string) gin.H {
	body := gin.H{"message": message, "type": typ, "code": code}
	if param != "" {
		body["param"] = param
	} else {
		body["param"] = nil
	}
	return gin.H{"error": body}
}
