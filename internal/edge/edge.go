// Package edge is the one HTTP vocabulary of Switchyard's inbound edges
// (/v1, /ask, /costs in internal/httpapi; /admin in web): how a domain
// error kind becomes an HTTP status, OpenAI's error envelope, and the
// JSON form of a day's spend. It imports no framework, so the gin adapter
// and the plain net/http admin page speak it alike.
package edge

import (
	"errors"
	"net/http"

	"github.com/switchyard/switchyard/router"
)

// Status is the one mapping from domain error kinds to HTTP status.
func Status(k router.Kind) int {
	switch k {
	case router.KindInvalid:
		return http.StatusBadRequest
	case router.KindNotFound:
		return http.StatusNotFound
	case router.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case router.KindConflict:
		return http.StatusConflict
	case router.KindUnavailable:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

// Type names the error in OpenAI's "type" vocabulary, so OpenAI SDKs
// classify it as they would OpenAI's own.
func Type(k router.Kind) string {
	switch k {
	case router.KindInvalid, router.KindTooLarge, router.KindNotFound, router.KindConflict:
		return "invalid_request_error"
	case router.KindUnavailable:
		return "upstream_error"
	default:
		return "server_error"
	}
}

// ClientError is what a client may see of err: a *router.Error as it is,
// anything else as a generic internal error (its text stays in the logs).
func ClientError(err error) *router.Error {
	var e *router.Error
	if !errors.As(err, &e) {
		e = &router.Error{Kind: router.KindInternal, Message: "internal error", Err: err}
	}
	return e
}

// ErrorBody is OpenAI's error envelope {"error": {"message", "type",
// "param", "code"}}; param is null when empty.
func ErrorBody(message, typ, param, code string) map[string]any {
	body := map[string]any{"message": message, "type": typ, "code": code, "param": nil}
	if param != "" {
		body["param"] = param
	}
	return map[string]any{"error": body}
}

// Day is the JSON form of one day's (or a range's) spend, as /costs and
// /admin/api/spend report it: dollars at the edge, integer micro-dollars
// inside.
type Day struct {
	Date          string             `json:"date"`
	TotalSpend    float64            `json:"total_spend"`
	TotalPrompts  int                `json:"total_prompts"`
	ByModel       map[string]float64 `json:"by_model"`
	ByComplexity  map[string]float64 `json:"by_complexity"`
	BaselineModel string             `json:"baseline_model"`
	BaselineCost  float64            `json:"baseline_cost"`
	// SavingsVsBaseline is signed: negative when routing cost more than
	// sending everything to the baseline model would have.
	SavingsVsBaseline float64 `json:"savings_vs_baseline"`
	SavingsPct        float64 `json:"savings_pct"`
	// BucketPSI, on /costs/today only, is the day-over-day drift of the
	// bucket mix (population stability index against yesterday) by
	// "complexity" and classifier "tier"; a mix is missing when either day
	// has no routed request.
	BucketPSI map[string]float64 `json:"bucket_psi,omitempty"`
	// PendingRecords, on /costs/today only, counts requests this replica
	// accepted whose records the database did not take in time (it is
	// down or slow): they are missing from the figures above.
	PendingRecords *int `json:"pending_records,omitempty"`
	// Key names the key whose spend this is; absent for all traffic.
	Key string `json:"key,omitempty"`
}

// NewDay is sp in dollars, with savings against baseline (the model's
// name) as router.Spend computes them.
func NewDay(sp router.Spend, baseline string) Day {
	d := Day{
		Date:              sp.Date,
		TotalSpend:        sp.Total.USD(),
		TotalPrompts:      sp.Prompts,
		ByModel:           USD(sp.ByModel),
		ByComplexity:      USD(sp.ByComplexity),
		BaselineModel:     baseline,
		BaselineCost:      sp.Baseline.USD(),
		SavingsVsBaseline: sp.Savings().USD(),
	}
	if sp.Baseline > 0 {
		d.SavingsPct = 100 * float64(sp.Savings()) / float64(sp.Baseline)
	}
	return d
}

// USD turns micro-dollar amounts into dollars.
func USD(m map[string]router.Micros) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = v.USD()
	}
	return out
}
