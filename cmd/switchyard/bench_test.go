package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
)

// BenchmarkAsk measures /ask end to end through the real service: gin,
// classifier cascade, routing, openai-go over loopback HTTP to the demo
// upstream (latency 0, so the figure is Switchyard's own overhead), and
// the recorder writing to SQLite. Prompts cycle through the demo dataset,
// so after the first pass classifications come from the cache.
//
//	go test ./cmd/switchyard -run '^$' -bench Ask -benchtime 5000x
func BenchmarkAsk(b *testing.B) {
	items, err := datasets.Demo()
	if err != nil {
		b.Fatal(err)
	}
	bodies := make([][]byte, len(items))
	for i, it := range items {
		bodies[i], _ = json.Marshal(map[string]string{"prompt": it.Prompt})
	}
	in := startServe(b, "sqlite", 0)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[int(next.Add(1))%len(bodies)]
			resp, err := client.Post(in.url+"/ask", "application/json", bytes.NewReader(body))
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if f := failed.Load(); f > 0 {
		b.Errorf("%d of %d requests failed", f, b.N)
	}
}
