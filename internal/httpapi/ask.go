package httpapi

import (
	"context"
	"net/http"
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
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ask is the seed's simple endpoint: one prompt in, the routed answer and
// the routing decision out.
func (s *Server) ask(c *gin.Context) {
	var req askRequest
	if err := decode(c, &req); err != nil {
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
	res, err := s.opts.Router.Serve(ctx, router.Request{
		Endpoint: "ask",
		Messages: []router.Message{{Role: "user", Content: *req.Prompt}},
	})
	if err != nil {
		s.fail(c, err)
		return
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
			Usage: usage{
				PromptTokens:     res.PromptTokens,
				CompletionTokens: res.CompletionTokens,
				TotalTokens:      res.PromptTokens + res.CompletionTokens,
			},
		},
	})
}
