package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/router"
)

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, router.Record) error { return nil }

func TestKeyMetricsCapped(t *testing.T) {
	m := New(Gauges{})
	rec := m.Recorder(nopRecorder{})
	ctx := context.Background()
	for i := range maxKeyLabels + 20 {
		if err := rec.Record(ctx, router.Record{Key: fmt.Sprintf("k%03d", i), Cost: 10, Status: router.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	_ = rec.Record(ctx, router.Record{Key: "k000", Cost: 5, Budget: router.BudgetPacing})
	_ = rec.Record(ctx, router.Record{Cost: 7})
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	text := string(body)
	for _, want := range []string{
		`switchyard_key_requests_total{key="k000"} 2`,
		`switchyard_key_cost_micros_total{key="k000"} 15`,
		`switchyard_key_paced_total{key="k000"} 1`,
		`switchyard_key_requests_total{key="other"} 20`,
		`switchyard_key_requests_total{key="none"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if n := strings.Count(text, "switchyard_key_requests_total{"); n != maxKeyLabels+2 {
		t.Errorf("%d key series, want %d (the cap, other and none)", n, maxKeyLabels+2)
	}
}
