package httpapi

import (
	"sync"
	"time"
)

// Conversation pinning keeps a conversation on the model that answered its
// first turn, because switching models mid-conversation loses the
// provider's prompt cache. In memory only: a restart or another replica
// routes the next turn afresh, which costs a cache miss, nothing more.
const (
	pinTTL  = time.Hour
	maxPins = 10_000
)

// pins maps conversation ids to models, bounded in size and age.
type pins struct {
	mu  sync.Mutex
	m   map[string]pin
	now func() time.Time
}

type pin struct {
	model string
	at    time.Time
}

func newPins(now func() time.Time) *pins {
	return &pins{m: make(map[string]pin), now: now}
}

// get returns the model pinned for conversation id, or "".
func (p *pins) get(id string) string {
	if id == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[id]
	if !ok || p.now().Sub(e.at) > pinTTL {
		return ""
	}
	return e.model
}

// set pins conversation id to model, refreshing its age. When full it
// drops expired entries, then arbitrary ones: a lost pin only costs a
// cache miss.
func (p *pins) set(id, model string) {
	if id == "" || model == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if _, ok := p.m[id]; !ok && len(p.m) >= maxPins {
		for k, e := range p.m {
			if now.Sub(e.at) > pinTTL {
				delete(p.m, k)
			}
		}
		for k := range p.m {
			if len(p.m) < maxPins {
				break
			}
			delete(p.m, k)
		}
	}
	p.m[id] = pin{model: model, at: now}
}

// len is the number of pins held.
func (p *pins) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}
