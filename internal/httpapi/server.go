// Package httpapi is Switchyard's HTTP adapter: the gin engine, request
// decoding and validation, and the one place where domain errors become
// HTTP status codes. It holds no routing logic of its own.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// Router serves requests; *router.Service implements it.
type Router interface {
	Serve(ctx context.Context, req router.Request) (router.Result, error)
}

// SpendReader reports spend per UTC day in [from, to].
type SpendReader interface {
	Spend(ctx context.Context, from, to time.Time) ([]router.Spend, error)
}

// Check is one readiness check: nil when healthy, else what is wrong
// (without secrets).
type Check func(ctx context.Context) error

// Options are the Server's collaborators.
type Options struct {
	Router       Router
	Spend        SpendReader
	Baseline     string // baseline model name, reported with savings
	MaxBodyBytes int64
	// RequestTimeout bounds one whole request, every attempt included.
	RequestTimeout time.Duration
	// Metrics serves GET /metrics (Prometheus); nil leaves it out.
	Metrics http.Handler
	// Checks are run by /readyz, by name.
	Checks map[string]Check
	// Feedback stores POST /feedback outcomes; nil leaves the route out.
	Feedback FeedbackStore
	// Records lets /costs wait for this replica's buffered records before
	// reading spend (optional; without it /costs may lag by a flush).
	Records RecordSyncer
	// Pending knows the requests this process recorded whose rows are
	// not written yet: the recorder (optional).
	Pending Buffer
	// StoreOutage is told of the store's failures and successes on the
	// feedback path, so a database outage is the tracker's few lines
	// rather than one per request (optional; *outage.Tracker).
	StoreOutage OutageReporter
	// FeedbackGrace is how long feedback for an unknown id waits for its
	// request to be written before it is a 404; zero means 600ms,
	// negative means no wait.
	FeedbackGrace time.Duration
	// Admin serves /admin and everything under it (package web); nil
	// leaves the routes out.
	Admin http.Handler
	// MaxInFlight bounds the routed requests (/ask, /v1/chat/completions)
	// served at once; the excess is refused with 503 and Retry-After.
	// Zero or less: no bound.
	MaxInFlight int
	// Keys authenticates API keys and enforces their limits and budgets;
	// nil: no keys (every request anonymous).
	Keys KeyGate
	// RequireKeys refuses /ask, /v1/* and /feedback without a live key.
	RequireKeys bool
	// AdminToken lets /costs read every key's spend when keys are
	// required; empty: only keys read spend.
	AdminToken string
	// OutcomeWeights overrides router.DefaultOutcomeWeights (optional).
	OutcomeWeights *router.OutcomeWeights

	Logger *slog.Logger
	Now    func() time.Time
}

// Server is the HTTP API.
type Server struct {
	opts     Options
	log      *slog.Logger
	draining atomic.Bool
	active   atomic.Int64 // requests being served (see track)
	pins     *pins        // conversation id -> model of its first turn
	adm      admission
}

// New returns the API server; Handler gives its http.Handler.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 120 * time.Second
	}
	s := &Server{opts: opts, log: opts.Logger, pins: newPins(opts.Now)}
	s.adm.max = int64(opts.MaxInFlight)
	return s
}

// Drain makes /readyz answer 503 "draining" so load balancers stop
// sending traffic, and refuses new requests other than probes, while
// in-flight requests finish (SIGTERM; see track).
func (s *Server) Drain() { s.draining.Store(true) }

// Handler returns the gin engine with every route declared.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.Use(gin.Recovery(), s.track, s.limitBody)
	engine.HandleMethodNotAllowed = true
	engine.NoRoute(func(c *gin.Context) {
		writeError(c, router.Errorf(router.KindNotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	engine.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, errorBody("method not allowed", "invalid_request_error", "", "method_not_allowed"))
	})

	engine.POST("/ask", s.requireKey(true), s.admit, s.ask)
	if s.opts.Feedback != nil {
		engine.POST("/feedback", s.requireKey(false), s.feedback)
	}
	engine.GET("/costs/today", s.costsToday)
	engine.GET("/costs", s.costs)
	engine.GET("/healthz", s.healthz)
	engine.GET("/readyz", s.readyz)
	if s.opts.Metrics != nil {
		engine.GET("/metrics", gin.WrapH(s.opts.Metrics))
	}
	engine.POST("/v1/chat/completions", s.requireKey(true), s.admit, s.chatCompletions)
	engine.GET("/v1/models", s.requireKey(false), s.listModels)
	engine.GET("/v1/models/*model", s.requireKey(false), s.getModel)
	if s.opts.Admin != nil {
		admin := gin.WrapH(s.opts.Admin)
		engine.GET("/admin", admin)
		engine.GET("/admin/*path", admin)
	}
	return engine
}

// limitBody caps every request body; reading past the cap yields
// *http.MaxBytesError, which decode maps to 413.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	}
	c.Next()
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports "ready", or "degraded" naming each failing check, or
// "draining" during shutdown. Degraded and draining are 503.
func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	status, code := "ready", http.StatusOK
	for name, check := range s.opts.Checks {
		if err := check(ctx); err != nil {
			checks[name] = err.Error()
			status, code = "degraded", http.StatusServiceUnavailable
			continue
		}
		checks[name] = "ok"
	}
	c.JSON(code, gin.H{"status": status, "checks": checks})
}
