package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/internal/config"
	"github.com/switchyard/switchyard/internal/storetest"
	"github.com/switchyard/switchyard/internal/textmodel"
	"github.com/switchyard/switchyard/internal/upstream"
	"github.com/switchyard/switchyard/learner"
	"github.com/switchyard/switchyard/router"
)

// localConfig is the closed-loop configuration with prompts kept and
// the local tier trusting heads trained on at least minSamples prompts.
func localConfig(t *testing.T, minSamples int) string {
	t.Helper()
	path := loopConfig(t, strongFirst+`
learner:
  enabled: false
  keep_prompts: true
  target: 0.8
  tolerance: 0.06
  min_samples: 30
`)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "min_samples: 1000 ", fmt.Sprintf("min_samples: %d ", minSamples), 1)
	if s == string(b) {
		t.Fatal("config/demo.yaml has no classifier.local.min_samples: 1000")
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLocalTierSurvivesRestart is issue 6's "done when" for the service
// on both databases: a service keeping prompts serves the demo's train
// prompts with feedback; the learner trains a local classifier with the
// table and promotes both; a restarted service loads that classifier from
// the active version and answers held-out prompts it is sure of with tier
// local and no classifier call, calling the LLM classifier on few of them.
func TestLocalTierSurvivesRestart(t *testing.T) {
	cfgPath := localConfig(t, 100)
	cfg, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	const classifier = "claude-haiku-4-5"
	items, err := datasets.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var test []datasets.Item
	for _, it := range items {
		if it.Split == datasets.SplitTest {
			test = append(test, it)
		}
	}
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			in := startServeConfig(t, dialect, 0, cfgPath)
			sum := replayTrain(t, in, "../../datasets/demo.jsonl.gz")
			sum2 := replayTrain(t, in, "../../datasets/demo.jsonl.gz")
			waitRecorded(t, in, sum.OK+sum2.OK)
			// Every classified prompt was kept (off the reply's path, so
			// wait for it too).
			st := openTestStore(t, in.dbURL)
			ctx := context.Background()
			deadline := time.Now().Add(30 * time.Second)
			for {
				n, err := st.CountPrompts(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n >= int64(len(items)-len(test)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d prompts kept after 30s, want %d", n, len(items)-len(test))
				}
				time.Sleep(50 * time.Millisecond)
			}
			in.shutdown(t)

			rep, err := learnCLI(t, in, cfgPath)
			if err != nil {
				t.Fatalf("learn: %v", err)
			}
			if rep.Local == nil || rep.Local.Status != learner.LocalTrained || rep.Candidate == nil || rep.Candidate.Provenance.LocalModel != rep.Local.Digest {
				t.Fatalf("learn = %s (%s), local %+v; want a candidate with a trained local classifier", rep.Status, rep.Reason, rep.Local)
			}
			if rep.Status == learner.RunKept {
				// Exploration is random, so the gate may want more
				// evidence; the operator's promotion is as good here.
				getenv := func(k string) string { return map[string]string{"DATABASE_URL": in.dbURL}[k] }
				if err := run(ctx, []string{"table", "promote", fmt.Sprint(rep.Candidate.ID)}, getenv, io.Discard, io.Discard); err != nil {
					t.Fatalf("table promote v%d: %v", rep.Candidate.ID, err)
				}
			} else if rep.Status != learner.RunPromoted {
				t.Fatalf("learn = %s (%s), want promoted or kept", rep.Status, rep.Reason)
			}
			for _, h := range rep.Local.Heads {
				t.Logf("local head %s: %d samples, held-out %d: log loss %.3f, ECE %.3f", h.Model, h.Samples, h.Held, h.LogLoss, h.ECE)
			}
			active, err := st.ActiveVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if active.ID != rep.Candidate.ID || active.Provenance.LocalModel != rep.Local.Digest {
				t.Fatalf("active v%d local model %q; want v%d with %q", active.ID, active.Provenance.LocalModel, rep.Candidate.ID, rep.Local.Digest)
			}

			// The share of held-out prompts the local tier would pass to
			// the LLM, by threshold (the cascade's rule, offline).
			data, err := st.LocalModel(ctx, active.Provenance.LocalModel)
			if err != nil {
				t.Fatal(err)
			}
			m, err := textmodel.UnmarshalBinary(data)
			if err != nil {
				t.Fatal(err)
			}
			order := classify.LocalOrder(m, active.Table, cfg.Catalog(), cfg.Classifier.Local.MinSamples)
			for _, th := range []float64{0.6, 0.7, 0.8, 0.9} {
				lm, err := classify.NewLocalModel(classify.LocalModelOptions{Model: m, Order: order, Target: th, MinSamples: cfg.Classifier.Local.MinSamples})
				if err != nil {
					t.Fatal(err)
				}
				unsure := 0
				for _, it := range test {
					if _, conf, _ := lm.Predict(ctx, router.NormalizePrompt(it.Prompt)); conf < th {
						unsure++
					}
				}
				t.Logf("threshold %.1f: LLM asked on %d of %d held-out prompts (%.1f%%), order %v", th, unsure, len(test), 100*float64(unsure)/float64(len(test)), order)
				// The target, <= 10%, holds at 0.7 on the demo:
				// the strongest model's calibrated chance sits near 0.8
				// on most prompts, so 0.8 passes a third of them on.
				if th == 0.7 && unsure > len(test)/10 {
					t.Errorf("threshold 0.7: LLM asked on %d of %d held-out prompts, want at most 10%%", unsure, len(test))
				}
			}

			// Restart on the same database, with a fresh upstream counter.
			up := upstream.New(items, upstream.Options{})
			again := startServeAt(t, in.dbURL, up, cfgPath)
			tiers := map[router.Tier]int{}
			for _, it := range test {
				body := fmt.Sprintf(`{"prompt":%q}`, it.Prompt)
				before := up.Calls(classifier)
				code, out := postJSON(t, again.url+"/ask", body)
				if code != 200 {
					t.Fatalf("/ask = %d %v\nstderr:\n%s", code, out, again.stderr)
				}
				md := out["metadata"].(map[string]any)
				a := md["analysis"].(map[string]any)
				tier := router.Tier(a["tier"].(string))
				tiers[tier]++
				if int64(md["table_version"].(float64)) != active.ID {
					t.Fatalf("table_version = %v, want v%d", md["table_version"], active.ID)
				}
				calls := up.Calls(classifier) - before
				if want := map[bool]int{true: 1, false: 0}[tier == router.TierLLM]; calls != want {
					t.Errorf("prompt %s answered by tier %s with %d classifier calls, want %d", it.ID, tier, calls, want)
				}
			}
			share := float64(up.Calls(classifier)) / float64(len(test))
			t.Logf("held-out prompts: %d; tiers %v; LLM classifier share %.1f%%", len(test), tiers, 100*share)
			if tiers[router.TierLocal] == 0 {
				t.Fatalf("no held-out prompt answered by the local tier after the restart; tiers %v\nstderr:\n%s", tiers, again.stderr)
			}
			if share > 0.5 {
				t.Errorf("LLM classifier called on %.1f%% of held-out prompts, want at most 50%%", 100*share)
			}
		})
	}
}
