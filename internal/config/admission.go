package config

import (
	"fmt"
	"net"
)

// Admission-control defaults. A routed request holds a provider slot
// only while it calls a model; the bound leaves room for as many
// requests again waiting for a slot (or being classified), and beyond
// that queueing only adds latency and memory, so the excess is refused.
const (
	// inFlightPerSlot is how many routed requests in flight the default
	// allows per provider concurrency slot.
	inFlightPerSlot = 2
	// minMaxInFlight keeps small configurations from refusing ordinary
	// bursts.
	minMaxInFlight = 64
	// unlimitedMaxInFlight is the default when a provider sets no
	// concurrency limit: Switchyard's own cost per request (a few
	// kilobytes and well under a millisecond of CPU) then sets the bound.
	unlimitedMaxInFlight = 1024
)

// defaultMaxInFlight derives server.max_in_flight from the providers'
// max_concurrency: twice their sum, at least 64; 1,024 when any
// provider is unlimited (max_concurrency 0).
func (c *Config) defaultMaxInFlight() int {
	sum := 0
	for _, p := range c.Providers {
		if p.MaxConcurrency <= 0 {
			return unlimitedMaxInFlight
		}
		sum += p.MaxConcurrency
	}
	return max(sum*inFlightPerSlot, minMaxInFlight)
}

// validatePprofAddr accepts an empty address (profiling off) or a
// loopback host and port: the profiler has no authentication, and its
// heap dumps can hold prompts and keys.
func validatePprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: want a loopback address such as 127.0.0.1:6060 (the profiler has no authentication)", addr)
	}
	return nil
}
