package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/internal/edge"
	"github.com/switchyard/switchyard/keys"
	"github.com/switchyard/switchyard/router"
)

// maxCostDays bounds /costs ranges so one request cannot ask for decades.
const maxCostDays = 366

// daySpend is a day of spend in the edge's vocabulary.
type daySpend = edge.Day

// RecordSyncer is the recorder as /costs sees it; *recorder.Recorder
// implements it.
type RecordSyncer interface {
	// Sync waits until every record accepted so far is written.
	Sync(ctx context.Context) error
	// Pending counts accepted records not yet written.
	Pending() int
}

// syncWait is how long /costs waits for this replica's buffered records
// to be written before answering without them.
const syncWait = time.Second

// syncRecords gives /costs read-your-writes: the records of requests
// already answered are written before spend is read. When the database
// does not take them within syncWait it answers anyway and returns how
// many are missing (issue 12, item 9).
func (s *Server) syncRecords(ctx context.Context) int {
	if s.opts.Records == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	if err := s.opts.Records.Sync(ctx); err != nil {
		return max(s.opts.Records.Pending(), 0)
	}
	return 0
}

// keySpendReader is the optional part of a SpendReader that reports one
// key's spend (the store does).
type keySpendReader interface {
	KeySpend(ctx context.Context, key string, from, to time.Time) ([]router.Spend, error)
}

// spendOf reads spend in [from, to] for the key the request may see (""
// for all), writing the refusal or error itself when it may not.
func (s *Server) spendOf(c *gin.Context, from, to time.Time) (days []router.Spend, key string, ok bool) {
	key, err := s.spendScope(c)
	if err != nil {
		var r *keys.Refusal
		if errors.As(err, &r) {
			writeRefusal(c, r)
		} else {
			s.fail(c, err)
		}
		return nil, "", false
	}
	if key == "" {
		days, err = s.opts.Spend.Spend(c.Request.Context(), from, to)
	} else if kr, isKR := s.opts.Spend.(keySpendReader); isKR {
		days, err = kr.KeySpend(c.Request.Context(), key, from, to)
	} else {
		err = router.Errorf(router.KindInvalid, "key", "spend by key is not available on this server")
	}
	if err != nil {
		s.fail(c, err)
		return nil, "", false
	}
	return days, key, true
}

// driftReader is the optional part of a SpendReader that reports the
// bucket mix's drift (the store does).
type driftReader interface {
	BucketPSI(ctx context.Context, day time.Time) (map[string]float64, error)
}

func (s *Server) toDay(sp router.Spend) daySpend { return edge.NewDay(sp, s.opts.Baseline) }

func (s *Server) costsToday(c *gin.Context) {
	today := s.opts.Now().UTC().Truncate(24 * time.Hour)
	pending := s.syncRecords(c.Request.Context())
	days, key, ok := s.spendOf(c, today, today)
	if !ok {
		return
	}
	sp := router.Spend{Date: today.Format(time.DateOnly)}
	if len(days) > 0 {
		sp = days[0]
	}
	d := s.toDay(sp)
	d.PendingRecords = &pending
	d.Key = key
	if dr, ok := s.opts.Spend.(driftReader); ok && key == "" {
		// The drift is extra: its failure must not cost the spend report.
		psi, err := dr.BucketPSI(c.Request.Context(), today)
		if err != nil {
			s.log.Warn("bucket drift", "err", err)
		}
		d.BucketPSI = psi
	}
	c.JSON(http.StatusOK, d)
}

// costs reports each day in [from, to] (UTC dates, inclusive) and their
// total. Both default to today.
func (s *Server) costs(c *gin.Context) {
	today := s.opts.Now().UTC().Truncate(24 * time.Hour)
	from, err := dateParam(c, "from", today)
	if err != nil {
		s.fail(c, err)
		return
	}
	to, err := dateParam(c, "to", today)
	if err != nil {
		s.fail(c, err)
		return
	}
	if to.Before(from) {
		s.fail(c, router.Errorf(router.KindInvalid, "to", "must not be before from"))
		return
	}
	if to.Sub(from) >= maxCostDays*24*time.Hour {
		s.fail(c, router.Errorf(router.KindInvalid, "to", "range longer than %d days", maxCostDays))
		return
	}
	pending := s.syncRecords(c.Request.Context())
	days, key, ok := s.spendOf(c, from, to)
	if !ok {
		return
	}
	out := make([]daySpend, 0, len(days))
	for _, d := range days {
		out = append(out, s.toDay(d))
	}
	sum := s.toDay(router.SumSpend(from.Format(time.DateOnly)+"/"+to.Format(time.DateOnly), days))
	sum.Key = key
	c.JSON(http.StatusOK, gin.H{
		"key":   key,
		"from":  from.Format(time.DateOnly),
		"to":    to.Format(time.DateOnly),
		"days":  out,
		"total": sum,
		// Records accepted but not yet written, missing from the figures.
		"pending_records": pending,
	})
}

func dateParam(c *gin.Context, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, router.Errorf(router.KindInvalid, name, "want a date as YYYY-MM-DD, got %q", v)
	}
	return t, nil
}
