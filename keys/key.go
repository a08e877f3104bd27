// Package keys owns Switchyard's API keys: their secrets (shown once,
// stored as SHA-256), their budgets and how a budget is paced through its
// period, and the per-key rate limits. A Gate authenticates a bearer,
// admits or refuses a request, and counts what it spent; replicas share
// those counts through a Store in batches. It imports no framework: the
// HTTP adapter and the SQL store sit on either side of it.
package keys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/router"
)

// Secret format: "sy-" and 32 random bytes in unpadded base64url.
const (
	secretPrefix = "sy-"
	secretBytes  = 32
	secretLen    = len(secretPrefix) + 43 // base64url of 32 bytes, unpadded
	// displayLen is how much of a secret is kept for display ("sy-AbCdEf").
	displayLen = len(secretPrefix) + 6
)

// Period is a budget's period. Periods are UTC calendar days, ISO weeks
// (from Monday) and calendar months.
type Period string

// Periods.
const (
	Day   Period = "day"
	Week  Period = "week"
	Month Period = "month"
)

// periods are every budget period: spend is counted, and synced, in
// each one's window.
var periods = [...]Period{Day, Week, Month}

// ParsePeriod accepts day, week or month.
func ParsePeriod(s string) (Period, error) {
	if p := Period(s); slices.Contains(periods[:], p) {
		return p, nil
	}
	return "", fmt.Errorf("period %q: want day, week or month", s)
}

// Key is an API key as stored: never its secret.
type Key struct {
	ID     int64
	Name   string
	Prefix string // the secret's first characters, for display
	Hash   string // hex SHA-256 of the secret

	// Budget is what the key may spend per Period; zero: no budget.
	Budget router.Micros
	Period Period
	// Limits; zero means none.
	RPM         int64 // requests per minute
	TPM         int64 // tokens per minute
	MaxInFlight int64 // requests at once (per replica)
	// KeepQuality is the floor pacing may relax the key's quality goal
	// to, a share of the baseline's quality; zero: the gate's default.
	KeepQuality float64

	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is live
}

// Revoked reports whether the key was revoked.
func (k Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// Validate checks a key's name and settings, naming the flag at fault.
func (k Key) Validate() error {
	if err := ValidName(k.Name); err != nil {
		return err
	}
	if k.Budget < 0 {
		return fmt.Errorf("--budget: must not be negative")
	}
	if k.Budget > 0 && k.Period == "" {
		return fmt.Errorf("--period: a budget needs day, week or month")
	}
	if k.Period != "" {
		if _, err := ParsePeriod(string(k.Period)); err != nil {
			return fmt.Errorf("--period: %w", err)
		}
	}
	if k.RPM < 0 || k.TPM < 0 || k.MaxInFlight < 0 {
		return fmt.Errorf("--rpm, --tpm, --max-in-flight: must not be negative")
	}
	if k.KeepQuality < 0 || k.KeepQuality > 1 {
		return fmt.Errorf("--keep-quality: %v: want a share in [0, 1]", k.KeepQuality)
	}
	return nil
}

// ValidName accepts 1-64 characters of letters, digits, '-', '_' and '.':
// a name appears in metrics labels, URLs and logs.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("--name: want 1-64 characters, got %d", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("--name: %q: use letters, digits, '-', '_' or '.'", name)
		}
	}
	return nil
}

// NewSecret returns a fresh secret and the key fields derived from it
// (Prefix, Hash). The secret is shown once and never stored.
func NewSecret() (secret string, prefix string, hash string, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", fmt.Errorf("generate key: %w", err)
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, secret[:displayLen], HashSecret(secret), nil
}

// HashSecret is the stored form of a secret: hex SHA-256. The secrets are
// 256 random bits, so a fast hash is enough: there is nothing to guess.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClaimsKey reports whether an Authorization header presents a
// Switchyard key (a bearer token starting "sy-"), well formed or not.
// When keys are not required, headers that do not are someone else's
// (the placeholder every OpenAI SDK sends) and are ignored.
func ClaimsKey(header string) bool {
	token, ok := strings.CutPrefix(header, "Bearer ")
	return ok && strings.HasPrefix(strings.TrimSpace(token), secretPrefix)
}

// wellFormed reports whether s has a secret's shape, without saying how
// it differs (the value is never echoed or logged).
func wellFormed(s string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, secretPrefix) {
		return false
	}
	for i := len(secretPrefix); i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
