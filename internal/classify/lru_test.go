package classify

import (
	"fmt"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/router"
)

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLRU(3)
	for i := range 3 {
		c.add(fmt.Sprint(i), router.Analysis{EstimatedTokens: i})
	}
	if _, ok := c.get("0"); !ok { // "0" is now the most recent; "1" the oldest
		t.Fatalf(`get("0") before eviction: missing, want present`)
	}
	c.add("3", router.Analysis{EstimatedTokens: 3})

	if got, want := c.len(), 3; got != want {
		t.Errorf("len() = %d, want %d", got, want)
	}
	if _, ok := c.get("1"); ok {
		t.Errorf(`get("1"): present, want evicted as least recently used`)
	}
	for _, k := range []string{"0", "2", "3"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("get(%q): missing, want present", k)
		}
	}
}

func TestLRUUpdateKeepsOneEntry(t *testing.T) {
	c := newLRU(2)
	c.add("a", router.Analysis{EstimatedTokens: 1})
	c.add("a", router.Analysis{EstimatedTokens: 2})
	if got, want := c.len(), 1; got != want {
		t.Errorf("len() = %d, want %d", got, want)
	}
	if got, _ := c.get("a"); got.EstimatedTokens != 2 {
		t.Errorf(`get("a").EstimatedTokens = %d, want 2`, got.EstimatedTokens)
	}
}

func TestLRUBoundUnderConcurrency(t *testing.T) {
	const size = 50
	c := newLRU(size)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprintf("%d-%d", g, i)
				c.add(k, router.Analysis{})
				c.get(k)
			}
		})
	}
	wg.Wait()
	if got := c.len(); got != size {
		t.Errorf("len() = %d, want the bound %d", got, size)
	}
	if got := len(c.items); got != size {
		t.Errorf("len(items) = %d, want %d (map and list out of step)", got, size)
	}
}

func TestShardedLRUBoundsAndFinds(t *testing.T) {
	c := newShardedLRU(64)
	for i := range 1000 {
		c.add(router.HashPrompt(fmt.Sprint(i)), router.Analysis{EstimatedTokens: i})
	}
	if got := c.len(); got > 64 || got < 32 {
		t.Errorf("len() = %d after 1,000 adds, want at most the bound of 64 (and most of it used)", got)
	}
	last := router.HashPrompt("999")
	if a, ok := c.get(last); !ok || a.EstimatedTokens != 999 {
		t.Errorf("get(last added) = %+v, %v; want it present", a, ok)
	}
}
