package router

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Capability filtering: before choosing, the router drops candidates
// that cannot serve the request (tools asked, an image present, a strict
// schema asked, prompt plus requested output over the window, requested
// output over the model's limit) and records why. When none of the
// bucket's candidates can, it escalates to the first configured model
// that can; when no configured model can, the request is the client's
// mistake: a 400 naming the capability.

// Capability names, as they appear in errors, attempts and the
// x-switchyard-filtered header.
const (
	CapTools           = "tools"
	CapVision          = "vision"
	CapJSONSchema      = "json_schema"
	CapContextWindow   = "context_window"
	CapMaxOutputTokens = "max_output_tokens"
)

// capField is the request field a missing capability is blamed on.
var capField = map[string]string{
	CapTools:           "tools",
	CapVision:          "messages",
	CapJSONSchema:      "response_format",
	CapContextWindow:   "messages",
	CapMaxOutputTokens: "max_tokens",
}

// Filtered is a candidate dropped for a capability it lacks.
type Filtered struct {
	Model      string `json:"model"`
	Capability string `json:"capability"`
}

// needs is what a request asks of a model.
type needs struct {
	tools, vision, strictSchema bool
	promptTokens, outputTokens  int
}

func needsOf(req Request, promptTokens int) needs {
	rf := req.Options.ResponseFormat
	return needs{
		tools:        len(req.Options.Tools) > 0 || HasToolTurns(req.Messages),
		vision:       HasImages(req.Messages),
		strictSchema: rf != nil && rf.Type == FormatJSONSchema && rf.Strict != nil && *rf.Strict,
		promptTokens: promptTokens,
		outputTokens: req.MaxTokens,
	}
}

// lacks returns the first capability m lacks for n, "" when it has all.
func (m Model) lacks(n needs) string {
	c := m.Capabilities
	switch {
	case n.tools && !c.Tools:
		return CapTools
	case n.vision && !c.Vision:
		return CapVision
	case n.strictSchema && !c.JSONSchema:
		return CapJSONSchema
	case c.MaxOutputTokens > 0 && n.outputTokens > c.MaxOutputTokens:
		return CapMaxOutputTokens
	case m.ContextWindow > 0 && n.outputTokens > 0 && n.promptTokens+n.outputTokens > m.ContextWindow:
		return CapContextWindow
	}
	return ""
}

// filterCapable returns the candidates that can serve req, records the
// others in p.res.Filtered, and escalates when none is left. named says
// the client chose the model, so lacking a capability is its mistake.
func (s *Service) filterCapable(req Request, candidates []string, p *plan, named bool) ([]string, error) {
	n := needsOf(req, p.promptTokens)
	var ok []string
	first := ""
	for _, name := range candidates {
		if c := s.models[name].lacks(n); c != "" {
			p.res.Filtered = append(p.res.Filtered, Filtered{Model: name, Capability: c})
			if first == "" {
				first = c
			}
			continue
		}
		ok = append(ok, name)
	}
	if len(ok) > 0 || first == "" {
		return ok, nil
	}
	if named {
		return nil, Errorf(KindInvalid, capField[first], "model %s cannot serve this request: it lacks %s", candidates[0], describeCap(first, n))
	}
	for _, name := range s.byOrder() {
		if s.models[name].lacks(n) == "" {
			p.res.Escalated = true
			return []string{name}, nil
		}
	}
	return nil, Errorf(KindInvalid, capField[first], "no configured model can serve this request: none has %s", describeCap(first, n))
}

// maskIncapable marks the policy's models that cannot serve req as
// unavailable (NaN) in a copy of the prediction and orders again, so the
// per-prompt rule chooses among the models that can, as Picker.Choose
// would with them alone; dropping them after ordering would instead fall
// through to the likelier, often dearer, models the order escalates to.
// The dropped ones are recorded as filterCapable records them. When no
// model of the policy could serve, pred and order come back unchanged
// and filterCapable escalates.
func (s *Service) maskIncapable(picker *Picker, pred PromptPrediction, order []string, req Request, p *plan) (PromptPrediction, []string) {
	n := needsOf(req, p.promptTokens)
	var masked []float64
	for k, m := range picker.Models() {
		if k >= len(pred.Success) || math.IsNaN(pred.Success[k]) || s.models[m].lacks(n) == "" {
			continue
		}
		if masked == nil {
			masked = slices.Clone(pred.Success)
		}
		masked[k] = math.NaN()
	}
	if masked == nil {
		return pred, order
	}
	reordered := picker.Order(masked, make([]string, 0, len(masked)))
	if len(reordered) == 0 {
		return pred, order
	}
	for k, m := range picker.Models() {
		if math.IsNaN(masked[k]) && !math.IsNaN(pred.Success[k]) {
			p.res.Filtered = append(p.res.Filtered, Filtered{Model: m, Capability: s.models[m].lacks(n)})
		}
	}
	pred.Success = masked
	return pred, reordered
}

// describeCap says what a capability means for this request.
func describeCap(c string, n needs) string {
	switch c {
	case CapTools:
		return "tool calling (tools)"
	case CapVision:
		return "vision (an image part)"
	case CapJSONSchema:
		return "strict structured output (json_schema)"
	case CapMaxOutputTokens:
		return fmt.Sprintf("max_output_tokens of at least %d", n.outputTokens)
	case CapContextWindow:
		return fmt.Sprintf("a context window for about %d prompt and %d output tokens", n.promptTokens, n.outputTokens)
	}
	return c
}

// byOrder lists the configured models in configuration order.
func (s *Service) byOrder() []string {
	names := make([]string, 0, len(s.models))
	for name := range s.models {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.models[names[i]], s.models[names[j]]
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return names[i] < names[j]
	})
	return names
}

// FilteredHeader is the x-switchyard-filtered value: model=capability
// pairs, comma separated; "" when nothing was filtered.
func FilteredHeader(f []Filtered) string {
	parts := make([]string, len(f))
	for i, x := range f {
		parts[i] = x.Model + "=" + x.Capability
	}
	return strings.Join(parts, ",")
}
