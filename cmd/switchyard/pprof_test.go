package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestStartPprof(t *testing.T) {
	srv, addr, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The mutex profile's header shows the sampling rate startPprof set.
	for path, want := range map[string]string{"/debug/pprof/": "goroutine", "/debug/pprof/mutex?debug=1": "sampling period=10", "/debug/pprof/block?debug=1": "cycles/second"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.80s", path, resp.StatusCode, body)
		}
	}
}
