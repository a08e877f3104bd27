package classify

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/router"
)

type memRecorder struct {
	mu   sync.Mutex
	recs []router.Record
}

func (m *memRecorder) Record(_ context.Context, r router.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

// The prompt is normalised and hashed once, by the service, and every
// step downstream uses that one value (issue 10, item 6): the
// classification caches' key, the record's prompt hash and the kept
// prompt's hash agree, and the kept text is the normalised one, for a
// prompt whose case and spacing a step of its own would have to fold the
// same way. A second spelling of the prompt is served from the memory
// cache under the same key.
func TestServicePreparesPromptOnce(t *testing.T) {
	store := newMemStore()
	cascade := NewCascade(CascadeOptions{LLM: goodAnalyzer{}, Store: store})
	sink := &memSink{}
	keeper := NewKeeper(cascade, sink, KeeperOptions{})
	rec := &memRecorder{}
	models := router.Catalog{"m": {Name: "m", Provider: "p", InputPerMTok: 1, OutputPerMTok: 2}}
	svc, err := router.NewService(router.Options{
		Models: models, Completers: map[string]router.Completer{"p": nopCompleter{}}, Classifier: keeper,
		Recorder: rec, Baseline: "m", Version: router.Version{ID: 1, Table: router.Table{router.Simple: {"m"}, router.Moderate: {"m"}, router.Complex: {"m"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const raw, again = "  What IS   the Capital\tof FRANCE? ", "what is the capital of france?"
	want := router.PreparePrompt(raw)
	for _, p := range []string{raw, again} {
		if _, err := svc.Serve(context.Background(), router.Request{Messages: []router.Message{{Role: "user", Content: p}}}); err != nil {
			t.Fatalf("Serve(%q): %v", p, err)
		}
	}
	keeper.Close(context.Background())

	if want.Text != again || want.Hash != router.HashPrompt(again) {
		t.Fatalf("prepared %+v, want the text %q and its hash", want, again)
	}
	if _, ok := store.lookup(want.Hash); !ok || len(store.m) != 1 {
		t.Errorf("classification store keys %v, want only %s", store.m, want.Hash)
	}
	if _, ok := cascade.mem.get(want.Hash); !ok {
		t.Errorf("memory cache has no entry under %s", want.Hash)
	}
	if st := cascade.Stats(); st.LLMCalls != 1 || st.MemoryHits != 1 {
		t.Errorf("stats %+v, want one LLM call and one memory hit", st)
	}
	if len(rec.recs) != 2 || rec.recs[0].PromptHash != want.Hash || rec.recs[1].PromptHash != want.Hash {
		t.Errorf("records %+v, want two with prompt hash %s", rec.recs, want.Hash)
	}
	if len(sink.kept) != 2 || sink.kept[0] != want || sink.kept[1].Hash != want.Hash || sink.kept[1].Text != want.Text {
		t.Errorf("kept %+v, want %+v twice (the second with its own raw text)", sink.kept, want)
	}
}
