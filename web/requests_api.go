package web

import (
	"net/http"
	"time"

	"github.com/switchyard/switchyard/router"
)

// requestJSON is a request record as the JSON twins show it.
type requestJSON struct {
	ID               string            `json:"id"`
	Time             time.Time         `json:"time"`
	Endpoint         string            `json:"endpoint"`
	Bucket           string            `json:"bucket"`
	Analysis         router.Analysis   `json:"analysis"`
	Model            string            `json:"model"`
	Provider         string            `json:"provider"`
	TableVersion     int64             `json:"table_version"`
	Status           string            `json:"status"`
	Error            string            `json:"error,omitempty"`
	PromptTokens     int               `json:"prompt_tokens"`
	CompletionTokens int               `json:"completion_tokens"`
	CostUSD          float64           `json:"cost_usd"`
	EstimatedCostUSD float64           `json:"estimated_cost_usd"`
	BaselineCostUSD  float64           `json:"baseline_cost_usd"`
	LatencyMS        int64             `json:"latency_ms"`
	Attempts         []router.Attempt  `json:"attempts"`
	Filtered         []router.Filtered `json:"filtered"`
	Propensity       float64           `json:"propensity"`
	Explored         bool              `json:"explored"`
	Key              string            `json:"key,omitempty"`
	Budget           string            `json:"budget,omitempty"`
}

func toRequestJSON(r router.Record) requestJSON {
	out := requestJSON{ID: r.ID, Time: r.Time, Endpoint: r.Endpoint, Bucket: router.BucketOf(r.Complexity, r.Category),
		Analysis: r.Analysis, Model: r.Model, Provider: r.Provider, TableVersion: r.TableVersion, Status: r.Status, Error: r.Error,
		PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, CostUSD: r.Cost.USD(),
		EstimatedCostUSD: r.EstimatedCost.USD(), BaselineCostUSD: r.BaselineCost.USD(), LatencyMS: r.LatencyMS,
		Attempts: r.Attempts, Filtered: r.Filtered, Propensity: r.Propensity, Explored: r.Explored, Key: r.Key, Budget: r.Budget}
	if out.Attempts == nil {
		out.Attempts = []router.Attempt{}
	}
	if out.Filtered == nil {
		out.Filtered = []router.Filtered{}
	}
	return out
}

type outcomeJSON struct {
	Attempt int     `json:"attempt"`
	Model   string  `json:"model,omitempty"`
	Source  string  `json:"source"`
	Detail  string  `json:"detail,omitempty"`
	Score   float64 `json:"score"`
	Weight  float64 `json:"weight"`
	Time    string  `json:"time"`
}

type candidateJSON struct {
	Model string `json:"model"`
	Fate  string `json:"fate"`
}

func (h *handler) apiRequest(w http.ResponseWriter, r *http.Request) {
	p, err := h.requestStory(r)
	if err != nil {
		h.apiFail(w, r, err)
		return
	}
	out := map[string]any{"request": toRequestJSON(p.R), "table_bucket": p.Bucket}
	outs := make([]outcomeJSON, len(p.Outcomes))
	for i, o := range p.Outcomes {
		outs[i] = outcomeJSON{Attempt: o.Attempt, Model: o.Model, Source: o.Source, Detail: o.Detail, Score: o.Score, Weight: o.Weight,
			Time: o.Time.UTC().Format(time.RFC3339)}
	}
	out["outcomes"] = outs
	cands := make([]candidateJSON, len(p.Candidates))
	for i, c := range p.Candidates {
		cands[i] = candidateJSON(c)
	}
	out["candidates"] = cands
	if p.PromptKept {
		out["prompt"] = p.Prompt
	}
	writeJSON(w, http.StatusOK, out)
}
