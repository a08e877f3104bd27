package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/store"
	"github.com/switchyard/switchyard/router"
)

func TestEvalRuns(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
		first, err := s.CreateEvalRun(ctx, router.EvalRun{
			CreatedAt: t0,
			Dataset:   "routellm.jsonl.gz",
			Params:    json.RawMessage(`{"seed":1,"policies":["static","learned"]}`),
			Result:    json.RawMessage(`{"dataset":"routellm.jsonl.gz","n_test":7,"apgr":0.5,"policies":[{"name":"learned","quality":0.75}]}`),
		})
		if err != nil {
			t.Fatalf("CreateEvalRun: %v", err)
		}
		if first.ID == 0 || !first.CreatedAt.Equal(t0) || first.Dataset != "routellm.jsonl.gz" {
			t.Errorf("stored run = id %d at %v dataset %q; want an id, %v, routellm.jsonl.gz", first.ID, first.CreatedAt, first.Dataset, t0)
		}
		// The JSON documents come back equal as values (Postgres JSONB
		// normalises spacing and key order).
		var got, want map[string]any
		if err := json.Unmarshal(first.Result, &got); err != nil {
			t.Fatalf("stored result is not JSON: %v", err)
		}
		json.Unmarshal([]byte(`{"dataset":"routellm.jsonl.gz","n_test":7,"apgr":0.5,"policies":[{"name":"learned","quality":0.75}]}`), &want)
		if gb, _ := json.Marshal(got); string(gb) != mustJSON(want) {
			t.Errorf("result = %s, want %s", gb, mustJSON(want))
		}

		second, err := s.CreateEvalRun(ctx, router.EvalRun{CreatedAt: t0.Add(time.Hour), Dataset: "llmrouter.jsonl.gz"})
		if err != nil {
			t.Fatalf("CreateEvalRun without params: %v", err)
		}
		if string(second.Params) != "{}" || string(second.Result) != "{}" {
			t.Errorf("empty params/result stored as %s / %s, want {} / {}", second.Params, second.Result)
		}
		runs, err := s.ListEvalRuns(ctx, 0)
		if err != nil {
			t.Fatalf("ListEvalRuns: %v", err)
		}
		if len(runs) != 2 || runs[0].ID != second.ID || runs[1].ID != first.ID {
			t.Errorf("ListEvalRuns = %d runs %v, want [%d %d] newest first", len(runs), ids(runs), second.ID, first.ID)
		}
		if runs, _ := s.ListEvalRuns(ctx, 1); len(runs) != 1 {
			t.Errorf("ListEvalRuns(limit 1) = %d runs, want 1", len(runs))
		}
		if _, err := s.EvalRun(ctx, 9999); router.KindOf(err) != router.KindNotFound {
			t.Errorf("EvalRun(9999) = %v, want not_found", err)
		}
		if _, err := s.CreateEvalRun(ctx, router.EvalRun{Dataset: "x", Result: json.RawMessage(`{"broken"`)}); err == nil {
			t.Error("CreateEvalRun with invalid JSON: no error")
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ids(runs []router.EvalRun) []int64 {
	var out []int64
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}
