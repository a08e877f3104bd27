package router

import "math"

// Micros is an amount of money in millionths of a US dollar. Money is
// integer everywhere it is stored or summed; it becomes dollars only at
// the edge (JSON, the admin page).
type Micros int64

// USD converts to dollars for display.
func (m Micros) USD() float64 { return float64(m) / 1e6 }

// MicrosFromUSD rounds a dollar amount to the nearest micro-dollar.
func MicrosFromUSD(usd float64) Micros { return Micros(math.Round(usd * 1e6)) }

// Model is one model Switchyard may send prompts to.
type Model struct {
	Name     string
	Provider string
	// Prices in dollars per million tokens, as providers publish them.
	InputPerMTok  float64
	OutputPerMTok float64
	// ContextWindow is the most tokens (prompt plus answer) it accepts;
	// zero means unknown.
	ContextWindow int
	// Capabilities decide which requests it may serve (capability.go).
	Capabilities Capabilities
	// Order is the model's place in the configuration, which is the
	// escalation order when no candidate of a bucket can serve a request.
	Order int
}

// Capabilities are what a model can do beyond plain text chat.
type Capabilities struct {
	Tools      bool // function calling
	Vision     bool // image parts in user messages
	JSONSchema bool // response_format json_schema with strict: true
	// MaxOutputTokens is the most tokens it writes in one answer; zero
	// means no limit beyond the context window.
	MaxOutputTokens int
}

// Cost is what a call with these token counts costs on m, rounded to the
// nearest micro-dollar.
func (m Model) Cost(promptTokens, completionTokens int) Micros {
	// dollars per million tokens equals micro-dollars per token.
	return Micros(math.Round(float64(promptTokens)*m.InputPerMTok + float64(completionTokens)*m.OutputPerMTok))
}

// Catalog is the set of configured models by name.
type Catalog map[string]Model
