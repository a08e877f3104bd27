package eval

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/router"
)

// LocalTier is the service's local classifier tier: classify.LocalModel
// is one. Predict returns the local analysis and its confidence in [0, 1].
type LocalTier interface {
	Predict(ctx context.Context, prompt string) (router.Analysis, float64, error)
}

// CascadeClassifier replays the service's classifier cascade without its
// caches: the local tier's answer when its confidence reaches Threshold,
// else the LLM tier's. Offline the LLM is a stand-in such as
// LabelClassifier, which answers what the demo upstream's classifier
// answers for a known prompt. It caches decisions by prompt and is not
// safe for concurrent use.
type CascadeClassifier struct {
	local     LocalTier
	llm       Classifier
	threshold float64
	cache     map[string]cascadeDecision
}

type cascadeDecision struct {
	a   router.Analysis
	llm bool
}

var _ Classifier = (*CascadeClassifier)(nil)

// NewCascadeClassifier returns a cascade of local and llm. A threshold of
// 0 or less never asks the LLM; one above 1 always does.
func NewCascadeClassifier(local LocalTier, llm Classifier, threshold float64) *CascadeClassifier {
	return &CascadeClassifier{local: local, llm: llm, threshold: threshold, cache: map[string]cascadeDecision{}}
}

// Threshold returns the confidence a local answer needs.
func (c *CascadeClassifier) Threshold() float64 { return c.threshold }

// Route returns the item's analysis and whether the LLM tier gave it.
func (c *CascadeClassifier) Route(it *datasets.Item) (router.Analysis, bool) {
	if d, ok := c.cache[it.Prompt]; ok {
		return d.a, d.llm
	}
	// The Classifier interface carries no context, and Predict fails
	// only when its context is done; Background never is.
	// The service's cascade gives its local tier the normalised prompt.
	a, conf, err := c.local.Predict(context.Background(), router.NormalizePrompt(it.Prompt))
	d := cascadeDecision{a: a}
	if err != nil || conf < c.threshold {
		d = cascadeDecision{a: c.llm.Classify(it), llm: true}
	}
	c.cache[it.Prompt] = d
	return d.a, d.llm
}

// Classify returns the item's analysis.
func (c *CascadeClassifier) Classify(it *datasets.Item) router.Analysis {
	a, _ := c.Route(it)
	return a
}

// CascadeResult is how often the cascade asked the LLM, per split.
type CascadeResult struct {
	Threshold float64 `json:"threshold"`
	// LLM names the LLM tier's stand-in: label or heuristic.
	LLM string `json:"llm"`
	// LLMShare is the share of prompts the LLM classified: on the test
	// split (the scored prompts) and on the training split (the prompts
	// the learned table is fitted on).
	LLMShare      float64 `json:"llm_share"`
	LLMShareTrain float64 `json:"llm_share_train"`
	NTest         int     `json:"n_test"`
	NTrain        int     `json:"n_train"`
	TrainPrompts  int     `json:"train_prompts"`
}

// LLMShare is the share of items with outcomes the cascade sends to its
// LLM tier, and how many items it counted; 0 of none.
func (c *CascadeClassifier) LLMShare(items []*datasets.Item) (float64, int) {
	n, llm := 0, 0
	for _, it := range items {
		if len(it.Outcomes) == 0 {
			continue
		}
		n++
		if _, ok := c.Route(it); ok {
			llm++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(llm) / float64(n), n
}

// writeCascadeText prints the cascade's LLM share, if any.
func writeCascadeText(b *strings.Builder, c *CascadeResult) {
	if c == nil {
		return
	}
	fmt.Fprintf(b, "\ncascade: local model (%d training prompts) at confidence >= %.2f, else LLM (%s)\n", c.TrainPrompts, c.Threshold, c.LLM)
	fmt.Fprintf(b, "LLM share: test %.1f%% of %d, train %.1f%% of %d\n", 100*c.LLMShare, c.NTest, 100*c.LLMShareTrain, c.NTrain)
}
