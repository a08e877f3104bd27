package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// TestEvidenceShowsUncertainty: every success rate on the version and
// diff pages carries its interval and sample count, and a rate on fewer
// samples than min_samples is badged thin.
func TestEvidenceShowsUncertainty(t *testing.T) {
	f := newFake()
	// One sample of llama in the active version: 1.000 means nothing.
	f.versions[0].Provenance.Stats["simple"]["llama-3.1-8b-instant"] = router.ModelStat{Samples: 1, SuccessRate: 1, MeanCost: 5}
	tests := []struct {
		name       string
		minSamples int
		path       string
		want       []string
		notWant    []string
	}{
		{"version page, thin n=1", 30, "/admin/versions/2",
			[]string{`<span class="ev thin" data-n="1"`, "1.000 <small>[0.21, 1.00] n=1</small>", `class="badge"`, `<tr class="thin">`, "0.950 <small>[0.86, 0.98] n=60</small>"},
			[]string{`<span class="ev thin" data-n="60"`}},
		{"diff page, thin n=1", 30, "/admin/diff?a=1&b=2",
			[]string{`<span class="ev thin" data-n="1"`, `<span class="ev" data-n="60"`},
			nil},
		{"min_samples above every count", 100, "/admin/versions/2",
			[]string{`<span class="ev thin" data-n="60"`, "min_samples (100)"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Token: testToken, Versions: f, Spend: f, Baseline: "gpt-4o", MinSamples: tt.minSamples,
				Now: func() time.Time { return testNow }})
			rec := get(t, h, tt.path, bearer(testToken))
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d", rec.Code)
			}
			body := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
		})
	}
}
