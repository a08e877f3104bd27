package httpapi

import (
	"context"
	"net/http"
	"sync"
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

// RecentSet says whether this process served a request whose record may
// not be written yet; *RecentIDs implements it.
type RecentSet interface {
	Seen(id string) bool
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
		s.fail(c, err)
		return
	}
	if !known {
		s.fail(c, router.Errorf(router.KindNotFound, "id", "no request %q", o.RequestID))
		return
	}
	if err := s.opts.Feedback.PutOutcome(ctx, o); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, feedbackResponse{ID: o.RequestID, Score: o.Score, Source: o.Source})
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
		if s.opts.Recent != nil && s.opts.Recent.Seen(id) {
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

// RecentIDs is a router.Recorder that remembers the ids of the last
// records it passed on, so feedback can find a request whose record is
// still in the recorder's buffer. It is safe for concurrent use and
// holds at most its capacity of ids, forgetting the oldest first. It sits
// on every request's path, so its ids are split into independently
// locked shards: one mutex here serialised the service under load.
type RecentIDs struct {
	next   router.Recorder
	shards []recentShard
}

// recentShards is how many parts RecentIDs splits its ids into, when it
// holds at least minPerShard ids a part; a small one keeps one part, so
// that it forgets exactly the oldest.
const (
	recentShards = 16
	minPerShard  = 256
)

type recentShard struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string // the ids in arrival order, oldest at pos once full
	pos  int
}

var (
	_ router.Recorder = (*RecentIDs)(nil)
	_ RecentSet       = (*RecentIDs)(nil)
)

// NewRecentIDs returns a RecentIDs passing records on to next and
// remembering up to capacity ids (at least 1).
func NewRecentIDs(next router.Recorder, capacity int) *RecentIDs {
	n := 1
	if capacity >= recentShards*minPerShard {
		n = recentShards
	}
	per := max((capacity+n-1)/n, 1)
	r := &RecentIDs{next: next, shards: make([]recentShard, n)}
	for i := range r.shards {
		r.shards[i] = recentShard{ids: make(map[string]struct{}, per), ring: make([]string, 0, per)}
	}
	return r
}

// Record passes rec on, and remembers its id once next accepted it.
func (r *RecentIDs) Record(ctx context.Context, rec router.Record) error {
	if err := r.next.Record(ctx, rec); err != nil {
		return err
	}
	r.shard(rec.ID).add(rec.ID)
	return nil
}

// shard picks id's shard by FNV-1a.
func (r *RecentIDs) shard(id string) *recentShard {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &r.shards[h%uint32(len(r.shards))]
}

func (s *recentShard) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.pos])
		s.ring[s.pos] = id
		s.pos = (s.pos + 1) % len(s.ring)
	}
	s.ids[id] = struct{}{}
}

// Seen reports whether id is among the remembered ids.
func (r *RecentIDs) Seen(id string) bool {
	s := r.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}
