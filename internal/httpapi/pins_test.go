package httpapi

import (
	"fmt"
	"testing"
	"time"
)

func TestPins(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	p := newPins(func() time.Time { return now })
	p.set("c1", "cheap")
	if got := p.get("c1"); got != "cheap" {
		t.Errorf("get = %q, want cheap", got)
	}
	if got := p.get(""); got != "" {
		t.Errorf("empty id pinned to %q", got)
	}
	now = now.Add(pinTTL + time.Second)
	if got := p.get("c1"); got != "" {
		t.Errorf("expired pin = %q, want none", got)
	}
	for i := range maxPins + 10 {
		p.set(fmt.Sprint("k", i), "m")
	}
	if got := p.len(); got > maxPins {
		t.Errorf("pins = %d, want at most %d", got, maxPins)
	}
	if got := p.get(fmt.Sprint("k", maxPins+9)); got != "m" {
		t.Errorf("newest pin = %q, want kept", got)
	}
}
