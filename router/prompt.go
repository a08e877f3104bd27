package router

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"unicode"
	"unicode/utf8"
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
// Tool calls count by their name and arguments; an image counts as
// imageTokens, since Switchyard never fetches it to measure it.
func EstimateTokens(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.Content)/4 + 4
		for _, tc := range m.ToolCalls {
			n += (len(tc.Name)+len(tc.Arguments))/4 + 4
		}
		for _, p := range m.Parts {
			if p.Type == PartImage {
				n += imageTokens
			}
		}
	}
	return n
}

// imageTokens is what an image is estimated at: OpenAI's charge for a
// low-detail image, the least any image costs there.
const imageTokens = 85

// Prompt is a request's prompt prepared once, where the request path
// starts (PreparePrompt): the text as the client sent it, what an LLM
// classifier and the heuristic read; its normalised form, what the local
// model reads and kept prompts store; and that form's hash, the
// classification cache's key and the records' prompt_hash. Carrying it
// along keeps those from drifting apart and the prompt from being
// normalised and hashed again at every step.
type Prompt struct {
	Raw  string
	Text string // NormalizePrompt(Raw)
	Hash string // hex SHA-256 of Text
}

// PreparePrompt normalises and hashes raw.
func PreparePrompt(raw string) Prompt {
	text := NormalizePrompt(raw)
	return Prompt{Raw: raw, Text: text, Hash: hashNormalized(text)}
}

// NormalizePrompt folds case and runs of white space, so prompts that
// differ only in those share a cache entry and a hash. It runs on every
// routed request (once: PreparePrompt), so ASCII, most of any prompt,
// takes a byte path through a table; other runes fold as unicode does.
// A space is written when a run of white space starts (after some text)
// and the last one taken back if the prompt ends in white space.
func NormalizePrompt(p string) string {
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			i++
			if c = asciiFold[c]; c == ' ' && (len(b) == 0 || b[len(b)-1] == ' ') {
				continue
			}
			b = append(b, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		if unicode.IsSpace(r) {
			if len(b) > 0 && b[len(b)-1] != ' ' {
				b = append(b, ' ')
			}
			continue
		}
		b = utf8.AppendRune(b, unicode.ToLower(r))
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}

// asciiFold maps each ASCII byte to what NormalizePrompt writes: white
// space to a space, upper case to lower case, others to themselves. A
// constant table, built once.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
		switch {
		case c == ' ' || c >= '\t' && c <= '\r':
			t[c] = ' '
		case c >= 'A' && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// HashPrompt is the hex SHA-256 of the normalised prompt: what records
// and the classification cache keep instead of the text
// (PreparePrompt(p).Hash, for callers outside the request path).
func HashPrompt(p string) string { return hashNormalized(NormalizePrompt(p)) }

// hashNormalized hashes text already normalised.
func hashNormalized(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// NewID returns a random request id.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}
