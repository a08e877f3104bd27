package classify

import (
	"container/list"
	"sync"

	"github.com/switchyard/switchyard/router"
)

// lru is a bounded, concurrency-safe least-recently-used map from prompt
// hash to analysis. A hit moves the entry to the front, so a single
// mutex guards both the map and the list.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *lruEntry
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	a   router.Analysis
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element, min(max, 1024))}
}

// get returns the analysis under key and marks it recently used.
func (c *lru) get(key string) (router.Analysis, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return router.Analysis{}, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*lruEntry).a, true
}

// add stores a under key, evicting the least recently used entry when
// the cache is full.
func (c *lru) add(key string, a router.Analysis) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value.(*lruEntry).a = a
		c.order.MoveToFront(e)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, a: a})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry).key)
	}
}

// len returns the number of entries.
func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
