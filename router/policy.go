package router

import (
	"fmt"
	"math"
	"slices"
)

// The per-prompt rules a PromptPolicy can apply to a prompt's predicted
// success per model.
const (
	// RuleGap sends a prompt to the cheapest model whose predicted
	// success is within Param of the likeliest model's. With two models
	// this ranks prompts by p(strong) - p(weak), RouteLLM's router score.
	RuleGap = "gap"
	// RuleTarget sends a prompt to the cheapest model whose predicted
	// success reaches Param, or, when none does, to the likeliest.
	RuleTarget = "target"
)

// OperatingPoint is the setting of a per-prompt rule and the goal it was
// chosen for. The rule and its parameter are what routing uses; the rest
// says why that parameter, so a version explains itself.
type OperatingPoint struct {
	Rule  string  `json:"rule"`
	Param float64 `json:"param"`

	// KeepQuality is the relative goal the point was chosen for: keep at
	// least this share of Baseline's quality at the least cost. Zero when
	// the point was set by hand or for an absolute Target.
	KeepQuality float64 `json:"keep_quality,omitempty"`
	Baseline    string  `json:"baseline,omitempty"`
	// Target is the absolute quality goal, the advanced alternative to
	// KeepQuality; zero when the goal is relative.
	Target float64 `json:"target,omitempty"`

	// QualityShare and CostShare are the point's predicted quality and
	// cost as shares of Baseline's on the prompts it was chosen on, from
	// predictions out of fold (never of a model that saw the prompt) but
	// with the point selected on them, so the quality share leans
	// optimistic by that choice; the learner's promotion rests instead
	// on each fold routed at the point chosen on the other (its verdict,
	// the version's Gate and replay figures). Margin is the confidence
	// margin the choice kept between QualityShare and the goal; Samples
	// is the number of prompts behind the estimate.
	QualityShare float64 `json:"quality_share,omitempty"`
	CostShare    float64 `json:"cost_share,omitempty"`
	Margin       float64 `json:"margin,omitempty"`
	Samples      int     `json:"samples,omitempty"`
}

// Validate checks the rule and that its parameter is in range: a gap in
// [0, 1], a target in [0, 1].
func (op OperatingPoint) Validate() error {
	switch op.Rule {
	case RuleGap, RuleTarget:
	default:
		return fmt.Errorf("operating point: rule %q: want %s or %s", op.Rule, RuleGap, RuleTarget)
	}
	if !(op.Param >= 0 && op.Param <= 1) {
		return fmt.Errorf("operating point: %s %v: want a value in [0, 1]", op.Rule, op.Param)
	}
	if op.KeepQuality != 0 && !(op.KeepQuality > 0 && op.KeepQuality <= 1.5) {
		return fmt.Errorf("operating point: keep_quality %v: want a value in (0, 1.5]", op.KeepQuality)
	}
	return nil
}

// String is the point in a few words, as table diffs and logs show it.
func (op OperatingPoint) String() string {
	s := fmt.Sprintf("%s %.3f", op.Rule, op.Param)
	if op.KeepQuality > 0 {
		s += fmt.Sprintf(" (keep %.0f%% of %s", 100*op.KeepQuality, op.Baseline)
		if op.QualityShare > 0 {
			s += fmt.Sprintf("; predicted quality %.1f%%, cost %.1f%%", 100*op.QualityShare, 100*op.CostShare)
		}
		s += ")"
	}
	return s
}

// PromptPolicy is the per-prompt routing a version may carry beside its
// bucket table: each prompt goes where its predicted success per model
// (from the local model the version names) and the operating point send
// it. Models are the candidates it chooses among, cheapest first.
type PromptPolicy struct {
	Models []string       `json:"models"`
	Point  OperatingPoint `json:"point"`
}

// Validate checks the point and that the models are configured, each
// listed once.
func (pp PromptPolicy) Validate(models Catalog) error {
	if len(pp.Models) == 0 {
		return fmt.Errorf("prompt policy: no models")
	}
	seen := make(map[string]bool, len(pp.Models))
	for _, m := range pp.Models {
		if _, ok := models[m]; !ok {
			return fmt.Errorf("prompt policy: unknown model %q", m)
		}
		if seen[m] {
			return fmt.Errorf("prompt policy: model %q listed twice", m)
		}
		seen[m] = true
	}
	return pp.Point.Validate()
}

