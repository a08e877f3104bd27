package keys

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/router"
)

// BenchmarkKeyCheck is what a key adds to one routed request: the bearer
// checked, the request admitted against rpm, tpm, in-flight and a paced
// budget, its slot released and its record charged. 100 keys are loaded.
// Run: go test ./keys -run '^$' -bench KeyCheck -benchmem
func BenchmarkKeyCheck(b *testing.B) {
	st := &memStore{}
	var secret string
	for i := range 100 {
		k, s := newKey(b, int64(i+1), Key{Name: "team-" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
			RPM: 1 << 40, TPM: 1 << 40, MaxInFlight: 1 << 20, Budget: 1 << 50, Period: Month})
		st.keys = append(st.keys, k)
		if i == 42 {
			secret = s
		}
	}
	g := NewGate(Options{Store: st, Pacing: DefaultPacing(), Now: time.Now})
	if err := g.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	rec := g.Recorder(nopRecorder{})
	header := "Bearer " + secret
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k, r := g.Authenticate(header)
			if r != nil {
				b.Fatal(r)
			}
			a, r := g.Admit(k)
			if r != nil {
				b.Fatal(r)
			}
			a.Done()
			_ = rec.Record(ctx, router.Record{Key: k.Name, PromptTokens: 100, CompletionTokens: 50, Cost: 10})
		}
	})
}
