package keys

import (
	"math"
	"time"

	"github.com/switchyard/switchyard/router"
)

// Bounds returns the UTC start and end of p's period containing t.
func (p Period) Bounds(t time.Time) (start, end time.Time) {
	t = t.UTC()
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch p {
	case Week:
		// ISO weeks start on Monday.
		back := (int(day.Weekday()) + 6) % 7
		start = day.AddDate(0, 0, -back)
		return start, start.AddDate(0, 0, 7)
	case Month:
		start = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	default:
		return day, day.AddDate(0, 0, 1)
	}
}

// window names p's period containing t in the usage counters.
func (p Period) window(t time.Time) string {
	start, _ := p.Bounds(t)
	if p == Month {
		return "month:" + start.Format("2006-01")
	}
	return string(p) + ":" + start.Format(time.DateOnly)
}

// minuteWindow names the minute of t in the usage counters.
func minuteWindow(t time.Time) string { return minutePrefix + t.UTC().Format("200601021504") }

// minutePrefix begins every per-minute window; those windows sort by time.
const minutePrefix = "m:"

// Pace is where a key's spend stands against its budget's pace.
type Pace struct {
	Spent  router.Micros
	Budget router.Micros
	// Elapsed is the share of the period gone, in [0, 1].
	Elapsed float64
	// Ahead is the share of the budget spent beyond the pace (spent/budget
	// minus elapsed); negative when behind it.
	Ahead float64
	// Step is how many steps routing is relaxed (0: on pace).
	Step int
	// KeepQuality is the relaxed quality goal; zero when Step is zero.
	KeepQuality float64
	// Exhausted: the whole budget is spent.
	Exhausted bool
	PeriodEnd time.Time
}

// Pacing is how a gate relaxes a key ahead of its pace.
type Pacing struct {
	// Goal is the quality goal routing keeps as usual (a share of the
	// baseline's quality; routing.keep_quality), 1 when unset.
	Goal float64
	// Floor is the lowest goal pacing relaxes a key to when the key sets
	// none (its --keep-quality).
	Floor float64
	// StepShare is how far ahead of pace, as a share of the budget, each
	// further step is taken: 0.1 takes step 1 at 0.1% to 10% ahead, step 2
	// beyond, and so on.
	StepShare float64
	// MaxSteps is the step at which the floor is reached. With a bucket
	// table a step is one complexity level, so 2 reaches the simple
	// bucket's models from complex.
	MaxSteps int
}

// DefaultPacing is goal 1, floor 0.8, a step per 10% ahead, two steps.
func DefaultPacing() Pacing { return Pacing{Goal: 1, Floor: 0.8, StepShare: 0.1, MaxSteps: 2} }

// Of computes k's pace at now given what it spent in the period. A key
// without a budget is always on pace.
func (pc Pacing) Of(k Key, spent router.Micros, now time.Time) Pace {
	p := Pace{Spent: spent, Budget: k.Budget}
	if k.Budget <= 0 {
		return p
	}
	start, end := k.Period.Bounds(now)
	p.PeriodEnd = end
	p.Elapsed = float64(now.Sub(start)) / float64(end.Sub(start))
	p.Ahead = float64(spent)/float64(k.Budget) - p.Elapsed
	p.Exhausted = spent >= k.Budget
	floor := k.KeepQuality
	if floor == 0 {
		floor = pc.Floor
	}
	goal := pc.Goal
	if goal <= 0 {
		goal = 1
	}
	// A floor at or above the goal means the key never trades quality
	// for pace: it runs as usual until its budget is spent.
	if p.Ahead <= 0 || floor >= goal || pc.MaxSteps <= 0 || pc.StepShare <= 0 {
		return p
	}
	p.Step = min(int(math.Ceil(p.Ahead/pc.StepShare)), pc.MaxSteps)
	p.KeepQuality = goal - float64(p.Step)*(goal-floor)/float64(pc.MaxSteps)
	return p
}

// relax is p's relaxed goal as a share of the usual one; zero when p is
// not relaxed.
func (pc Pacing) relax(p Pace) float64 {
	if p.Step == 0 {
		return 0
	}
	goal := pc.Goal
	if goal <= 0 {
		goal = 1
	}
	return p.KeepQuality / goal
}
