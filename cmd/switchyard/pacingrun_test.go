package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/upstream"
)

// TestPacingRun is BENCHMARKS.md's pacing run, gated because it is a
// measurement: the demo's first 400 prompts sent through two keys of one
// server, "free" without a budget and "paced" with a daily budget whose
// pace at this hour is a quarter of what "free" spent on them, so the run
// is on pace, then ahead of it, then spent. It prints, every 50 prompts, each key's spend
// against the paced key's budget and pace, the share of paced answers, and
// the quality kept (the dataset's score of the model that answered).
// Run: SWITCHYARD_PACING_RUN=1 go test ./cmd/switchyard -run TestPacingRun -v
func TestPacingRun(t *testing.T) {
	if os.Getenv("SWITCHYARD_PACING_RUN") == "" {
		t.Skip("a measurement: set SWITCHYARD_PACING_RUN=1")
	}
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	const n = 400
	items = items[:n]
	dbURL := storetest.URL(t, "sqlite")
	in := startServeAt(t, dbURL, upstream.New(items, upstream.Options{}), keysConfig(t, "100ms"))
	free := "Bearer " + strings.Fields(keysRun(t, dbURL, "create", "--name", "free"))[0]
	waitFor(t, "keys honoured", func() bool { code, _, _ := call(t, "GET", in.url+"/v1/models", free, ""); return code == 200 })

	type tally struct {
		cost, quality   float64
		answered, paced int
		stoppedAt       int
	}
	send := func(bearer string, tl *tally, report func(i int)) {
		for i, it := range items {
			code, hdr, body := call(t, "POST", in.url+"/ask", bearer, askBody(it.Prompt))
			if code == 429 && errCode(body) == "budget_exceeded" {
				tl.stoppedAt = i
				return
			}
			if code != 200 {
				t.Fatalf("/ask: %d %v", code, body)
			}
			md := body["metadata"].(map[string]any)
			tl.cost += md["actual_cost"].(float64)
			tl.quality += it.Outcomes[md["model_used"].(string)].Score
			tl.answered++
			if hdr.Get("x-switchyard-budget") == "pacing" {
				tl.paced++
			}
			if report != nil && (i+1)%25 == 0 {
				report(i + 1)
			}
		}
	}
	var f tally
	send(free, &f, nil)

	// The paced key's day budget: its pace by now is a quarter of what
	// the free key spent on the run.
	now := time.Now().UTC()
	elapsed := float64(now.Sub(now.Truncate(24*time.Hour))) / float64(24*time.Hour)
	budget := f.cost / (4 * elapsed)
	paced := "Bearer " + strings.Fields(keysRun(t, dbURL, "create", "--name", "paced", "--budget", jsonNum(budget), "--period", "day"))[0]
	waitFor(t, "keys honoured", func() bool { code, _, _ := call(t, "GET", in.url+"/v1/models", paced, ""); return code == 200 })

	var p tally
	var lines []string
	send(paced, &p, func(i int) {
		lines = append(lines, fmt.Sprintf("| %d | %.4f | %.4f | %.4f | %.1f%% | %.3f |", i, p.cost, elapsed*budget, budget, 100*float64(p.paced)/float64(p.answered), p.quality/float64(p.answered)))
	})
	t.Logf("day %.1f%% gone; budget %.4f USD/day, pace now %.4f USD", 100*elapsed, budget, elapsed*budget)
	t.Logf("| prompts | paced key spend USD | pace USD | budget USD | paced answers | quality |")
	for _, l := range lines {
		t.Log(l)
	}
	t.Logf("free: %d answered, %.4f USD, quality %.3f", f.answered, f.cost, f.quality/float64(f.answered))
	t.Logf("paced: %d answered (%d paced), %.4f USD, quality %.3f, stopped at prompt %d (0: never)", p.answered, p.paced, p.cost, p.quality/float64(p.answered), p.stoppedAt)
}
