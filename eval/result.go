package eval

import "github.com/switchyard/switchyard/router"

// Result is one eval run, in the JSON shape of DESIGN.md ("switchyard
// eval") plus fields that say how the figures were obtained.
type Result struct {
	Dataset  string         `json:"dataset"`
	NTrain   int            `json:"n_train"`
	NTest    int            `json:"n_test"`
	Policies []PolicyResult `json:"policies"`
	// Curve is the learned table on the test split as its quality target
	// moves, by ascending target: one point where the target first gives
	// a table that replays differently from the one before.
	Curve []CurvePoint `json:"curve"`
	// APGR is RouteLLM's average performance gap recovered of the learned
	// curve: the area under quality against APGRAxis between the weak
	// model (0) and the strongest (1), as a share of the gap. Null when
	// the strongest model is not both better and costlier than the weak.
	APGR *float64 `json:"apgr"`
	// APGRAxis is "strong_calls" (share of calls to the strongest model,
	// RouteLLM's axis, for two-model data) or "cost" (cost normalised
	// between the cheapest and the strongest model, for more models).
	APGRAxis string `json:"apgr_axis"`
	// CPT50 and CPT80 are the least APGRAxis at which the learned curve
	// recovers 50% and 80% of the gap (RouteLLM's "calls to the strong
	// model"); null when it never does.
	CPT50 *float64 `json:"cpt50"`
	CPT80 *float64 `json:"cpt80"`
	// AIQ is RouterBench's average improvement in quality of the learned
	// curve: the area under its non-decreasing upper hull over the cost
	// range of the single models, divided by that range. RandomAIQ is the
	// same for mixing the cheapest and the strongest model at random.
	AIQ       *float64 `json:"aiq"`
	RandomAIQ *float64 `json:"random_aiq"`

	Models     []string `json:"models"`
	Strongest  string   `json:"strongest"`
	Weak       string   `json:"weak"`
	Classifier string   `json:"classifier,omitempty"`
	Split      string   `json:"split"`
	Target     float64  `json:"target"`
	// StaticSource is "config" when the static policy is the configured
	// table, "derived" when it is the rule of DeriveStatic.
	StaticSource string       `json:"static_source,omitempty"`
	StaticTable  router.Table `json:"static_table,omitempty"`
	LearnedTable router.Table `json:"learned_table"`
	Skipped      int          `json:"skipped,omitempty"`
	// Local is the local policy's curve and metrics, with the local
	// classifier only; Audit is the classifier audit, with --audit only.
	Local *LocalResult `json:"local,omitempty"`
	// OperatingPoint is the local policy's point chosen for a quality
	// goal on the training split, with its test figures; the learned
	// policy is then the local policy at that point (EvaluateOptions.
	// KeepQuality).
	OperatingPoint *OperatingPointResult `json:"operating_point,omitempty"`
	Audit          *Audit                `json:"audit,omitempty"`
	// Cascade is how often the cascade classifier asked its LLM tier,
	// with --classifier cascade only.
	Cascade *CascadeResult `json:"cascade,omitempty"`
}

// PolicyResult is how one policy did on the test split.
type PolicyResult struct {
	Name         string         `json:"name"`
	N            int            `json:"n"`
	Quality      float64        `json:"quality"`
	CostUSD      float64        `json:"cost_usd"`
	CostPer1k    float64        `json:"cost_per_1k"`
	CallsByModel map[string]int `json:"calls_by_model"`
	// SavingsVsStrongest is 1 - cost/cost of always-strongest: negative
	// when the policy costs more.
	SavingsVsStrongest float64 `json:"savings_vs_strongest"`
	// QualityVsStrongest is quality / quality of always-strongest.
	QualityVsStrongest float64 `json:"quality_vs_strongest"`
	// StrongShare is the share of prompts sent to the strongest model.
	StrongShare float64 `json:"strong_share"`
	// Fallbacks counts prompts where none of the policy's models had an
	// outcome in the dataset, scored on the strongest model that had one.
	Fallbacks int `json:"fallbacks,omitempty"`
}

// CurvePoint is the learned table at one quality target.
type CurvePoint struct {
	Target      float64 `json:"target"`
	Quality     float64 `json:"quality"`
	CostUSD     float64 `json:"cost_usd"`
	CostPer1k   float64 `json:"cost_per_1k"`
	StrongShare float64 `json:"strong_share"`
}
