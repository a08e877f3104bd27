package main

import (
	"fmt"

	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
)

// newCascade builds the service's cascade over the trained local model:
// classify.LocalModel's confidence rule, the LLM tier played by --llm.
func newCascade(p evalParams, lc *eval.LocalClassifier, analyzer eval.Analyzer) (*eval.CascadeClassifier, error) {
	// The service uses one setting, classifier.local.threshold, as both
	// the bucket rule's target and the cascade's threshold; a threshold
	// outside (0, 1] (never or always the LLM) is no valid target.
	target := p.LocalThreshold
	if !(target > 0 && target <= 1) {
		target = p.LocalTarget
	}
	lm, err := classify.NewLocalModel(classify.LocalModelOptions{
		Model:      lc.Model(),
		Order:      lc.Order(),
		Target:     target,
		MinSamples: p.LocalMinSamples,
	})
	if err != nil {
		return nil, fmt.Errorf("eval: cascade: %w", err)
	}
	var llm eval.Classifier = eval.LabelClassifier{Analyzer: analyzer}
	if p.LLM == "heuristic" {
		llm = eval.PromptClassifier{Analyzer: analyzer}
	}
	return eval.NewCascadeClassifier(lm, llm, p.LocalThreshold), nil
}

// cascadeResult counts the prompts the cascade sent to the LLM on each
// side of the split.
func cascadeResult(p evalParams, c *eval.CascadeClassifier, s evalSplit, trainPrompts int) *eval.CascadeResult {
	r := &eval.CascadeResult{Threshold: p.LocalThreshold, LLM: p.LLM, TrainPrompts: trainPrompts}
	r.LLMShare, r.NTest = c.LLMShare(s.test)
	r.LLMShareTrain, r.NTrain = c.LLMShare(s.train)
	return r
}
