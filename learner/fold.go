package learner

import (
	"slices"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// foldSeed seeds the learner's fold hash. It differs from the seeds that
// split datasets into train and test (datasets.SplitOf), so that a loop
// replaying a dataset's train split, whose request ids are the items'
// ids, still spreads its requests over every fold instead of only the
// ones the train share of the unit interval covers.
const foldSeed = 0x5eedf01d

// foldOf puts key (a request id, a prompt's text) in one of k folds,
// uniformly and the same way on every run, so that every request of one
// key is on the same side of every split.
func foldOf(key string, k int) int {
	return min(int(datasets.Unit(key, foldSeed)*float64(k)), k-1)
}

// gateFolds is how many folds the table gate cross-fits the fit's choice
// in: each fold's requests are scored at the table fitted on the other
// four, which sees 80% of the evidence the proposed table does.
const gateFolds = 5

// crossFitTables refits the table with each of k folds of the logged
// requests held out: tables[f] is fitted, with the options the proposed
// table was, on the outcomes of requests outside fold f, and is the
// choice fold f's requests are scored at (GateHeldOut). A fold whose
// complement has nothing to fit leaves a nil table, whose requests then
// agree with no choice.
func crossFitTables(obs []router.Observation, models router.Catalog, maxWeight float64, opts Options, k int) []router.Table {
	// Each fold's samples once; a fold's complement is the others'.
	byFold := make([][]router.Observation, k)
	for _, o := range obs {
		f := foldOf(o.RequestID, k)
		byFold[f] = append(byFold[f], o)
	}
	samples := make([][]Sample, k)
	for f := range k {
		samples[f] = FromOutcomes(byFold[f], models, maxWeight)
	}
	tables := make([]router.Table, k)
	rest := make([]Sample, 0, len(obs))
	for f := range k {
		rest = rest[:0]
		for g := range k {
			if g != f {
				rest = append(rest, samples[g]...)
			}
		}
		t, _, err := Fit(rest, opts)
		if err == nil {
			tables[f] = t
		}
	}
	return tables
}

// FoldChoices lists the distinct first choices the folds made here, in
// fold order, a fold with no requests here or nothing to fit as "none";
// empty when the candidate was not cross-fitted.
func (b BucketVerdict) FoldChoices() []string {
	var out []string
	for _, x := range b.FoldModels {
		if x == "" {
			x = "none"
		}
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
