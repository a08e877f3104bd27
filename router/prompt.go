package router

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
)

// LastUserPrompt returns the content of the last user message, the text a
// request is classified by.
func LastUserPrompt(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].Content
		}
	}
	return ""
}

// EstimateTokens is a provider-neutral estimate of prompt tokens: about
// four bytes a token plus a few per message of framing.
func EstimateTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content)/4 + 4
	}
	return n
}

// NormalizePrompt folds case and runs of white space, so prompts that
// differ only in those share a cache entry and a hash.
func NormalizePrompt(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	space := false
	for _, r := range strings.TrimSpace(p) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// HashPrompt is the hex SHA-256 of the normalised prompt: what records
// and the classification cache keep instead of the text.
func HashPrompt(p string) string {
	sum := sha256.Sum256([]byte(NormalizePrompt(p)))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random request id.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}
