package eval

import (
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// Classifier gives a dataset item its analysis offline.
type Classifier interface {
	Classify(it *datasets.Item) router.Analysis
}

// Analyzer classifies a prompt from its text alone; classify.Heuristic is
// one.
type Analyzer interface {
	Analyze(prompt string) router.Analysis
}

// PromptClassifier classifies each item by its prompt text, as the
// gateway would.
type PromptClassifier struct{ Analyzer Analyzer }

// Classify analyses the item's prompt.
func (c PromptClassifier) Classify(it *datasets.Item) router.Analysis {
	return c.Analyzer.Analyze(it.Prompt)
}

// LabelClassifier uses the dataset's own labels where it has them: the
// label's complexity, else its difficulty (a 1-5 scale such as MATH
// levels: 1-2 simple, 3 moderate, 4-5 complex), and the label's category.
// What the label lacks comes from the Analyzer.
type LabelClassifier struct{ Analyzer Analyzer }

// Classify combines the item's label with the analyser's view.
func (c LabelClassifier) Classify(it *datasets.Item) router.Analysis {
	a := c.Analyzer.Analyze(it.Prompt)
	if cx, err := router.ParseComplexity(it.Label.Complexity); err == nil {
		a.Complexity = cx
	} else if d := it.Label.Difficulty; d != nil {
		switch {
		case *d <= 2:
			a.Complexity = router.Simple
		case *d <= 3:
			a.Complexity = router.Moderate
		default:
			a.Complexity = router.Complex
		}
	}
	if cat := router.CategoryName(it.Label.Category); cat != "" {
		a.Category = cat
	}
	return a
}

// SourceClassifier takes the category from the item's source (the
// subject of "mmlu/astronomy", the benchmark of "gsm8k") and the
// complexity from the Analyzer. A router does not know a prompt's source
// in production; this classifier measures what bucketing by a known topic
// would be worth.
type SourceClassifier struct{ Analyzer Analyzer }

// Classify analyses the prompt and replaces its category.
func (c SourceClassifier) Classify(it *datasets.Item) router.Analysis {
	a := c.Analyzer.Analyze(it.Prompt)
	src := it.Source
	if i := strings.LastIndexByte(src, '/'); i >= 0 {
		src = src[i+1:]
	}
	if cat := router.CategoryName(src); cat != "" {
		a.Category = cat
	}
	return a
}
