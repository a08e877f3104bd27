package eval

import (
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// All returns every prompt index, train and test.
func (mx *Matrix) All() []int32 {
	out := make([]int32, mx.N())
	for i := range out {
		out[i] = int32(i)
	}
	return out
}

// ScoreTable replays table t on the prompts rows (nil: every prompt), as
// Evaluate replays the static and learned tables: each prompt goes to
// the first of its bucket's candidates the dataset has an outcome for.
func (mx *Matrix) ScoreTable(name string, t router.Table, rows []int32) PolicyResult {
	if rows == nil {
		rows = mx.All()
	}
	r := newReplayer(mx, rows, mx.strengthOrder(rows))
	return r.table(name, r.resolve(t))
}

// GateSet is a labeled dataset as the learner's gate replays it: every
// prompt of the matrix, both splits.
type GateSet struct {
	Matrix *Matrix
}

var _ learner.LabeledSet = GateSet{}

// Replay returns t's mean quality and mean cost (micro-USD) a prompt.
func (g GateSet) Replay(t router.Table) (quality, cost float64, n int) {
	pr := g.Matrix.ScoreTable("", t, nil)
	if pr.N == 0 {
		return 0, 0, 0
	}
	return pr.Quality, pr.CostUSD * 1e6 / float64(pr.N), pr.N
}
