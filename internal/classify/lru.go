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

// lruShards is how many independently locked parts a sharded cache has:
// enough that concurrent requests rarely meet on one lock.
const lruShards = 32

// shardedLRU is an lru split by key so that concurrent lookups of
// different prompts take different locks: the cache sits on every
// request's path, and one mutex there serialises the whole service
// under load. Eviction is least recently used within a shard.
type shardedLRU struct {
	shards [lruShards]*lru
}

func newShardedLRU(size int) *shardedLRU {
	c := &shardedLRU{}
	per := max(1, (size+lruShards-1)/lruShards)
	for i := range c.shards {
		c.shards[i] = newLRU(per)
	}
	return c
}

// shard picks key's part by FNV-1a over the key (a hex digest, already
// uniform; hashing keeps any other key fair too).
func (c *shardedLRU) shard(key string) *lru {
	h := uint32(2166136261)
	for i := 0; i < len(key) && i < 16; i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return c.shards[h%lruShards]
}

func (c *shardedLRU) get(key string) (router.Analysis, bool) { return c.shard(key).get(key) }

func (c *shardedLRU) add(key string, a router.Analysis) { c.shard(key).add(key, a) }

func (c *shardedLRU) len() int {
	n := 0
	for _, s := range c.shards {
		n += s.len()
	}
	return n
}
