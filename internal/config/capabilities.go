package config

import (
	"strings"

	"github.com/switchyard/switchyard/router"
)

// knownCapabilities are the defaults for the models the shipped configs
// name (and their families), from each provider's model documentation.
// Claude models lack json_schema because Anthropic's OpenAI-compatible
// endpoint ignores response_format and strict schemas (README, provider
// dialects): a strict schema is not guaranteed there.
var knownCapabilities = []struct {
	prefix string
	caps   router.Capabilities
}{
	{"gpt-4o-mini", router.Capabilities{Tools: true, Vision: true, JSONSchema: true, MaxOutputTokens: 16384}},
	{"gpt-4o", router.Capabilities{Tools: true, Vision: true, JSONSchema: true, MaxOutputTokens: 16384}},
	{"gpt-4.1", router.Capabilities{Tools: true, Vision: true, JSONSchema: true, MaxOutputTokens: 32768}},
	{"claude-haiku-4-5", router.Capabilities{Tools: true, Vision: true, MaxOutputTokens: 64000}},
	{"claude-sonnet-4-5", router.Capabilities{Tools: true, Vision: true, MaxOutputTokens: 64000}},
	{"claude-", router.Capabilities{Tools: true, Vision: true}},
	{"llama-3.1-8b-instant", router.Capabilities{Tools: true, MaxOutputTokens: 131072}},
}

// DefaultCapabilities are a model's capabilities when its configuration
// names none: the known family's, else tool calling only (most chat
// models served behind OpenAI-compatible endpoints call tools; vision
// and strict schemas must be declared).
func DefaultCapabilities(name string) router.Capabilities {
	for _, k := range knownCapabilities {
		if strings.HasPrefix(name, k.prefix) {
			return k.caps
		}
	}
	return router.Capabilities{Tools: true}
}

// Capabilities are m's capabilities: its configured ones over the
// defaults for its name.
func (m Model) Capabilities() router.Capabilities {
	c := DefaultCapabilities(m.Name)
	if m.Tools != nil {
		c.Tools = *m.Tools
	}
	if m.Vision != nil {
		c.Vision = *m.Vision
	}
	if m.JSONSchema != nil {
		c.JSONSchema = *m.JSONSchema
	}
	if m.MaxOutputTokens != nil {
		c.MaxOutputTokens = *m.MaxOutputTokens
	}
	return c
}
