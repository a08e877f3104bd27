package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/datasets"
	"github.com/switchyard/switchyard/eval"
	"github.com/switchyard/switchyard/internal/classify"
	"github.com/switchyard/switchyard/router"
)

// firstCall answers every call and remembers the first model each
// request tried, by prompt.
type firstCall struct {
	mu    sync.Mutex
	first map[string]string
}

func (f *firstCall) Complete(_ context.Context, call router.Call) (router.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := call.Messages[len(call.Messages)-1].Content
	if _, ok := f.first[p]; !ok {
		f.first[p] = call.Model
	}
	return router.Reply{Content: "ok", FinishReason: "stop", PromptTokens: 10, CompletionTokens: 10}, nil
}

type dropRecords struct{}

func (dropRecords) Record(context.Context, router.Record) error { return nil }

type modelBytes map[string][]byte

func (m modelBytes) LocalModel(_ context.Context, digest string) ([]byte, error) {
	if b, ok := m[digest]; ok {
		return b, nil
	}
	return nil, errors.New("no such model")
}

// parityItems: three kinds of prompt, which every model, the two
// stronger, or the strongest alone answer, with 15% noise so that
// predictions spread around the operating points. Half the prompts are
// written as users write them (capitals, runs of spaces, lines and
// option lists): the service's local model reads the normalised prompt,
// so eval must train and predict on that text too, or the dense features
// (length, lines, upper-case share, options) differ between the two.
func parityItems(n int) []datasets.Item {
	rng := rand.New(rand.NewPCG(7, 9))
	subjects := []string{"tides", "bread", "rivers", "taxes", "glaciers", "poems", "engines", "coffee"}
	kinds := []struct {
		text string
		pass [3]bool
	}{
		{"what is the usual colour of %s, item %d?", [3]bool{true, true, true}},
		{"summarise the history of %s in three steps, case %d.", [3]bool{false, true, true}},
		{"prove a theorem relating %s to prime numbers, lemma %d.", [3]bool{false, false, true}},
	}
	costs := [3]float64{0.0001, 0.001, 0.01}
	models := [3]string{"cheap", "mid", "strong"}
	items := make([]datasets.Item, n)
	for i := range items {
		k := kinds[rng.IntN(len(kinds))]
		it := datasets.Item{
			ID:       fmt.Sprint("p", i),
			Prompt:   rawPrompt(rng, fmt.Sprintf(k.text, subjects[rng.IntN(len(subjects))], rng.IntN(50))),
			Split:    datasets.SplitTrain,
			Outcomes: map[string]datasets.Outcome{},
		}
		if i%4 == 0 {
			it.Split = datasets.SplitTest
		}
		for m, name := range models {
			ok := k.pass[m]
			if rng.Float64() < 0.15 {
				ok = !ok
			}
			score := 0.0
			if ok {
				score = 1
			}
			c := costs[m]
			it.Outcomes[name] = datasets.Outcome{Score: score, CostUSD: &c}
		}
		items[i] = it
	}
	return items
}

// rawPrompt returns p as typed, for half the prompts: a capital at the
// start, a word in capitals, runs of spaces and tabs, and sometimes a
// list of lettered options on lines of their own.
func rawPrompt(rng *rand.Rand, p string) string {
	if rng.IntN(2) == 0 {
		return p
	}
	words := strings.Fields(p)
	words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
	k := rng.IntN(len(words))
	words[k] = strings.ToUpper(words[k])
	out := strings.Join(words, strings.Repeat(" ", 1+rng.IntN(3)))
	if rng.IntN(2) == 0 {
		out = "  " + out + "\n\nA.  Yes\nB.  No\t\nC.  Maybe\n"
	}
	return out
}

// TestServiceAndEvalChooseAlike is issue 9's "done when" for one
// policy, two callers: with the same local model, the same models and the
// same operating point, the service sends every test prompt first where
// eval's replay scores it as going.
func TestServiceAndEvalChooseAlike(t *testing.T) {
	ctx := context.Background()
	items := parityItems(1600)
	order := []string{"cheap", "mid", "strong"}
	catalog := router.Catalog{
		"cheap":  {Name: "cheap", Provider: "p", InputPerMTok: 0.1, OutputPerMTok: 0.4},
		"mid":    {Name: "mid", Provider: "p", InputPerMTok: 1, OutputPerMTok: 2},
		"strong": {Name: "strong", Provider: "p", InputPerMTok: 10, OutputPerMTok: 30},
	}
	var train []*datasets.Item
	for i := range items {
		if items[i].Split == datasets.SplitTrain {
			train = append(train, &items[i])
		}
	}
	model, err := eval.TrainLocal(ctx, train, order, eval.LocalTrainOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := eval.NewLocalClassifier(model, order, 0.8, classify.Heuristic{})
	if err != nil {
		t.Fatal(err)
	}
	mx, err := eval.Prepare(items, eval.PrepareOptions{Classifier: lc, Prices: catalog})
	if err != nil {
		t.Fatal(err)
	}
	data, err := model.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	digest, err := model.Digest()
	if err != nil {
		t.Fatal(err)
	}
	table := router.Table{router.Simple: {"cheap", "mid", "strong"}, router.Moderate: {"mid", "strong"}, router.Complex: {"strong"}}

	for _, point := range []router.OperatingPoint{
		{Rule: router.RuleGap, Param: 0.05},
		{Rule: router.RuleGap, Param: 0.2},
		{Rule: router.RuleTarget, Param: 0.7},
	} {
		t.Run(point.String(), func(t *testing.T) {
			want, err := mx.LocalChoices(point)
			if err != nil {
				t.Fatal(err)
			}
			cascade := classify.NewCascade(classify.CascadeOptions{})
			tier := classify.NewLocalTier(classify.LocalTierOptions{
				Store: modelBytes{digest: data}, Cascade: cascade, Models: catalog, Enabled: true, Threshold: 0.8, MinSamples: 100,
			})
			v := router.Version{ID: 2, Status: router.StatusActive, Table: table,
				Policy:     &router.PromptPolicy{Models: order, Point: point},
				Provenance: router.Provenance{LocalModel: digest}}
			pred := tier.Load(ctx, v)
			if pred == nil {
				t.Fatal("the local tier gave no predictor for a version with a policy and a model")
			}
			up := &firstCall{first: map[string]string{}}
			svc, err := router.NewService(router.Options{
				Models: catalog, Completers: map[string]router.Completer{"p": up}, Classifier: cascade,
				Recorder: dropRecords{}, Baseline: "strong", Version: v, Predictor: pred,
			})
			if err != nil {
				t.Fatal(err)
			}
			firsts := map[string]int{}
			for n, i := range mx.Test {
				prompt := items[i].Prompt
				res, err := svc.Serve(ctx, router.Request{Messages: []router.Message{{Role: "user", Content: prompt}}})
				if err != nil {
					t.Fatalf("Serve: %v", err)
				}
				if res.Analysis.RoutedBy != router.RoutedByPolicy {
					t.Fatalf("prompt %s routed by %q, want the policy", items[i].ID, res.Analysis.RoutedBy)
				}
				if got := up.first[prompt]; got != want[n] {
					t.Errorf("prompt %s %q: service tried %s first, eval chose %s", items[i].ID, prompt, got, want[n])
				}
				firsts[want[n]]++
			}
			t.Logf("%s: %d test prompts, eval's first choices %v", point, len(mx.Test), firsts)
			// The comparison means something only if the point spreads
			// prompts over more than one model.
			if len(firsts) < 2 {
				t.Errorf("every prompt goes to one model (%v): the test compares nothing", firsts)
			}
		})
	}
}
