package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gin-gonic/gin"
)

// retryAfterSeconds is what a refused client is told to wait: long
// enough for a burst's requests to finish, short enough not to idle.
const retryAfterSeconds = 1

// admission bounds the routed requests served at once. Beyond the bound
// a request is refused at once rather than queued: a queue in front of
// slow upstreams only grows latency and memory until the process
// collapses, while a prompt 503 with Retry-After lets clients and load
// balancers back off or go elsewhere.
type admission struct {
	max      int64 // <= 0: no bound
	inFlight atomic.Int64
	refused  atomic.Uint64
}

// admit is the middleware of the routed endpoints. It counts a request
// in flight until its handler returns (a stream's last byte included).
func (s *Server) admit(c *gin.Context) {
	a := &s.adm
	if a.max <= 0 {
		c.Next()
		return
	}
	if a.inFlight.Add(1) > a.max {
		a.inFlight.Add(-1)
		a.refused.Add(1)
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
		msg := fmt.Sprintf("Switchyard is serving its limit of %d requests (server.max_in_flight); retry after %ds", a.max, retryAfterSeconds)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, errorBody(msg, "server_error", "", "overloaded"))
		return
	}
	defer a.inFlight.Add(-1)
	c.Next()
}

// InFlight is the number of routed requests being served now.
func (s *Server) InFlight() int64 { return s.adm.inFlight.Load() }

// Refused is the number of routed requests refused by admission control
// since start.
func (s *Server) Refused() uint64 { return s.adm.refused.Load() }
