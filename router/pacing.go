package router

import "slices"

// Pacing is a per-request routing adjustment asked for by the caller's
// budget (package keys) or by the caller itself. The zero value routes as
// usual.
type Pacing struct {
	// Step is how many steps the request's quality goal is relaxed toward
	// the key's floor: 0 routes as usual. With a bucket table a step is one
	// complexity level: the prompt is routed from the candidates of the
	// bucket Step levels cheaper, with its own bucket's candidates behind
	// them as the escalation order, so a failure still reaches a model
	// the table trusts for the prompt.
	Step int
	// KeepQuality is the relaxed quality goal (a share of the baseline's
	// quality) that Step stands for; zero when not relaxed. A policy that
	// routes by a quality goal uses it instead of Step.
	KeepQuality float64
	// Relax is KeepQuality as a share of the goal routing keeps as usual,
	// in (0, 1]; zero or one: not relaxed. A per-prompt policy scales its
	// operating point by it (relaxPolicy).
	Relax float64
	// MaxCost caps the expected cost of the request: candidates whose
	// expected cost exceeds it are skipped. Zero: no cap.
	MaxCost Micros
}

// relax returns the candidates for a, relaxed by pacing's step when that
// leads to a cheaper first choice, and whether it did. Without a step, or
// when the cheaper buckets start with the same or a dearer model, it is
// the table's order.
func relax(t Table, a Analysis, pacing Pacing, models Catalog, promptTokens int) ([]string, bool) {
	own := t.Candidates(a)
	if pacing.Step <= 0 || len(own) == 0 {
		return own, false
	}
	level := slices.Index(Complexities, a.Complexity)
	if level < 0 {
		level = len(Complexities) - 1 // unknown is treated as complex, as Candidates does
	}
	target := max(level-pacing.Step, 0)
	if target == level {
		return own, false
	}
	relaxed := a
	relaxed.Complexity = Complexities[target]
	cheaper := t.Candidates(relaxed)
	if len(cheaper) == 0 {
		return own, false
	}
	cost := func(name string) Micros { return models[name].Cost(promptTokens, a.EstimatedTokens) }
	if cost(cheaper[0]) >= cost(own[0]) {
		return own, false
	}
	out := append([]string(nil), cheaper...)
	for _, m := range own {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, true
}

// relaxPolicy is relax for a per-prompt policy: the picker's operating
// point is loosened by pacing.Relax (a success threshold scaled by it, a
// gap to the likeliest model widened by 1-Relax) and the prompt's
// prediction ordered again. The usual order stays behind the relaxed
// first choice as the escalation order. It reports whether the first
// choice became a cheaper model.
func relaxPolicy(picker *Picker, pred PromptPrediction, order []string, pacing Pacing, models Catalog, a Analysis, promptTokens int) ([]string, bool) {
	if picker == nil || pacing.Step <= 0 || pacing.Relax <= 0 || pacing.Relax >= 1 || len(order) == 0 {
		return order, false
	}
	param := picker.Point().Param * pacing.Relax
	if picker.Point().Rule == RuleGap {
		param = picker.Point().Param + (1 - pacing.Relax)
	}
	relaxed := picker.WithParam(param).Order(pred.Success, nil)
	if len(relaxed) == 0 {
		return order, false
	}
	cost := func(name string) Micros { return models[name].Cost(promptTokens, a.EstimatedTokens) }
	if cost(relaxed[0]) >= cost(order[0]) {
		return order, false
	}
	out := []string{relaxed[0]}
	for _, m := range order {
		if m != relaxed[0] {
			out = append(out, m)
		}
	}
	return out, true
}

// capCost drops the candidates whose expected cost exceeds pacing.MaxCost.
// It returns a KindInvalid error about x-switchyard-max-cost when none is
// left, so a cap too low for any model is refused rather than ignored.
func capCost(candidates []string, pacing Pacing, models Catalog, promptTokens, completionTokens int) ([]string, error) {
	if pacing.MaxCost <= 0 {
		return candidates, nil
	}
	out := make([]string, 0, len(candidates))
	for _, c := range candidates {
		if models[c].Cost(promptTokens, completionTokens) <= pacing.MaxCost {
			out = append(out, c)
		}
	}
	if len(out) == 0 && len(candidates) > 0 {
		return nil, Errorf(KindInvalid, "x-switchyard-max-cost", "every candidate model's expected cost exceeds %.6f USD", pacing.MaxCost.USD())
	}
	return out, nil
}
