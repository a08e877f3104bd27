package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

// driftSpend is a SpendReader that also reports the bucket drift.
type driftSpend struct {
	fixedSpend
	psi map[string]float64
	err error
	day time.Time
}

func (d *driftSpend) BucketPSI(_ context.Context, day time.Time) (map[string]float64, error) {
	d.day = day
	return d.psi, d.err
}

func TestCostsTodayBucketPSI(t *testing.T) {
	tests := []struct {
		name string
		sp   SpendReader
		want map[string]any // nil: no bucket_psi field
	}{
		{"drift reported", &driftSpend{psi: map[string]float64{"complexity": 0.02, "tier": 0.4}}, map[string]any{"complexity": 0.02, "tier": 0.4}},
		{"drift read fails: spend still served", &driftSpend{err: errors.New("database down")}, nil},
		{"a reader without drift", fixedSpend{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := newTestServer(t, &echoRouter{}, tt.sp, nil)
			code, today, _ := do(t, "GET", ts.URL+"/costs/today", "")
			if code != 200 {
				t.Fatalf("status %d: %v", code, today)
			}
			got, ok := today["bucket_psi"].(map[string]any)
			if tt.want == nil {
				if _, present := today["bucket_psi"]; present {
					t.Errorf("bucket_psi = %v, want none", today["bucket_psi"])
				}
				return
			}
			if !ok || len(got) != len(tt.want) {
				t.Fatalf("bucket_psi = %v, want %v", today["bucket_psi"], tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("bucket_psi.%s = %v, want %v", k, got[k], v)
				}
			}
			if d := tt.sp.(*driftSpend).day; d.IsZero() || d.Hour() != 0 {
				t.Errorf("drift asked for %v, want today's midnight UTC", d)
			}
		})
	}
}
