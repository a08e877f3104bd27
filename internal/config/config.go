// Package config loads, validates and redacts Switchyard's configuration:
// one typed struct read once from YAML (embedded default or a file) with
// environment variables expanded. Nothing else in Switchyard reads the
// environment.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard/switchyard/router"
)

//go:embed default.yaml
var defaultYAML []byte

// Config is the whole configuration.
type Config struct {
	Server     Server     `yaml:"server"`
	Providers  []Provider `yaml:"providers"`
	Models     []Model    `yaml:"models"`
	Classifier Classifier `yaml:"classifier"`
	// Routing is the static table (complexity -> models, cheapest
	// first), which seeds routing-table version 1, and the quality goal
	// (keep_quality) learned versions are fitted toward.
	Routing  Routing `yaml:"routing"`
	Baseline string  `yaml:"baseline_model"`
	// Exploration is the share of routed requests sent first to another
	// candidate of their bucket, so the learner keeps evidence about
	// models the table is not choosing.
	Exploration float64 `yaml:"exploration"`
	// ExplorationSeed, when non-zero, makes exploration's choices
	// reproducible (experiments, tests); zero seeds from the runtime.
	ExplorationSeed uint64 `yaml:"exploration_seed"`
	// ExplorationUniform spends the exploration budget uniformly over
	// each request's alternatives (router.Options.ExploreUniform), the
	// baseline aimed exploration is measured against (scripts/loop.sh
	// EXPLORE_UNIFORM=1); off aims it where the decision is uncertain.
	ExplorationUniform bool `yaml:"exploration_uniform"`
	// Learner is the nightly learner; absent keys take DefaultLearner's.
	Learner Learner `yaml:"learner"`
	// Keys configures API keys' budgets; absent keys take DefaultKeys's.
	Keys Keys `yaml:"keys"`

	// DatabaseURL comes from DATABASE_URL, not from the file; empty means
	// the embedded SQLite database under ./data/.
	DatabaseURL string `yaml:"-"`
}

