package datasets

// ModelProfile is a model as the generator simulates it: its price and how
// likely, fast and verbose its answers are. The numbers are not measured;
// they are stated so that the demo has a realistic shape (cheap models good
// at simple prompts and poor at complex ones), which is what routing learns
// from.
type ModelProfile struct {
	Name     string
	Provider string
	// Prices in US dollars per million tokens, as the demo config has them.
	InputPerMTok  float64
	OutputPerMTok float64
	// Success is the chance of a correct answer in each complexity bucket.
	Success Rates
	// CategoryBonus is added to Success for prompts of a category (see the
	// categories in kinds.go), for a model markedly better or worse at it.
	CategoryBonus map[string]float64
	// Latency is time to first token plus completion tokens at
	// TokensPerSecond, with ±25% noise.
	FirstTokenMS    int
	TokensPerSecond int
	// Verbosity scales how long answers are (1 is the norm).
	Verbosity float64
	// TokenizerFactor scales the prompt's token count: providers' tokenizers
	// split the same text differently.
	TokenizerFactor float64
}

// Rates holds one probability per complexity bucket.
type Rates struct {
	Simple, Moderate, Complex float64
}

// For returns the rate of the named bucket, or Moderate's for an unknown
// name.
func (r Rates) For(complexity string) float64 {
	switch complexity {
	case "simple":
		return r.Simple
	case "complex":
		return r.Complex
	}
	return r.Moderate
}

// DemoModels returns the five models of the demo configuration, cheapest
// first, with their list prices and capability profiles. gpt-4o is the
// demo's baseline and claude-haiku-4-5 its classifier model.
//
// The profiles say: every model answers most simple prompts correctly, so
// sending them to llama-3.1-8b-instant (50x cheaper than gpt-4o) loses
// little; on moderate prompts the small models drop to 50-80%; on complex
// ones only gpt-4o and claude-sonnet-4-5 are reliable. Code is where the
// small open model is weakest and Sonnet strongest.
func DemoModels() []ModelProfile {
	return []ModelProfile{
		{
			Name: "llama-3.1-8b-instant", Provider: "groq",
			InputPerMTok: 0.05, OutputPerMTok: 0.08,
			Success:       Rates{Simple: 0.90, Moderate: 0.50, Complex: 0.12},
			CategoryBonus: map[string]float64{"code": -0.10, "math": -0.05, "factual": -0.04},
			FirstTokenMS:  150, TokensPerSecond: 500,
			Verbosity: 0.85, TokenizerFactor: 1.05,
		},
		{
			Name: "gpt-4o-mini", Provider: "openai",
			InputPerMTok: 0.15, OutputPerMTok: 0.60,
			Success:       Rates{Simple: 0.95, Moderate: 0.75, Complex: 0.35},
			CategoryBonus: map[string]float64{"math": 0.03},
			FirstTokenMS:  350, TokensPerSecond: 90,
			Verbosity: 1.0, TokenizerFactor: 1.0,
		},
		{
			Name: "claude-haiku-4-5", Provider: "anthropic",
			InputPerMTok: 1.00, OutputPerMTok: 5.00,
			Success:       Rates{Simple: 0.96, Moderate: 0.80, Complex: 0.45},
			CategoryBonus: map[string]float64{"code": 0.05},
			FirstTokenMS:  450, TokensPerSecond: 120,
			Verbosity: 1.05, TokenizerFactor: 1.1,
		},
		{
			Name: "gpt-4o", Provider: "openai",
			InputPerMTok: 2.50, OutputPerMTok: 10.00,
			Success:       Rates{Simple: 0.98, Moderate: 0.90, Complex: 0.72},
			CategoryBonus: map[string]float64{"math": 0.03},
			FirstTokenMS:  500, TokensPerSecond: 70,
			Verbosity: 1.05, TokenizerFactor: 1.0,
		},
		{
			Name: "claude-sonnet-4-5", Provider: "anthropic",
			InputPerMTok: 3.00, OutputPerMTok: 15.00,
			Success:       Rates{Simple: 0.98, Moderate: 0.92, Complex: 0.80},
			CategoryBonus: map[string]float64{"code": 0.08, "reasoning": 0.05, "system_design": 0.05},
			FirstTokenMS:  700, TokensPerSecond: 60,
			Verbosity: 1.2, TokenizerFactor: 1.1,
		},
	}
}
