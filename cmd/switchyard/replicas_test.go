package main

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/upstream"
	"github.com/switchyard/switchyard/router"
)

// TestReplicasShareBudget runs two servers on one PostgreSQL database,
// both spending one key's budget at once, and measures the overspend:
// what was spent beyond the budget before both stopped. Each replica
// learns the other's spend at its syncs (keys.sync_interval), so the
// bound is about one interval of the pair's traffic plus the requests in
// flight when the budget ran out; the test asserts twice that, leaving
// room for a loaded machine, and logs the figures BENCHMARKS.md reports.
func TestReplicasShareBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const interval = 250 * time.Millisecond
	dbURL := storetest.URL(t, "postgres")
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cfg := keysConfig(t, interval.String())
	a := startServeAt(t, dbURL, upstream.New(items, upstream.Options{}), cfg)
	b := startServeAt(t, dbURL, upstream.New(items, upstream.Options{}), cfg)
	const budgetUSD = 1.0
	// --keep-quality 1: no pacing, so every request costs what the table
	// chooses and the run measures the cut-off alone.
	secret := strings.Fields(keysRun(t, dbURL, "create", "--name", "shared", "--budget", jsonNum(budgetUSD), "--period", "month", "--keep-quality", "1"))[0]
	bearer := "Bearer " + secret
	for _, in := range []*instance{a, b} {
		waitFor(t, "the key is honoured", func() bool {
			code, _, _ := call(t, "GET", in.url+"/v1/models", bearer, "")
			return code == 200
		})
	}

	prompts := complexPrompts(t)
	const workers = 4 // per replica
	var served, refused atomic.Int64
	var mu sync.Mutex
	var maxCost float64
	var wg sync.WaitGroup
	start := time.Now()
	for _, in := range []*instance{a, b} {
		for w := range workers {
			wg.Go(func() {
				for i := w; ; i += workers {
					code, _, body := call(t, "POST", in.url+"/ask", bearer, askBody(prompts[i%len(prompts)]))
					if code == 429 && errCode(body) == "budget_exceeded" {
						refused.Add(1)
						return
					}
					if code != 200 {
						t.Errorf("/ask: %d %v", code, body)
						return
					}
					served.Add(1)
					c := body["metadata"].(map[string]any)["actual_cost"].(float64)
					mu.Lock()
					maxCost = max(maxCost, c)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	a.shutdown(t)
	b.shutdown(t)

	st := openTestStore(t, dbURL)
	now := time.Now().UTC()
	days, err := st.KeySpend(context.Background(), "shared", now, now)
	if err != nil {
		t.Fatal(err)
	}
	spent := days[0].Total
	budget := router.MicrosFromUSD(budgetUSD)
	over := spent - budget
	perInterval := float64(spent) * float64(interval) / float64(elapsed)
	bound := router.Micros(perInterval + 2*workers*maxCost*1e6)
	t.Logf("two replicas, %d workers each, sync %v: %d requests in %v, spent %.6f of %.6f USD: overspend %.6f USD (%.1f%%); one interval of traffic %.6f USD, in flight at most %.6f USD",
		workers, interval, served.Load(), elapsed.Round(time.Millisecond), spent.USD(), budget.USD(), over.USD(), 100*float64(over)/float64(budget), perInterval/1e6, 2*workers*maxCost)
	if spent < budget {
		t.Errorf("stopped at %v of %v: refused before the budget was spent", spent, budget)
	}
	if over > 2*bound {
		t.Errorf("overspend %v micros, want at most %v (twice one interval of traffic plus what was in flight)", over, 2*bound)
	}
}
