package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

type sink struct{ n int }

func (s *sink) Record(context.Context, router.Record) error { s.n++; return nil }

func TestMetrics(t *testing.T) {
	m := New(Gauges{
		Pending:        func() int { return 7 },
		RecordsRefused: func() int { return 2 },
		TableVersion:   func() int64 { return 3 },
		InFlight:       func() int64 { return 5 },
		Refused:        func() uint64 { return 11 },
		BucketPSI:      func() map[string]float64 { return map[string]float64{"complexity": 0.125, "tier": 0.5} },
		Providers: func() []router.ProviderHealth {
			return []router.ProviderHealth{{Provider: "openai", State: "ok"}, {Provider: "groq", State: "open"}}
		},
	})
	next := &sink{}
	rec := m.Recorder(next)
	err := rec.Record(context.Background(), router.Record{
		Endpoint: "ask", Complexity: router.Simple, Model: "mini", Status: router.OutcomeOK, LatencyMS: 300,
		Analysis: router.Analysis{Tier: router.TierCache},
		Attempts: []router.Attempt{
			{Model: "tiny", Provider: "groq", Status: router.OutcomeError},
			{Model: "mini", Provider: "openai", Status: router.OutcomeOK, PromptTokens: 10, CompletionTokens: 5, Cost: 42},
		},
		BaselineCost: 900,
		Traffic:      router.Traffic{UsesTools: true, JSONOutput: router.FormatJSONSchema, ToolCallAnswer: true},
		Filtered:     []router.Filtered{{Model: "tiny", Capability: router.CapTools}},
	})
	if err != nil || next.n != 1 {
		t.Fatalf("decorated recorder: err %v, forwarded %d records, want 1", err, next.n)
	}
	srv := httptest.NewServer(m.Instrument(m.Handler()))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`switchyard_requests_total{complexity="simple",endpoint="ask",model="mini",status="ok"} 1`,
		`switchyard_attempts_total{model="tiny",provider="groq",status="error"} 1`,
		`switchyard_tokens_total{kind="prompt",model="mini"} 10`,
		`switchyard_cost_micros_total{model="mini"} 42`,
		`switchyard_baseline_cost_micros_total 900`,
		`switchyard_classifications_total{fallback="false",tier="cache"} 1`,
		`switchyard_records_pending 7`,
		`switchyard_records_refused_total 2`,
		`switchyard_table_version 3`,
		`switchyard_requests_in_flight 5`,
		`switchyard_requests_refused_total 11`,
		`switchyard_bucket_psi{mix="complexity"} 0.125`,
		`switchyard_bucket_psi{mix="tier"} 0.5`,
		`switchyard_provider_up{provider="groq",state="open"} 0`,
		`switchyard_provider_up{provider="openai",state="ok"} 1`,
		`switchyard_request_duration_seconds_bucket{complexity="simple",le="0.5"} 1`,
		`switchyard_capability_filtered_total{capability="tools",model="tiny"} 1`,
		`switchyard_traffic_total{images="false",json_output="json_schema",tool_call_answer="true",tools="true"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