// Server holds the HTTP service's settings.
type Server struct {
	Addr           string        `yaml:"addr"`
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`
	RequestTimeout time.Duration `yaml:"request_timeout"`
	AttemptTimeout time.Duration `yaml:"attempt_timeout"`
	// FirstByteTimeout bounds how long one attempt may wait for the
	// provider's first byte (the first chunk of a stream) before that
	// model is abandoned for the next candidate (FAULTS.md F3).
	FirstByteTimeout time.Duration `yaml:"first_byte_timeout"`
	// ShutdownTimeout is the whole SIGTERM budget: draining in-flight
	// requests, then cancelling and recording what is left, then the
	// recorder's final flush.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// BreakerWait is how long a provider's circuit breaker, once open
	// after repeated failures, keeps traffic away before one probe
	// request may test the provider; each failed probe doubles the wait
	// up to BreakerMaxWait (FAULTS.md F13).
	BreakerWait    time.Duration `yaml:"breaker_wait"`
	BreakerMaxWait time.Duration `yaml:"breaker_max_wait"`
	// AdminTokenEnv names the environment variable holding the admin
	// page's token; default SWITCHYARD_ADMIN_TOKEN.
	AdminTokenEnv string `yaml:"admin_token_env"`
	// AdminToken is read from AdminTokenEnv at load time; when that is
	// unset, the file's admin_token (the demo writes
	// "${SWITCHYARD_ADMIN_TOKEN:-demo}") applies. Empty disables the
	// admin page. Redacted hides it.
	AdminToken string `yaml:"admin_token"`
	// MaxInFlight bounds the routed requests (/ask, /v1/chat/completions)
	// served at once; beyond it a request is refused at once with 503.
	// Zero derives it from the providers' concurrency (admission.go).
	MaxInFlight int `yaml:"max_in_flight"`
	// PprofAddr, when set, serves net/http/pprof (/debug/pprof/) on a
	// separate loopback listener for profiling under load; empty (the
	// default) serves nothing.
	PprofAddr string `yaml:"pprof_addr"`
	// RequireKeys makes /ask, /v1/* and /feedback take only requests
	// with a live API key (switchyard keys create). The embedded
	// production config turns it on; a file that says nothing leaves it
	// off, and serve warns.
	RequireKeys bool `yaml:"require_keys"`
}

// Keys configures API keys' budgets and shared counters (package keys).
type Keys struct {
	// SyncInterval is how often each replica adds its usage counts to the
	// shared ones and reads everyone's, and reloads keys (a revocation
	// takes effect within it). Two replicas may overspend a budget by
	// about this long of traffic.
	SyncInterval time.Duration `yaml:"sync_interval"`
	// KeepQualityFloor is the quality goal pacing relaxes a key to at
	// most, for keys that set no --keep-quality.
	KeepQualityFloor float64 `yaml:"keep_quality_floor"`
	// PaceStep is how far ahead of pace, as a share of the budget, each
	// further relaxation step is taken.
	PaceStep float64 `yaml:"pace_step"`
	// MaxSteps is the relaxation step at which the floor is reached (a
	// complexity level per step with a bucket table).
	MaxSteps int `yaml:"max_steps"`
}

// DefaultKeys syncs every second, floor 0.8, a step per 10% ahead, two
// steps.
func DefaultKeys() Keys {
	return Keys{SyncInterval: time.Second, KeepQualityFloor: 0.8, PaceStep: 0.1, MaxSteps: 2}
}

// Provider is one OpenAI-compatible endpoint.
type Provider struct {
	Name    string `yaml:"name"`
	BaseURL string `yaml:"base_url"`
	// Kind selects the parameter dialect: openai, anthropic, groq,
	// ollama, vllm or openai-compatible (the default).
	Kind string `yaml:"kind"`
	// APIKeyEnv names the environment variable holding the key; empty for
	// providers that need none (Ollama, vLLM, the demo upstream).
	APIKeyEnv         string `yaml:"api_key_env"`
	RequestsPerMinute int    `yaml:"requests_per_minute"` // 0: unlimited
	MaxConcurrency    int    `yaml:"max_concurrency"`     // 0: unlimited

	// APIKey is read from APIKeyEnv at load time. It is never printed:
	// see Redacted and LogValue.
	APIKey string `yaml:"-"`
}

// Model is one model and its price.
type Model struct {
	Name          string   `yaml:"name"`
	Provider      string   `yaml:"provider"`
	InputPerMTok  *float64 `yaml:"input_per_mtok"`
	OutputPerMTok *float64 `yaml:"output_per_mtok"`
	ContextWindow int      `yaml:"context_window"`
	// Capabilities; unset ones take DefaultCapabilities(Name).
	Tools           *bool `yaml:"tools"`
	Vision          *bool `yaml:"vision"`
	JSONSchema      *bool `yaml:"json_schema"`
	MaxOutputTokens *int  `yaml:"max_output_tokens"`
}

// Classifier configures the LLM classifier tier and its cache.
type Classifier struct {
	// Model is the configured model that classifies; empty disables the
	// LLM tier (the heuristic classifier answers alone).
	Model     string        `yaml:"model"`
	Timeout   time.Duration `yaml:"timeout"`
	CacheSize int           `yaml:"cache_size"`
	// Local is the local classifier tier, asked before the LLM.
	Local Local `yaml:"local"`
}

// Local configures the local classifier tier: a model the learner trains
// on kept prompts (learner.keep_prompts) and stores with each table
// version.
type Local struct {
	// Enabled lets serve load the active version's model; without one
	// the tier is skipped.
	Enabled bool `yaml:"enabled"`
	// Threshold is the confidence a local answer needs to be used
	// without asking the LLM.
	Threshold float64 `yaml:"threshold"`
	// MinSamples is the labelled prompts the learner needs to train a
	// model, and each of the model's candidate heads needs before serve
	// trusts it.
	MinSamples int `yaml:"min_samples"`
	// LabelShare is the share of requests routed by a version's
	// per-prompt policy whose classification still asks the LLM when
	// the local tier is unsure, for category labels and drift; the rest
	// take the local answer (the policy needs no LLM to route).
	LabelShare float64 `yaml:"label_share"`
}

// DefaultLocal returns the local tier's defaults: enabled, threshold
// 0.8, 1,000 samples, 5% of policy-routed requests labelled.
func DefaultLocal() Local {
	return Local{Enabled: true, Threshold: 0.8, MinSamples: 1000, LabelShare: 0.05}
}

// validKinds are the provider dialects internal/provider knows.
var validKinds = map[string]bool{"openai": true, "anthropic": true, "groq": true, "ollama": true, "vllm": true, "openai-compatible": true}

// Default returns the embedded default configuration, keys read through
// getenv.
func Default(getenv func(string) string) (*Config, error) {
	return Parse(defaultYAML, getenv)
}

// Load reads the file at path, or the embedded default when path is empty.
func Load(path string, getenv func(string) string) (*Config, error) {
	if path == "" {
		return Default(getenv)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// LoadWithoutKeys is Load for commands that call no provider (learn,
// table, migrate, eval): everything is validated except that the
// providers' key variables are set.
func LoadWithoutKeys(path string, getenv func(string) string) (*Config, error) {
	if path == "" {
		return parse(defaultYAML, getenv, false)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(b, getenv, false)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse expands environment variables in b, decodes it strictly (unknown
// keys are errors), applies defaults, reads keys and validates.
func Parse(b []byte, getenv func(string) string) (*Config, error) {
	return parse(b, getenv, true)
}

func parse(b []byte, getenv func(string) string, requireKeys bool) (*Config, error) {
	expanded := os.Expand(string(b), func(name string) string {
		// ${VAR:-default}, as in the shell.
		if k, def, ok := strings.Cut(name, ":-"); ok {
			if v := getenv(k); v != "" {
				return v
			}
			return def
		}
		return getenv(name)
	})
	// Decoding fills only the keys present, so defaults set first stay
	// where the file says nothing (and an explicit zero is kept).
	c := Config{
		Learner:    DefaultLearner(),
		Classifier: Classifier{Local: DefaultLocal()},
		Routing:    Routing{KeepQuality: DefaultKeepQuality},
		Keys:       DefaultKeys(),
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(expanded)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	c.applyDefaults()
	c.DatabaseURL = getenv("DATABASE_URL")
	if t := getenv(c.Server.AdminTokenEnv); t != "" {
		c.Server.AdminToken = t
	}
	for i := range c.Providers {
		if env := c.Providers[i].APIKeyEnv; env != "" {
			c.Providers[i].APIKey = getenv(env)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if requireKeys {
		if err := c.CheckKeys(); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// CheckKeys reports every provider whose key variable is unset: only
// what calls a provider needs them.
func (c *Config) CheckKeys() error {
	var errs []error
	for _, p := range c.Providers {
		if p.APIKeyEnv != "" && p.APIKey == "" {
			errs = append(errs, fmt.Errorf("providers[%s].api_key_env: environment variable %s is not set", p.Name, p.APIKeyEnv))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) applyDefaults() {
	s := &c.Server
	if s.Addr == "" {
		s.Addr = ":8080"
	}
	// Only an unset (zero) value takes the default; a negative one is
	// refused by Validate rather than quietly replaced.
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 1 << 20
	}
	if s.RequestTimeout == 0 {
		s.RequestTimeout = 120 * time.Second
	}
	if s.AttemptTimeout == 0 {
		s.AttemptTimeout = 60 * time.Second
	}
	if s.FirstByteTimeout == 0 {
		s.FirstByteTimeout = DefaultFirstByteTimeout
	}
	if s.ShutdownTimeout == 0 {
		s.ShutdownTimeout = 30 * time.Second
	}
	if s.BreakerWait == 0 {
		s.BreakerWait = router.DefaultBreakerWait
	}
	if s.BreakerMaxWait == 0 {
		s.BreakerMaxWait = max(router.DefaultBreakerMaxWait, s.BreakerWait)
	}
	if s.AdminTokenEnv == "" {
		s.AdminTokenEnv = "SWITCHYARD_ADMIN_TOKEN"
	}
	for i := range c.Providers {
		if c.Providers[i].Kind == "" {
			c.Providers[i].Kind = "openai-compatible"
		}
	}
	if c.Classifier.Timeout == 0 {
		c.Classifier.Timeout = 3 * time.Second
	}
	if c.Classifier.CacheSize == 0 {
		c.Classifier.CacheSize = 10000
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = c.defaultMaxInFlight()
	}
}

// Validate checks cross-field consistency and names the offending key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	c.Server.validate(bad)
	if c.Classifier.Timeout < 0 {
		bad("classifier.timeout: %v: must be positive", c.Classifier.Timeout)
	}
	if c.Classifier.CacheSize < 0 {
		bad("classifier.cache_size: %d: must not be negative", c.Classifier.CacheSize)
	}

	providers := map[string]bool{}
	for i, p := range c.Providers {
		key := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "":
			bad("%s.name: must be set", key)
		case providers[p.Name]:
			bad("%s.name: duplicate provider %q", key, p.Name)
		}
		providers[p.Name] = true
		if err := checkBaseURL(p.BaseURL); err != nil {
			bad("providers[%s].base_url: %v", p.Name, err)
		}
		if !validKinds[p.Kind] {
			bad("providers[%s].kind: %q: want one of openai, anthropic, groq, ollama, vllm, openai-compatible", p.Name, p.Kind)
		}
		if p.RequestsPerMinute < 0 || p.MaxConcurrency < 0 {
			bad("providers[%s]: requests_per_minute and max_concurrency must not be negative", p.Name)
		}
	}

	models := map[string]bool{}
	for i, m := range c.Models {
		switch {
		case m.Name == "":
			bad("models[%d].name: must be set", i)
			continue
		case models[m.Name]:
			bad("models[%d].name: duplicate model %q", i, m.Name)
		}
		models[m.Name] = true
		if !providers[m.Provider] {
			bad("models[%s].provider: unknown provider %q", m.Name, m.Provider)
		}
		// A model without a price would look free and attract all traffic.
		if m.InputPerMTok == nil || m.OutputPerMTok == nil {
			bad("models[%s]: input_per_mtok and output_per_mtok must both be set (a model without a price is never free)", m.Name)
		} else if *m.InputPerMTok < 0 || *m.OutputPerMTok < 0 {
			bad("models[%s]: prices must not be negative", m.Name)
		}
		if m.ContextWindow < 0 {
			bad("models[%s].context_window: must not be negative", m.Name)
		}
		if m.MaxOutputTokens != nil && *m.MaxOutputTokens < 0 {
			bad("models[%s].max_output_tokens: must not be negative", m.Name)
		}
	}

	if len(c.Routing.Table) == 0 {
		bad("routing: must list candidate models for simple, moderate and complex")
	}
	for bucket, names := range c.Routing.Table {
		// A bucket is a complexity, optionally refined by a category
		// ("complex/math"); router.Table.Validate has the full rule.
		complexity, _, _ := strings.Cut(bucket, "/")
		if _, err := router.ParseComplexity(complexity); err != nil || complexity != strings.ToLower(complexity) {
			bad("routing.%s: want simple, moderate or complex, optionally /category", bucket)
			continue
		}
		seen := map[string]bool{}
		for _, n := range names {
			if !models[n] {
				bad("routing.%s: unknown model %q", bucket, n)
			}
			if seen[n] {
				bad("routing.%s: model %q listed twice (a fallback cycle)", bucket, n)
			}
			seen[n] = true
		}
	}
	for _, b := range router.Complexities {
		if len(c.Routing.Table[string(b)]) == 0 && len(c.Routing.Table) > 0 {
			bad("routing.%s: no candidate models", b)
		}
	}
	if len(errs) == 0 {
		// Catch what the per-key checks above do not (malformed category).
		if err := c.Table().Validate(c.Catalog()); err != nil {
			bad("routing: %v", err)
		}
	}
	if q := c.Routing.KeepQuality; !(q > 0 && q <= 1) {
		bad("routing.keep_quality: %v: want a share of baseline_model's quality in (0, 1]", q)
	}
	if c.Exploration < 0 || c.Exploration >= 0.5 {
		bad("exploration: %v: want a share in [0, 0.5)", c.Exploration)
	}
	if c.Baseline == "" {
		bad("baseline_model: must be set")
	} else if !models[c.Baseline] {
		bad("baseline_model: unknown model %q", c.Baseline)
	}
	if c.Classifier.Model != "" && !models[c.Classifier.Model] {
		bad("classifier.model: unknown model %q", c.Classifier.Model)
	}
	if l := c.Classifier.Local; !(l.Threshold > 0 && l.Threshold <= 1) {
		bad("classifier.local.threshold: %v: want a value in (0, 1]", l.Threshold)
	}
	if l := c.Classifier.Local.LabelShare; !(l >= 0 && l <= 1) {
		bad("classifier.local.label_share: %v: want a value in [0, 1]", l)
	}
	if c.Classifier.Local.MinSamples < 1 {
		bad("classifier.local.min_samples: %d: must be at least 1", c.Classifier.Local.MinSamples)
	}
	if c.Server.MaxInFlight < 0 {
		bad("server.max_in_flight: %d: must not be negative (0 derives it from the providers)", c.Server.MaxInFlight)
	}
	if err := validatePprofAddr(c.Server.PprofAddr); err != nil {
		bad("server.pprof_addr: %v", err)
	}
	c.Learner.validate(bad)
	if k := c.Keys; k.SyncInterval < 10*time.Millisecond || k.SyncInterval > time.Minute {
		bad("keys.sync_interval: %v: want 10ms to 1m", k.SyncInterval)
	}
	if k := c.Keys; !(k.KeepQualityFloor >= 0 && k.KeepQualityFloor <= 1) {
		bad("keys.keep_quality_floor: %v: want a share in [0, 1]", k.KeepQualityFloor)
	}
	if k := c.Keys; !(k.PaceStep > 0 && k.PaceStep <= 1) {
		bad("keys.pace_step: %v: want a share in (0, 1]", k.PaceStep)
	}
	if c.Keys.MaxSteps < 0 {
		bad("keys.max_steps: %d: must not be negative", c.Keys.MaxSteps)
	}
	return errors.Join(errs...)
}

// DefaultFirstByteTimeout is how long an attempt waits for a provider's
// first byte by default: far above a healthy provider's time to first
// token (well under a second to a few seconds), far below the attempt
// timeout a silent upstream would otherwise cost.
const DefaultFirstByteTimeout = 10 * time.Second

// validate appends the server section's errors: durations must be
// positive and fit inside each other.
func (s Server) validate(bad func(format string, args ...any)) {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"request_timeout", s.RequestTimeout},
		{"attempt_timeout", s.AttemptTimeout},
		{"first_byte_timeout", s.FirstByteTimeout},
		{"shutdown_timeout", s.ShutdownTimeout},
		{"breaker_wait", s.BreakerWait},
		{"breaker_max_wait", s.BreakerMaxWait},
	} {
		if d.v <= 0 {
			bad("server.%s: %v: must be positive", d.key, d.v)
		}
	}
	if s.MaxBodyBytes < 0 {
		bad("server.max_body_bytes: %d: must not be negative", s.MaxBodyBytes)
	}
	if s.FirstByteTimeout > 0 && s.AttemptTimeout > 0 && s.FirstByteTimeout > s.AttemptTimeout {
		bad("server.first_byte_timeout: %v: must not exceed attempt_timeout (%v)", s.FirstByteTimeout, s.AttemptTimeout)
	}
	if s.BreakerWait > 0 && s.BreakerMaxWait > 0 && s.BreakerWait > s.BreakerMaxWait {
		bad("server.breaker_wait: %v: must not exceed breaker_max_wait (%v)", s.BreakerWait, s.BreakerMaxWait)
	}
}

// checkBaseURL accepts an absolute http(s) URL with a host. The value
// is echoed only once it is known to carry no credentials.
func checkBaseURL(raw string) error {
	if raw == "" {
		return errors.New("must be set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL")
	}
	if u.User != nil {
		return errors.New("must not carry credentials (use api_key_env)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an absolute http:// or https:// URL", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q: has no host", raw)
	}
	return nil
}

// Catalog returns the models as the router sees them.
func (c *Config) Catalog() router.Catalog {
	cat := make(router.Catalog, len(c.Models))
	for i, m := range c.Models {
		cat[m.Name] = router.Model{
			Name:          m.Name,
			Provider:      m.Provider,
			InputPerMTok:  deref(m.InputPerMTok),
			OutputPerMTok: deref(m.OutputPerMTok),
			ContextWindow: m.ContextWindow,
			Capabilities:  m.Capabilities(),
			Order:         i,
		}
	}
	return cat
}

// Table returns the static routing table.
func (c *Config) Table() router.Table {
	t := make(router.Table, len(c.Routing.Table))
	for b, names := range c.Routing.Table {
		t[b] = append([]string(nil), names...)
	}
	return t
}

// Provider returns the provider called name.
func (c *Config) Provider(name string) (Provider, bool) {
	for _, p := range c.Providers {
		if p.Name == name {
			return p, true
		}
	}
	return Provider{}, false
}

// Redacted returns a copy safe to log or show: keys replaced.
func (c *Config) Redacted() Config {
	r := *c
	r.Providers = append([]Provider(nil), c.Providers...)
	for i := range r.Providers {
		if r.Providers[i].APIKey != "" {
			r.Providers[i].APIKey = "[redacted]"
		}
	}
	if r.Server.AdminToken != "" {
		r.Server.AdminToken = "[redacted]"
	}
	r.DatabaseURL = RedactURL(c.DatabaseURL)
	return r
}

// RedactURL hides the password in a database URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}
