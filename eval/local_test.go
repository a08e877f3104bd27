package eval

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// fixedAnalyzer answers every prompt alike.
type fixedAnalyzer struct{}

func (fixedAnalyzer) Analyze(string) router.Analysis {
	return router.Analysis{Complexity: router.Simple, EstimatedTokens: 10}
}

func TestModelOrder(t *testing.T) {
	cost := func(v float64) *float64 { return &v }
	items := []*datasets.Item{
		{ID: "1", Prompt: "p", Outcomes: map[string]datasets.Outcome{
			"dear":  {Score: 1, CostUSD: cost(3)},
			"tie-a": {Score: 1},
			"tie-b": {Score: 0},
			"cheap": {Score: 0, CostUSD: cost(1e-6)},
		}},
		{ID: "2", Prompt: "label only"},
	}
	prices := router.Catalog{"tie-a": {Name: "tie-a", InputPerMTok: 1, OutputPerMTok: 1}, "tie-b": {Name: "tie-b", InputPerMTok: 1, OutputPerMTok: 1}}
	got, err := ModelOrder(items, prices, fixedAnalyzer{})
	if err != nil {
		t.Fatal(err)
	}
	// tie-a and tie-b cost the same: the weaker (tie-b) first.
	if want := []string{"cheap", "tie-b", "tie-a", "dear"}; !slices.Equal(got, want) {
		t.Errorf("ModelOrder = %v, want %v", got, want)
	}
	if _, err := ModelOrder(items[1:], prices, fixedAnalyzer{}); err == nil {
		t.Error("ModelOrder without outcomes: no error")
	}
}
