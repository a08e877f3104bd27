package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/switchyard/switchyard/router"
)

type askRequest struct {
	Prompt   *string        `json:"prompt"`
	Metadata map[string]any `json:"metadata"`
}

type askResponse struct {
	ID       string      `json:"id"`
	Response string      `json:"response"`
	Metadata askMetadata `json:"metadata"`
}

type askMetadata struct {
	Complexity    router.Complexity `json:"complexity"`
	ModelUsed     string            `json:"model_used"`
	EstimatedCost float64           `json:"estimated_cost"` // USD
	ActualCost    float64           `json:"actual_cost"`    // USD
	LatencyMS     int64             `json:"latency_ms"`
	TableVersion  int64             `json:"table_version"`
	Analysis      router.Analysis   `json:"analysis"`
	Attempts      []router.Attempt  `json:"attempts"`
	Usage         usage             `json:"usage"`
	// Budget is "pacing" when the key's budget routed the prompt to
	// cheaper models than usual.
	Budget string `json:"budget,omitempty"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// decodeAsk reads /ask's body. Like /v1 it refuses fields and headers
// naming an upstream address or key (FAULTS.md B4); other unknown fields
// are ignored, as /ask always has.
func decodeAsk(c *gin.Context) (askRequest, error) {
	var req askRequest
	if err := checkHeaders(c.Request.Header); err != nil {
		return req, err
	}
	var body map[string]json.RawMessage
	if err := decode(c, &body); err != nil {
		return req, err
	}
	names := make([]string, 0, len(body))
	for name := range body {
		names = append(names, name)
	}
	sort.Strings(names) // a stable error for a body with several problems
	for _, name := range names {
		if namesUpstream(name) {
			return req, router.Errorf(router.KindInvalid, name, "is not accepted: upstream addresses and keys come from configuration only")
		}
	}
	if raw, ok := body["prompt"]; ok && !isNull(raw) {
		var prompt string
		if err := into("prompt", raw, &prompt); err != nil {
			return req, err
		}
		req.Prompt = &prompt
	}
	if raw, ok := body["metadata"]; ok && !isNull(raw) {
		if err := into("metadata", raw, &req.Metadata); err != nil {
			return req, err
		}
	}
	return req, nil
}

// ask is the seed's simple endpoint: one prompt in, the routed answer and
// the routing decision out.
func (s *Server) ask(c *gin.Context) {
	req, err := decodeAsk(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if req.Prompt == nil {
		s.fail(c, router.Errorf(router.KindInvalid, "prompt", "is required"))
		return
	}
	if strings.TrimSpace(*req.Prompt) == "" {
		s.fail(c, router.Errorf(router.KindInvalid, "prompt", "must not be empty"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.opts.RequestTimeout)
	defer cancel()
	rreq := router.Request{
		Endpoint: "ask",
		Messages: []router.Message{{Role: "user", Content: *req.Prompt}},
	}
	if err := s.keyed(c, &rreq); err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.opts.Router.Serve(ctx, rreq)
	if err != nil {
		s.fail(c, err)
		return
	}
	budget := ""
	if res.Paced {
		budget = router.BudgetPacing
		c.Header("x-switchyard-budget", budget)
	}
	c.JSON(http.StatusOK, askResponse{
		ID:       res.ID,
		Response: res.Content,
		Metadata: askMetadata{
			Complexity:    res.Analysis.Complexity,
			ModelUsed:     res.Model,
			EstimatedCost: res.EstimatedCost.USD(),
			ActualCost:    res.Cost.USD(),
			LatencyMS:     res.LatencyMS,
			TableVersion:  res.TableVersion,
			Analysis:      res.Analysis,
			Attempts:      res.Attempts,
			Budget:        budget,
			Usage: usage{
				PromptTokens:     res.PromptTokens,
				CompletionTokens: res.CompletionTokens,
				TotalTokens:      res.PromptTokens + res.CompletionTokens,
			},
		},
	})
}
