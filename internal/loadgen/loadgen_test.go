package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p100 is the largest", hundred, 100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(p%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// TestRunCounts: every request sent is counted once as answered,
// refused or failed, and a fixed rate sends the rate's worth bounded by
// MaxRequests.
func TestRunCounts(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 0:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 1:
			w.WriteHeader(http.StatusTeapot)
		default:
			w.Write([]byte("{}"))
		}
	}))
	defer srv.Close()
	body := func(int) []byte { return []byte("{}") }

	fixed := Run(context.Background(), Options{URL: srv.URL, Body: body, Rate: 2000, Duration: time.Second, MaxRequests: 30})
	if fixed.Sent != 30 || fixed.OK+fixed.Refused+fixed.Failed != 30 {
		t.Errorf("fixed rate: sent %d, ok %d, refused %d, failed %d; want 30 sent, each counted once", fixed.Sent, fixed.OK, fixed.Refused, fixed.Failed)
	}
	if fixed.OK != 10 || fixed.Refused != 10 || len(fixed.Latency) != 10 || len(fixed.RefusedL) != 10 || len(fixed.Service) != 10 || len(fixed.RefusedService) != 10 {
		t.Errorf("fixed rate: ok %d, refused %d, latencies %d/%d; want 10 of each", fixed.OK, fixed.Refused, len(fixed.Latency), len(fixed.RefusedL))
	}

	sat := Run(context.Background(), Options{URL: srv.URL, Body: body, Conns: 4, Duration: time.Second, MaxRequests: 60})
	if sat.Sent != 60 || sat.OK+sat.Refused+sat.Failed != 60 {
		t.Errorf("saturation: sent %d, counted %d; want 60", sat.Sent, sat.OK+sat.Refused+sat.Failed)
	}
	// The server's part of a request never exceeds the whole.
	if Percentile(fixed.Service, 100) > Percentile(fixed.Latency, 100) {
		t.Errorf("service max %v > latency max %v", Percentile(fixed.Service, 100), Percentile(fixed.Latency, 100))
	}
}
