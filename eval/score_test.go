package eval

import (
	"math"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestScoreTableAndGateSet(t *testing.T) {
	mx, err := Prepare(fixture(), PrepareOptions{Classifier: PromptClassifier{byWord{}}, TrainFrac: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	cheapEasy := router.Table{"simple": {"small"}, "moderate": {"big"}, "complex": {"big"}}
	allBig := router.Table{"simple": {"big"}, "moderate": {"big"}, "complex": {"big"}}

	// On the test split (hand-scored): easy ones solved by small, one
	// of the hard ones by big.
	got := mx.ScoreTable("cheap", cheapEasy, mx.Test)
	if got.N != 4 || got.Quality != 0.75 || math.Abs(got.CostUSD-(2*0.001+2*0.01)) > 1e-12 {
		t.Errorf("cheap on test = %+v, want 4 prompts, quality 0.75, $0.022", got)
	}
	if got.CallsByModel["small"] != 2 || got.CallsByModel["big"] != 2 {
		t.Errorf("cheap calls = %v, want 2 small and 2 big", got.CallsByModel)
	}

	// Every prompt: 124, of which the 62 easy ones go to small.
	q, c, n := GateSet{Matrix: mx}.Replay(cheapEasy)
	qb, cb, _ := GateSet{Matrix: mx}.Replay(allBig)
	if n != 124 || n != len(mx.All()) {
		t.Fatalf("GateSet prompts = %d, want 124", n)
	}
	if want := (62 + 61.0) / 124; math.Abs(q-want) > 1e-12 {
		t.Errorf("cheap quality = %v, want %v", q, want)
	}
	if want := (62*1000 + 62*10000.0) / 124; math.Abs(c-want) > 1e-6 {
		t.Errorf("cheap cost a prompt = %v micros, want %v", c, want)
	}
	if qb != q || cb <= c {
		t.Errorf("all-big = quality %v cost %v; want the same quality at a higher cost than %v", qb, cb, c)
	}
}
