package keys

import "testing"

func TestClaimsKey(t *testing.T) {
	for h, want := range map[string]bool{
		"":                      false,
		"Bearer unused":         false, // an SDK's placeholder
		"Bearer sk-proj-abc":    false, // an OpenAI key
		"Basic c3ktY2FuYXJ5":    false,
		"Bearer sy-short":       true, // malformed, but a Switchyard key: refused
		"Bearer  sy-" + "x":     true,
		"Bearer sy-" + "A1b2C3": true,
	} {
		if got := ClaimsKey(h); got != want {
			t.Errorf("ClaimsKey(%q) = %v, want %v", h, got, want)
		}
	}
}
