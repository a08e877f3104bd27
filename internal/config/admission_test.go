package config

import (
	"strings"
	"testing"
)

func TestMaxInFlight(t *testing.T) {
	limited := strings.Replace(minimal, `base_url: "http://127.0.0.1:1/v1"}`, `base_url: "http://127.0.0.1:1/v1", max_concurrency: 100}`, 1)
	limited = strings.Replace(limited, `api_key_env: PAID_KEY}`, `api_key_env: PAID_KEY, max_concurrency: 20}`, 1)
	small := strings.ReplaceAll(strings.ReplaceAll(limited, "max_concurrency: 100", "max_concurrency: 4"), "max_concurrency: 20", "max_concurrency: 2")
	tests := []struct {
		name, yaml string
		want       int
	}{
		{"twice the providers' concurrency", limited, 240},
		{"at least 64", small, 64},
		{"an unlimited provider", minimal, 1024},
		{"explicit", "server: {max_in_flight: 7}\n" + limited, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), env(map[string]string{"PAID_KEY": "k"}))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if c.Server.MaxInFlight != tt.want {
				t.Errorf("max_in_flight = %d, want %d", c.Server.MaxInFlight, tt.want)
			}
		})
	}
	_, err := Parse([]byte("server: {max_in_flight: -1}\n"+minimal), env(map[string]string{"PAID_KEY": "k"}))
	if err == nil || !strings.Contains(err.Error(), "server.max_in_flight") {
		t.Errorf("negative max_in_flight: err = %v, want one naming server.max_in_flight", err)
	}
}

func TestPprofAddr(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:6060": true, "localhost:0": true, "[::1]:6060": true, ":6060": false, "0.0.0.0:6060": false, "10.0.0.1:6060": false, "6060": false} {
		_, err := Parse([]byte("server: {pprof_addr: \""+addr+"\"}\n"+minimal), env(map[string]string{"PAID_KEY": "k"}))
		if ok != (err == nil) {
			t.Errorf("pprof_addr %q: err = %v, want ok=%v", addr, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "server.pprof_addr") {
			t.Errorf("pprof_addr %q: err = %v, want it to name server.pprof_addr", addr, err)
		}
	}
}
