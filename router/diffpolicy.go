package router

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// PolicyDiff is the change in the two parts of a version beside its
// bucket table: the local model (by digest) and the per-prompt policy
// (its models and operating point), with what each point's replay
// predicted it does to quality and cost (OperatingPoint.QualityShare and
// CostShare, shares of the baseline's).
type PolicyDiff struct {
	LocalModelBefore string `json:"local_model_before,omitempty"`
	LocalModelAfter  string `json:"local_model_after,omitempty"`
	// ModelChanged says the local model changed (trained anew, added or
	// removed).
	ModelChanged bool          `json:"model_changed"`
	Before       *PromptPolicy `json:"before,omitempty"`
	After        *PromptPolicy `json:"after,omitempty"`
	// PointChanged says the rule, its parameter or the goal changed, or
	// a policy was added or removed; ModelsChanged that its candidate
	// models did.
	PointChanged  bool `json:"point_changed"`
	ModelsChanged bool `json:"models_changed"`
}

// Changed reports whether the local model or the policy changed.
func (p PolicyDiff) Changed() bool { return p.ModelChanged || p.PointChanged || p.ModelsChanged }

// diffPolicy compares the local models and policies of a and b; nil when
// neither version has either.
func diffPolicy(a, b Version) *PolicyDiff {
	if a.Policy == nil && b.Policy == nil && a.Provenance.LocalModel == "" && b.Provenance.LocalModel == "" {
		return nil
	}
	d := &PolicyDiff{
		LocalModelBefore: a.Provenance.LocalModel,
		LocalModelAfter:  b.Provenance.LocalModel,
		ModelChanged:     a.Provenance.LocalModel != b.Provenance.LocalModel,
		Before:           a.Policy,
		After:            b.Policy,
	}
	switch {
	case a.Policy == nil || b.Policy == nil:
		d.PointChanged = a.Policy != b.Policy
		d.ModelsChanged = d.PointChanged
	default:
		d.PointChanged = !samePoint(a.Policy.Point, b.Policy.Point)
		d.ModelsChanged = !slices.Equal(a.Policy.Models, b.Policy.Models)
	}
	return d
}

// samePoint compares what routes (rule, parameter) and the goal it was
// chosen for; the replay's estimates may differ between equal points.
func samePoint(x, y OperatingPoint) bool {
	return x.Rule == y.Rule && x.Param == y.Param && x.KeepQuality == y.KeepQuality &&
		x.Baseline == y.Baseline && x.Target == y.Target
}

// writeText prints the policy part of a diff.
func (p *PolicyDiff) writeText(w io.Writer) {
	if p == nil {
		return
	}
	if !p.Changed() {
		fmt.Fprintf(w, "\nper-prompt policy: unchanged (%s, local model %s)\n", policyLine(p.After), short(p.LocalModelAfter))
		return
	}
	fmt.Fprintf(w, "\nper-prompt policy:\n")
	if p.ModelChanged {
		fmt.Fprintf(w, "  local model:     %s -> %s\n", short(p.LocalModelBefore), short(p.LocalModelAfter))
	}
	if p.ModelsChanged {
		fmt.Fprintf(w, "  models:          %s -> %s\n", policyModels(p.Before), policyModels(p.After))
	}
	if p.PointChanged || p.ModelsChanged || p.ModelChanged {
		fmt.Fprintf(w, "  operating point: %s -> %s\n", policyLine(p.Before), policyLine(p.After))
	}
	before, after := replayLine(p.Before), replayLine(p.After)
	if before != "" || after != "" {
		fmt.Fprintf(w, "  replay predicted: %s -> %s\n", orNone(before), orNone(after))
	}
	if p.After == nil && p.Before != nil {
		fmt.Fprintf(w, "  routing: per-prompt policy -> bucket table\n")
	} else if p.Before == nil && p.After != nil {
		fmt.Fprintf(w, "  routing: bucket table -> per-prompt policy (the table stays the fallback)\n")
	}
}

func policyLine(p *PromptPolicy) string {
	if p == nil {
		return "(none: the bucket table routes)"
	}
	return p.Point.Rule + " " + fmt.Sprintf("%.3f", p.Point.Param) + goalOf(p.Point)
}

func goalOf(op OperatingPoint) string {
	switch {
	case op.KeepQuality > 0:
		return fmt.Sprintf(" for keeping %.0f%% of %s", 100*op.KeepQuality, orNone(op.Baseline))
	case op.Target > 0:
		return fmt.Sprintf(" for target %.2f", op.Target)
	}
	return ""
}

// replayLine is the point's predicted quality and cost as shares of the
// baseline's, empty when the point has no estimate.
func replayLine(p *PromptPolicy) string {
	if p == nil || p.Point.QualityShare == 0 {
		return ""
	}
	op := p.Point
	s := fmt.Sprintf("quality %.1f%%, cost %.1f%% of %s", 100*op.QualityShare, 100*op.CostShare, orNone(op.Baseline))
	if op.Margin > 0 || op.Samples > 0 {
		s += fmt.Sprintf(" (margin %.3f, n=%d)", op.Margin, op.Samples)
	}
	return s
}

func policyModels(p *PromptPolicy) string {
	if p == nil {
		return "(none)"
	}
	return strings.Join(p.Models, " < ")
}

// short is a digest's first 12 characters, as logs show it.
func short(digest string) string {
	if digest == "" {
		return "(none)"
	}
	return digest[:min(12, len(digest))]
}
