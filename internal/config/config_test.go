package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const minimal = `
providers:
  - {name: local, base_url: "http://127.0.0.1:1/v1"}
  - {name: paid, base_url: "https://example.invalid/v1", api_key_env: PAID_KEY}
models:
  - {name: small, provider: local, input_per_mtok: 0.1, output_per_mtok: 0.2}
  - {name: big, provider: paid, input_per_mtok: 2, output_per_mtok: 8, context_window: 1000}
routing:
  simple: [small, big]
  moderate: [small, big]
  complex: [big]
baseline_model: big
`

func TestParseValid(t *testing.T) {
	c, err := Parse([]byte(minimal), env(map[string]string{"PAID_KEY": "sk-secret", "DATABASE_URL": "postgres://u:pw@h/db"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := c.Server.AttemptTimeout, 60*time.Second; got != want {
		t.Errorf("default attempt timeout = %v, want %v", got, want)
	}
	p, _ := c.Provider("paid")
	if p.APIKey != "sk-secret" {
		t.Errorf("paid key = %q, want it read from PAID_KEY", p.APIKey)
	}
	cat := c.Catalog()
	if got, want := cat["big"].Cost(1000, 100), int64(2800); int64(got) != want {
		t.Errorf("big.Cost(1000,100) = %d micros, want %d", got, want)
	}
	if got := c.Table()["simple"]; len(got) != 2 || got[0] != "small" {
		t.Errorf("simple candidates = %v, want [small big]", got)
	}
	refined := strings.Replace(minimal, "complex: [big]", "complex: [big]\n  simple/math: [big]", 1)
	if _, err := Parse([]byte(refined), env(map[string]string{"PAID_KEY": "k"})); err != nil {
		t.Errorf("refined bucket simple/math rejected: %v", err)
	}
	if c.DatabaseURL != "postgres://u:pw@h/db" {
		t.Errorf("DatabaseURL = %q", c.DatabaseURL)
	}
}

// TestParseRejects covers FAULTS.md B9: the service refuses to start and
// names the entry that is wrong.
func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"model without price", "{name: small, provider: local, input_per_mtok: 0.1, output_per_mtok: 0.2}", "{name: small, provider: local}", "models[small]: input_per_mtok and output_per_mtok"},
		{"duplicate model", "{name: big, provider: paid", "{name: small, provider: paid", `duplicate model "small"`},
		{"duplicate provider", "{name: paid,", "{name: local,", `duplicate provider "local"`},
		{"unknown model in table", "complex: [big]", "complex: [huge]", `routing.complex: unknown model "huge"`},
		{"fallback cycle", "moderate: [small, big]", "moderate: [small, big, small]", "routing.moderate: model \"small\" listed twice"},
		{"missing bucket", "  complex: [big]\n", "", "routing.complex: no candidate models"},
		{"unknown bucket", "complex: [big]", "complex: [big]\n  hard: [big]", "routing.hard"},
		{"bad category", "complex: [big]", "complex: [big]\n  complex/Math!: [big]", `bucket "complex/Math!": category`},
		{"unknown provider", "provider: paid, input_per_mtok: 2", "provider: nope, input_per_mtok: 2", `models[big].provider: unknown provider "nope"`},
		{"unknown baseline", "baseline_model: big", "baseline_model: gpt-9", `baseline_model: unknown model "gpt-9"`},
		{"unknown key", "baseline_model: big", "baseline_model: big\nbaseline: big", "field baseline not found"},
		{"exploration out of range", "baseline_model: big", "baseline_model: big\nexploration: 0.7", "exploration: 0.7"},
		{"unknown provider kind", "{name: local,", "{name: local, kind: bedrock,", `providers[local].kind: "bedrock"`},
		{"negative price", "input_per_mtok: 2,", "input_per_mtok: -2,", "models[big]: prices must not be negative"},
		// Issue 12, item 6: durations, URLs and ranges.
		{"negative attempt timeout", "baseline_model: big", "baseline_model: big\nserver: {attempt_timeout: -1s}", "server.attempt_timeout: -1s: must be positive"},
		{"negative request timeout", "baseline_model: big", "baseline_model: big\nserver: {request_timeout: -5s}", "server.request_timeout: -5s: must be positive"},
		{"negative shutdown timeout", "baseline_model: big", "baseline_model: big\nserver: {shutdown_timeout: -1m}", "server.shutdown_timeout: -1m0s: must be positive"},
		{"negative first-byte timeout", "baseline_model: big", "baseline_model: big\nserver: {first_byte_timeout: -1s}", "server.first_byte_timeout: -1s: must be positive"},
		{"first byte after attempt", "baseline_model: big", "baseline_model: big\nserver: {attempt_timeout: 5s, first_byte_timeout: 10s}", "server.first_byte_timeout: 10s: must not exceed attempt_timeout"},
		{"negative breaker wait", "baseline_model: big", "baseline_model: big\nserver: {breaker_wait: -5s}", "server.breaker_wait: -5s: must be positive"},
		{"breaker wait past its longest", "baseline_model: big", "baseline_model: big\nserver: {breaker_wait: 10s, breaker_max_wait: 2s}", "server.breaker_wait: 10s: must not exceed breaker_max_wait (2s)"},
		{"negative body limit", "baseline_model: big", "baseline_model: big\nserver: {max_body_bytes: -1}", "server.max_body_bytes: -1"},
		{"negative classifier timeout", "baseline_model: big", "baseline_model: big\nclassifier: {timeout: -3s}", "classifier.timeout: -3s"},
		{"negative cache size", "baseline_model: big", "baseline_model: big\nclassifier: {cache_size: -1}", "classifier.cache_size: -1"},
		{"base_url not a URL", `"http://127.0.0.1:1/v1"`, `"not a url"`, `providers[local].base_url: "not a url": want an absolute http:// or https:// URL`},
		{"base_url without host", `"http://127.0.0.1:1/v1"`, `"http:///v1"`, `providers[local].base_url: "http:///v1": has no host`},
		{"base_url other scheme", `"http://127.0.0.1:1/v1"`, `"ftp://h/v1"`, `providers[local].base_url: "ftp://h/v1": want`},
		{"base_url unparsable", `"http://127.0.0.1:1/v1"`, `"http://[::1"`, `providers[local].base_url: is not a URL`},
		{"negative rpm", "{name: local,", "{name: local, requests_per_minute: -1,", "providers[local]: requests_per_minute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(minimal, tt.old, tt.new, 1)
			if src == minimal {
				t.Fatalf("test edit %q not applied", tt.old)
			}
			_, err := Parse([]byte(src), env(map[string]string{"PAID_KEY": "k"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMissingKeyNamesVariableNotValue(t *testing.T) {
	_, err := Parse([]byte(minimal), env(nil))
	if err == nil || !strings.Contains(err.Error(), "providers[paid].api_key_env: environment variable PAID_KEY is not set") {
		t.Fatalf("err = %v, want the unset variable named", err)
	}
}

// A base_url carrying credentials is refused without echoing them.
func TestBaseURLWithCredentialsNotEchoed(t *testing.T) {
	src := strings.Replace(minimal, `"http://127.0.0.1:1/v1"`, `"https://me:sk-leak@h/v1"`, 1)
	_, err := Parse([]byte(src), env(map[string]string{"PAID_KEY": "k"}))
	if err == nil || !strings.Contains(err.Error(), "providers[local].base_url: must not carry credentials") {
		t.Fatalf("err = %v, want credentials refused", err)
	}
	if strings.Contains(err.Error(), "sk-leak") {
		t.Errorf("error echoes the credentials: %v", err)
	}
}

// Commands that call no provider load the configuration without keys
// (issue 12, item 8); everything else is still validated.
func TestLoadWithoutKeys(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/c.yaml"
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil {
		t.Fatal("Load without PAID_KEY succeeded, want the variable named")
	}
	c, err := LoadWithoutKeys(path, env(nil))
	if err != nil {
		t.Fatalf("LoadWithoutKeys: %v", err)
	}
	if err := c.CheckKeys(); err == nil || !strings.Contains(err.Error(), "PAID_KEY") {
		t.Errorf("CheckKeys = %v, want PAID_KEY named", err)
	}
	if _, err := LoadWithoutKeys("", env(nil)); err != nil {
		t.Errorf("embedded default without keys: %v", err)
	}
	bad := strings.Replace(minimal, "complex: [big]", "complex: [huge]", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWithoutKeys(path, env(nil)); err == nil || !strings.Contains(err.Error(), "routing.complex") {
		t.Errorf("LoadWithoutKeys of a bad table = %v, want it refused", err)
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	c, err := Parse([]byte(minimal), env(map[string]string{"PAID_KEY": "sk-very-secret", "DATABASE_URL": "postgres://app:hunter2@db:5432/sy"}))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redacted()
	dump := strings.ToLower(strings.Join([]string{r.DatabaseURL, r.Providers[1].APIKey}, " "))
	for _, secret := range []string{"sk-very-secret", "hunter2"} {
		if strings.Contains(dump, secret) {
			t.Errorf("redacted config contains %q: %s", secret, dump)
		}
	}
	if p, _ := c.Provider("paid"); p.APIKey != "sk-very-secret" {
		t.Errorf("Redacted modified the original config")
	}
}

func TestEnvExpansionWithDefault(t *testing.T) {
	src := strings.Replace(minimal, `"http://127.0.0.1:1/v1"`, `"${UP:-http://127.0.0.1:9/v1}"`, 1)
	for _, tt := range []struct{ up, want string }{{"", "http://127.0.0.1:9/v1"}, {"http://h/v1", "http://h/v1"}} {
		c, err := Parse([]byte(src), env(map[string]string{"PAID_KEY": "k", "UP": tt.up}))
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := c.Provider("local"); p.BaseURL != tt.want {
			t.Errorf("UP=%q: base_url = %q, want %q", tt.up, p.BaseURL, tt.want)
		}
	}
}

// The shipped configurations must load: the embedded default with keys
// set, and the demo with none.
func TestShippedConfigs(t *testing.T) {
	keys := env(map[string]string{"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b", "GROQ_API_KEY": "c"})
	if _, err := Default(keys); err != nil {
		t.Errorf("embedded default: %v", err)
	}
	if _, err := Load("../../config/demo.yaml", env(nil)); err != nil {
		t.Errorf("config/demo.yaml: %v", err)
	}
	if _, err := Load("does-not-exist.yaml", env(nil)); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: err = %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}
