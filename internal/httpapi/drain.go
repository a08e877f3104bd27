package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// ErrShuttingDown is the cause with which serve cancels the requests
// still running at the drain deadline (see BaseContext in serve.go):
// their clients are told the server is shutting down, not that the
// upstream failed.
var ErrShuttingDown = errors.New("server shutting down")

// probes stay served while draining: a load balancer must be able to
// read "draining" and a scraper the last metrics.
var probes = map[string]bool{"/readyz": true, "/healthz": true, "/metrics": true}

// track counts every request being served and, once Drain was called,
// refuses new ones other than probes with 503 "draining": the listener
// stays open so in-flight requests finish and a load balancer reads a
// status rather than a refused connection.
func (s *Server) track(c *gin.Context) {
	s.active.Add(1)
	defer s.active.Add(-1)
	if s.draining.Load() && !probes[c.Request.URL.Path] {
		c.Header("Connection", "close")
		c.Header("Retry-After", "1")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable,
			errorBody("Switchyard is shutting down and takes no new requests; retry on another replica", "server_error", "", "draining"))
		return
	}
	c.Next()
}

// Active is the number of requests being served now, probes included.
func (s *Server) Active() int64 { return s.active.Load() }

// drainPoll is how often WaitIdle looks at the active count.
const drainPoll = 10 * time.Millisecond

// WaitIdle waits until no request is being served, or ctx ends; it
// reports whether the server went idle.
func (s *Server) WaitIdle(ctx context.Context) bool {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			return s.active.Load() == 0
		case <-t.C:
		}
	}
	return true
}

// shuttingDown reports whether c's request was cancelled by the drain
// deadline.
func shuttingDown(c *gin.Context) bool {
	return errors.Is(context.Cause(c.Request.Context()), ErrShuttingDown)
}

// shutdownError is what a request cancelled at the drain deadline
// answers: 503, worth retrying elsewhere.
func shutdownError() *router.Error {
	return router.Errorf(router.KindUnavailable, "", "request cancelled: the server is shutting down and its drain deadline passed; retry on another replica")
}
