package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

// FeedbackStore keeps outcomes; *store.Store implements it.
type FeedbackStore interface {
	// HasRequest reports whether request id is stored.
	HasRequest(ctx context.Context, id string) (bool, error)
	// PutOutcome stores o, replacing an earlier outcome of the same
	// request, attempt and source. It returns a router.KindInvalid error
	// for a malformed outcome.
	PutOutcome(ctx context.Context, o router.Outcome) error
}

// Buffer says whether this process recorded a request whose row is not
// written yet; *recorder.Recorder implements it.
type Buffer interface {
	// Buffered reports whether a record with id is accepted but not yet
	// written.
	Buffered(id string) bool
}

// OutageReporter follows a dependency's health from the outcome of each
// operation on it; *outage.Tracker implements it.
type OutageReporter interface {
	// Fail reports a failed operation op.
	Fail(op string, err error)
	// OK reports a successful one.
	OK()
}

// Feedback timing defaults.
const (
	// defaultFeedbackGrace is how long feedback for an id nobody knows
	// yet waits for the id to appear before it is a 404: the recorder
	// writes records every 200ms, and a stream's record is taken after
	// its last byte, so a fast client can beat its own record.
	defaultFeedbackGrace = 600 * time.Millisecond
	feedbackPoll         = 40 * time.Millisecond
	maxIDLen             = 128
	// storeRetryAfter is the Retry-After of feedback refused while the
	// database is unreachable: about the recorder's pace of retrying.
	storeRetryAfter = "5"
)

type feedbackRequest struct {
	ID      *string  `json:"id"`
	Success *bool    `json:"success"`
	Score   *float64 `json:"score"`
}

type feedbackResponse struct {
	ID     string  `json:"id"`
	Score  float64 `json:"score"`
	Source string  `json:"source"`
}

// feedback records a client's judgement of an answer: {"id", "success"}
// or {"id", "score"}. A second feedback for the same request replaces the
// first; an id this service never served is a 404 (FAULTS.md B10).
func (s *Server) feedback(c *gin.Context) {
	var req feedbackRequest
	if err := decode(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.ID == nil {
		s.fail(c, router.Errorf(router.KindInvalid, "id", "is required"))
		return
	}
	if len(*req.ID) > maxIDLen {
		s.fail(c, router.Errorf(router.KindInvalid, "id", "longer than %d characters", maxIDLen))
		return
	}
	o, err := router.NewFeedback(*req.ID, req.Success, req.Score, s.opts.Now().UTC(), s.weights())
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	known, err := s.knownRequest(ctx, o.RequestID)
	if err != nil {
		s.storeFail(c, err)
		return
	}
	if !known {
		s.fail(c, router.Errorf(router.KindNotFound, "id", "no request %q", o.RequestID))
		return
	}
	if err := s.opts.Feedback.PutOutcome(ctx, o); err != nil {
		s.storeFail(c, err)
		return
	}
	if s.opts.StoreOutage != nil {
		s.opts.StoreOutage.OK()
	}
	c.JSON(http.StatusOK, feedbackResponse{ID: o.RequestID, Score: o.Score, Source: o.Source})
}

// storeFail answers feedback the store could not take. A domain error
// (a malformed outcome, a cancelled request) is answered as such; any
// other is the database being unreachable or failing: a 503 with
// Retry-After, which OpenAI SDKs and plain clients retry, because the
// feedback is not kept anywhere else. (Accepting it into a buffer would
// answer 200 for feedback that a restart during the outage loses, and
// for ids that may not exist.) The failure goes to the outage tracker,
// which logs an outage once, not once per request.
func (s *Server) storeFail(c *gin.Context, err error) {
	var de *router.Error
	if errors.As(err, &de) || shuttingDown(c) || c.Request.Context().Err() != nil {
		s.fail(c, err)
		return
	}
	if s.opts.StoreOutage != nil {
		s.opts.StoreOutage.Fail("feedback", err)
	} else {
		s.log.Error("feedback: store failed", "err", err)
	}
	c.Header("Retry-After", storeRetryAfter)
	c.Header("x-should-retry", "true")
	c.AbortWithStatusJSON(http.StatusServiceUnavailable,
		errorBody("feedback cannot be stored while the database is unavailable; retry later", "server_error", "", "database_unavailable"))
}

func (s *Server) weights() router.OutcomeWeights {
	if s.opts.OutcomeWeights != nil {
		return *s.opts.OutcomeWeights
	}
	return router.DefaultOutcomeWeights()
}

// knownRequest reports whether id is a request this service served: its
// row is stored, or this process recorded it and the row is on its way.
// An id known to neither gets a short grace, polling, for a record
// written by another replica or not yet taken.
func (s *Server) knownRequest(ctx context.Context, id string) (bool, error) {
	grace := s.opts.FeedbackGrace
	if grace == 0 {
		grace = defaultFeedbackGrace
	}
	var deadline <-chan time.Time
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		deadline = t.C
	}
	poll := time.NewTicker(feedbackPoll)
	defer poll.Stop()
	for {
		if s.opts.Pending != nil && s.opts.Pending.Buffered(id) {
			return true, nil
		}
		ok, err := s.opts.Feedback.HasRequest(ctx, id)
		if err != nil || ok {
			return ok, err
		}
		if deadline == nil {
			return false, nil
		}
		select {
		case <-poll.C:
		case <-deadline:
			return false, nil
		case <-ctx.Done():
			return false, router.Errorf(router.KindUnavailable, "", "request cancelled")
		}
	}
}