// Picker applies a per-prompt rule. It is the one implementation of the
// rule: the service calls it on every request of a version with a
// PromptPolicy, and the offline evaluation on every replayed prompt, so
// what eval measures is what the service runs. A Picker is immutable and
// safe for concurrent use.
type Picker struct {
	models []string
	tier   []int // price tier of each model: equal costs share one
	point  OperatingPoint
}

// NewPicker returns the picker of models (cheapest first) at point. costs
// gives each model's cost in any unit (a typical call's price, a mean
// cost per call); models of equal cost share a price tier, within which
// the likelier model is preferred. costs must not decrease.
func NewPicker(models []string, costs []float64, point OperatingPoint) (*Picker, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("picker: no models")
	}
	if len(costs) != len(models) {
		return nil, fmt.Errorf("picker: %d costs for %d models", len(costs), len(models))
	}
	if err := point.Validate(); err != nil {
		return nil, fmt.Errorf("picker: %w", err)
	}
	p := &Picker{models: slices.Clone(models), tier: make([]int, len(models)), point: point}
	for k := range models {
		p.tier[k] = k
		if k == 0 {
			continue
		}
		if costs[k] < costs[k-1] && !sameCost(costs[k], costs[k-1]) {
			return nil, fmt.Errorf("picker: model %q costs less than %q before it: want cheapest first", models[k], models[k-1])
		}
		if sameCost(costs[k], costs[k-1]) {
			p.tier[k] = p.tier[k-1]
		}
	}
	return p, nil
}

func sameCost(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))
}

// Models returns the picker's models, cheapest first.
func (p *Picker) Models() []string { return p.models }

// Point returns the picker's operating point.
func (p *Picker) Point() OperatingPoint { return p.point }

// WithParam returns a picker of the same models and tiers at another
// parameter of the same rule: what a sweep over operating points, or a
// relaxed quality goal, uses.
func (p *Picker) WithParam(param float64) *Picker {
	q := *p
	q.point.Param = param
	return &q
}

// Choose returns the index of the model the rule sends a prompt to, given
// pred[k], the predicted success of Models()[k]; a NaN prediction marks a
// model that cannot take the prompt. Among the models whose prediction
// reaches the threshold it takes the cheapest tier, within a tier the
// likelier; when none reaches it, the likeliest (ties: the cheaper). It
// returns -1 when every prediction is NaN.
func (p *Picker) Choose(pred []float64) int {
	thr := p.point.Param
	if p.point.Rule == RuleGap {
		best := math.Inf(-1)
		for _, pk := range pred {
			if !math.IsNaN(pk) {
				best = max(best, pk)
			}
		}
		thr = best - p.point.Param
	}
	pick, likeliest := -1, -1
	for k, pk := range pred {
		if math.IsNaN(pk) {
			continue
		}
		if likeliest < 0 || pk > pred[likeliest] {
			likeliest = k
		}
		if pk >= thr && (pick < 0 || p.tier[k] == p.tier[pick] && pk > pred[pick]) {
			pick = k
		}
	}
	if pick < 0 {
		return likeliest
	}
	return pick
}

// Order appends to dst the models in the order to try a prompt: the
// rule's choice first, then, as the escalation order, the models
// predicted likelier to succeed than it, cheapest first, then the rest
// by falling predicted success. Models with a NaN prediction are left
// out. It returns dst unchanged when every prediction is NaN.
func (p *Picker) Order(pred []float64, dst []string) []string {
	first := p.Choose(pred)
	if first < 0 {
		return dst
	}
	dst = append(dst, p.models[first])
	for k, pk := range pred {
		if k != first && !math.IsNaN(pk) && pk > pred[first] {
			dst = append(dst, p.models[k])
		}
	}
	start := len(dst)
	for k, pk := range pred {
		if k != first && !math.IsNaN(pk) && !(pk > pred[first]) {
			dst = append(dst, p.models[k])
		}
	}
	rest := dst[start:]
	idx := func(m string) int { return slices.Index(p.models, m) }
	slices.SortStableFunc(rest, func(a, b string) int {
		pa, pb := pred[idx(a)], pred[idx(b)]
		switch {
		case pa > pb:
			return -1
		case pa < pb:
			return 1
		}
		return 0
	})
	return dst
}
