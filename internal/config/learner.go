package config

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Learner configures the nightly learner: when it runs, what it reads and
// how its gate decides (see package learner).
type Learner struct {
	// Enabled runs the learner on Schedule inside `switchyard serve`;
	// `switchyard learn` runs it whatever this says.
	Enabled bool `yaml:"enabled"`
	// Schedule is a cron spec in UTC: five fields ("0 3 * * *") or a
	// descriptor ("@daily", "@every 1h").
	Schedule string `yaml:"schedule"`
	// Window is how far back outcomes are read.
	Window time.Duration `yaml:"window"`
	// MinSamples is how many logged requests a (bucket, model) needs
	// before the gate lets that bucket block or justify a promotion.
	MinSamples int `yaml:"min_samples"`
	// Target, when set, is an absolute quality target the table is
	// fitted to (a model is adequate for a bucket when its success rate
	// credibly reaches it), replacing the default relative goal
	// routing.keep_quality. Zero (the default) leaves the goal relative.
	Target float64 `yaml:"target"`
	// Tolerance is the largest quality drop the gate accepts in any
	// bucket with enough samples (and on the labeled dataset).
	Tolerance float64 `yaml:"tolerance"`
	// Dataset is an optional labeled dataset (.jsonl or .jsonl.gz) both
	// tables are replayed on as well: independent evidence that can veto
	// a promotion.
	Dataset string `yaml:"dataset"`
	// Timeout bounds one run.
	Timeout time.Duration `yaml:"timeout"`
	// KeepPrompts stores the normalised text of routed prompts (pruned
	// to Window) so that the learner can train the local classifier. Off
	// by default: records otherwise keep only a prompt hash.
	KeepPrompts bool `yaml:"keep_prompts"`
}

// learnerLeaseLimit is the longest run the learner lock covers (see
// store.TryLearnerLock); a run must end before its lock would lapse.
const learnerLeaseLimit = time.Hour

// DefaultLearner returns the learner defaults: nightly at 03:00 UTC over
// the last 7 days, 30 samples per bucket and model, at most 0.01 quality
// lost in any bucket, runs bounded to 10 minutes. Target is unset: the
// goal is routing.keep_quality's.
func DefaultLearner() Learner {
	return Learner{
		Enabled:    true,
		Schedule:   "0 3 * * *",
		Window:     7 * 24 * time.Hour,
		MinSamples: 30,
		Tolerance:  0.01,
		Timeout:    10 * time.Minute,
	}
}

// validate appends the learner section's errors.
func (l Learner) validate(bad func(format string, args ...any)) {
	if _, err := cron.ParseStandard(l.Schedule); err != nil {
		bad("learner.schedule: %q: %v", l.Schedule, err)
	}
	if l.Window <= 0 {
		bad("learner.window: %v: must be positive", l.Window)
	}
	if l.MinSamples < 1 {
		bad("learner.min_samples: %d: must be at least 1", l.MinSamples)
	}
	if !(l.Target >= 0 && l.Target <= 1) {
		bad("learner.target: %v: want a value in (0, 1], or 0 for routing.keep_quality's relative goal", l.Target)
	}
	if !(l.Tolerance >= 0 && l.Tolerance < 1) {
		bad("learner.tolerance: %v: want a value in [0, 1)", l.Tolerance)
	}
	if l.Timeout <= 0 || l.Timeout > learnerLeaseLimit {
		bad("learner.timeout: %v: want a duration in (0, %v]", l.Timeout, learnerLeaseLimit)
	}
}

// String is the section for logs.
func (l Learner) String() string {
	return fmt.Sprintf("enabled=%v schedule=%q window=%v min_samples=%d target=%v tolerance=%v dataset=%q keep_prompts=%v",
		l.Enabled, l.Schedule, l.Window, l.MinSamples, l.Target, l.Tolerance, l.Dataset, l.KeepPrompts)
}
