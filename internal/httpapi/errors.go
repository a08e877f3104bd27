package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/internal/edge"
	"github.com/switchyard/switchyard/router"
)

// fail logs server-side failures and writes err for the client.
func (s *Server) fail(c *gin.Context, err error) {
	if shuttingDown(c) {
		// Cancelled at the drain deadline: not the upstream's fault, and
		// another replica may well answer (issue 12, item 1).
		c.Header("x-should-retry", "true")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody(shutdownError().Message, "server_error", "", "shutting_down"))
		return
	}
	// A request no candidate answered (or whose client left) is not
	// logged here: the router's upstream tracker logs an outage's start,
	// summaries and end, not a line per request (issue 12, item 5).
	if k := router.KindOf(err); k != router.KindUnavailable && edge.Status(k) >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	writeError(c, err)
}

// writeError writes err in OpenAI's envelope. Only *router.Error messages
// reach the client; anything else is reported generically.
func writeError(c *gin.Context, err error) {
	e := edge.ClientError(err)
	status := edge.Status(e.Kind)
	if status >= 500 {
		// Retrying the same request cannot help when every candidate
		// already failed or the server is broken; say so (FAULTS.md F2).
		c.Header("x-should-retry", "false")
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	c.AbortWithStatusJSON(status, errorBody(msg, edge.Type(e.Kind), e.Field, string(e.Kind)))
}

func errorBody(message, typ, param, code string) gin.H {
	return edge.ErrorBody(message, typ, param, code)
}
