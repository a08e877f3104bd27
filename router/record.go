package router

import "time"

// Status of a request or an attempt.
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"     // the provider returned an error
	OutcomeTimeout   = "timeout"   // no answer within the deadline
	OutcomeEmpty     = "empty"     // an answer with no content
	OutcomeCancelled = "cancelled" // the client went away
	OutcomeSkipped   = "skipped"   // not tried (context too small, provider disabled)
)

// Attempt is one call to one model while serving a request.
type Attempt struct {
	Model        string `json:"model"`
	Provider     string `json:"provider"`
	Status       string `json:"status"`
	Error        string `json:"error,omitempty"` // safe for clients: no keys, no URLs
	FinishReason string `json:"finish_reason,omitempty"`
	// StatusCode is the provider's HTTP status on a failed call, zero if
	// none: it tells "the provider was unavailable" (429, 5xx) from "the
	// model could not answer".
	StatusCode       int    `json:"status_code,omitempty"`
	LatencyMS        int64  `json:"latency_ms"`
	PromptTokens     int    `json:"prompt_tokens,omitempty"`
	CompletionTokens int    `json:"completion_tokens,omitempty"`
	Cost             Micros `json:"cost_micros,omitempty"`
}

// Record is everything kept about one served request; it becomes one row.
type Record struct {
	ID           string
	Time         time.Time
	Endpoint     string // "ask", "chat"
	PromptHash   string
	Analysis     Analysis
	Complexity   Complexity
	Category     string
	Model        string // the model that answered; empty if none did
	Provider     string
	TableVersion int64

	PromptTokens     int
	CompletionTokens int
	// Cost is what the answer cost, failed attempts included (providers
	// bill for tokens a failed call consumed, if it reported any).
	Cost Micros
	// EstimatedCost is what routing expected before the call.
	EstimatedCost Micros
	// BaselineCost is what the baseline model would have charged for the
	// same tokens; savings are BaselineCost - Cost.
	BaselineCost Micros
	LatencyMS    int64
	Status       string
	Attempts     []Attempt
	Error        string
	// Propensity is the probability with which routing chose the first
	// model tried (1 without exploration); Explored says exploration
	// picked it instead of the table's first choice.
	Propensity float64
	Explored   bool
	// Traffic is the request's class: tools, JSON output, images, and
	// whether the answer was a tool call.
	Traffic Traffic
	// Filtered are the candidates routing dropped for a capability.
	Filtered []Filtered
	// Key names the API key the request came with; empty without keys.
	Key string
	// Budget is BudgetPacing when the key's budget moved the request to
	// cheaper models, else empty.
	Budget string
}

// Traffic tells the learner which class of traffic a request was.
type Traffic struct {
	UsesTools      bool   // offered tools, or carried tool turns
	JSONOutput     string // "", json_object or json_schema
	HasImages      bool
	ToolCallAnswer bool // the answer called a tool
}

// TrafficOf classifies a request and its answer.
func TrafficOf(req Request, res Result) Traffic {
	return Traffic{
		UsesTools:      len(req.Options.Tools) > 0 || HasToolTurns(req.Messages),
		JSONOutput:     req.Options.JSONOutput(),
		HasImages:      HasImages(req.Messages),
		ToolCallAnswer: len(res.ToolCalls) > 0,
	}
}

// BudgetPacing is Record.Budget for a request routed cheaper to keep its
// key's budget on pace; it is also the x-switchyard-budget header's value.
const BudgetPacing = "pacing"

// Spend is the cost summary of one day (UTC).
type Spend struct {
	Date         string            // YYYY-MM-DD
	Total        Micros            // sum of Cost
	Prompts      int               // number of requests
	Baseline     Micros            // sum of BaselineCost
	ByModel      map[string]Micros // Cost by answering model
	ByComplexity map[string]Micros // Cost by bucket
}

// Savings is what routing saved against the baseline; negative when
// routing cost more.
func (s Spend) Savings() Micros { return s.Baseline - s.Total }

// SumSpend adds days up into one Spend labelled date: totals, prompt
// counts, baselines and the per-model and per-bucket breakdowns.
func SumSpend(date string, days []Spend) Spend {
	sum := Spend{Date: date, ByModel: map[string]Micros{}, ByComplexity: map[string]Micros{}}
	for _, d := range days {
		sum.Total += d.Total
		sum.Baseline += d.Baseline
		sum.Prompts += d.Prompts
		for k, v := range d.ByModel {
			sum.ByModel[k] += v
		}
		for k, v := range d.ByComplexity {
			sum.ByComplexity[k] += v
		}
	}
	return sum
}
