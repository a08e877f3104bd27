// Package metrics exposes Switchyard's Prometheus metrics. Request
// metrics are derived from the records the service already keeps (a
// router.Recorder decorator), so the domain carries no metrics code and
// the numbers cannot disagree with the database.
package metrics

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard/switchyard/router"
)

// Metrics owns one registry; there is no global state.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	attempts     *prometheus.CounterVec
	tokens       *prometheus.CounterVec
	costMicros   *prometheus.CounterVec
	baseline     prometheus.Counter
	latency      *prometheus.HistogramVec
	classified   *prometheus.CounterVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	keys         *keyMetrics
	filtered     *prometheus.CounterVec
	traffic      *prometheus.CounterVec
}

// Gauges are read at scrape time from the running service.
type Gauges struct {
	// Pending is the number of records waiting for the database.
	Pending func() int
	// Providers reports each provider's health.
	Providers func() []router.ProviderHealth
	// TableVersion is the active routing-table version.
	TableVersion func() int64
	// BucketPSI is the day-over-day drift of the bucket mix by mix
	// ("complexity", "tier"); see store.BucketPSI.
	BucketPSI func() map[string]float64
	// InFlight is the routed requests being served now, and Refused
	// those admission control refused since start.
	InFlight func() int64
	Refused  func() uint64
	// RecordsRefused is the records the database refused as data and
	// the recorder left out (each logged with its id) since start: a
	// request served but missing from the database and its costs, which
	// only this counter shows without reading the logs.
	RecordsRefused func() int
}

// New registers every metric on a fresh registry.
func New(g Gauges) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_requests_total", Help: "Served requests by endpoint, complexity, answering model and status.",
		}, []string{"endpoint", "complexity", "model", "status"}),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_capability_filtered_total", Help: "Candidates routing dropped because they lack a capability the request needs, by model and capability.",
		}, []string{"model", "capability"}),
		traffic: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_traffic_total", Help: "Served requests by traffic class: tools offered or in the history, JSON output asked, images present, answered with a tool call.",
		}, []string{"tools", "json_output", "images", "tool_call_answer"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_attempts_total", Help: "Calls to models by model, provider and outcome (retries and escalations included).",
		}, []string{"model", "provider", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_tokens_total", Help: "Tokens billed by model and kind (prompt, completion).",
		}, []string{"model", "kind"}),
		costMicros: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_cost_micros_total", Help: "Spend in micro-USD by model.",
		}, []string{"model"}),
		baseline: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchyard_baseline_cost_micros_total", Help: "What the baseline model would have cost for the same tokens, in micro-USD.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_request_duration_seconds", Help: "End-to-end request latency by complexity.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 120},
		}, []string{"complexity"}),
		classified: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_classifications_total", Help: "Classifications by the tier that answered and whether it was a fallback.",
		}, []string{"tier", "fallback"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_http_requests_total", Help: "HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchyard_http_request_duration_seconds", Help: "HTTP request latency.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method"}),
	}
	m.keys = newKeyMetrics(reg)
	for _, c := range []prometheus.Collector{m.requests, m.attempts, m.tokens, m.costMicros, m.baseline, m.latency, m.classified, m.httpRequests, m.httpDuration, m.filtered, m.traffic} {
		f(c)
	}
	if g.Pending != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchyard_records_pending", Help: "Request records buffered, waiting for the database.",
		}, func() float64 { return float64(g.Pending()) }))
	}
	if g.RecordsRefused != nil {
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchyard_records_refused_total", Help: "Request records the database refused as data, left out of it and logged by id.",
		}, func() float64 { return float64(g.RecordsRefused()) }))
	}
	if g.TableVersion != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchyard_table_version", Help: "The routing-table version in use.",
		}, func() float64 { return float64(g.TableVersion()) }))
	}
	if g.InFlight != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchyard_requests_in_flight", Help: "Routed requests being served now (bounded by server.max_in_flight).",
		}, func() float64 { return float64(g.InFlight()) }))
	}
	if g.Refused != nil {
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchyard_requests_refused_total", Help: "Routed requests refused with 503 because server.max_in_flight were in flight.",
		}, func() float64 { return float64(g.Refused()) }))
	}
	if g.BucketPSI != nil {
		f(&psiCollector{psi: g.BucketPSI, desc: prometheus.NewDesc(
			"switchyard_bucket_psi", "Population stability index of today's bucket mix against yesterday's: below 0.1 stable, above 0.25 a major shift.",
			[]string{"mix"}, nil)})
	}
	if g.Providers != nil {
		f(&providerCollector{providers: g.Providers, desc: prometheus.NewDesc(
			"switchyard_provider_up", "1 when routing may call the provider, 0 while it cools down, its breaker is open or it is disabled.",
			[]string{"provider", "state"}, nil)})
	}
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Instrument counts and times every HTTP request h serves.
func (m *Metrics) Instrument(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(m.httpDuration.MustCurryWith(nil),
		promhttp.InstrumentHandlerCounter(m.httpRequests, h))
}

// Recorder returns a router.Recorder that updates the request metrics
// from each record, then hands it to next.
func (m *Metrics) Recorder(next router.Recorder) router.Recorder {
	return recorderFunc(func(ctx context.Context, rec router.Record) error {
		m.observe(rec)
		return next.Record(ctx, rec)
	})
}

func (m *Metrics) observe(rec router.Record) {
	m.keys.observe(rec)
	complexity := string(rec.Complexity)
	m.requests.WithLabelValues(rec.Endpoint, complexity, rec.Model, rec.Status).Inc()
	m.latency.WithLabelValues(complexity).Observe(float64(rec.LatencyMS) / 1000)
	if rec.Analysis.Tier != "" {
		m.classified.WithLabelValues(string(rec.Analysis.Tier), boolLabel(rec.Analysis.Fallback != "")).Inc()
	}
	for _, a := range rec.Attempts {
		m.attempts.WithLabelValues(a.Model, a.Provider, a.Status).Inc()
		m.tokens.WithLabelValues(a.Model, "prompt").Add(float64(a.PromptTokens))
		m.tokens.WithLabelValues(a.Model, "completion").Add(float64(a.CompletionTokens))
		m.costMicros.WithLabelValues(a.Model).Add(float64(a.Cost))
	}
	m.baseline.Add(float64(rec.BaselineCost))
	for _, f := range rec.Filtered {
		m.filtered.WithLabelValues(f.Model, f.Capability).Inc()
	}
	tr := rec.Traffic
	format := tr.JSONOutput
	if format == "" {
		format = "none"
	}
	m.traffic.WithLabelValues(boolLabel(tr.UsesTools), format, boolLabel(tr.HasImages), boolLabel(tr.ToolCallAnswer)).Inc()
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

type recorderFunc func(ctx context.Context, rec router.Record) error

func (f recorderFunc) Record(ctx context.Context, rec router.Record) error { return f(ctx, rec) }

// providerCollector reports provider health at scrape time.
type providerCollector struct {
	providers func() []router.ProviderHealth
	desc      *prometheus.Desc
}

func (c *providerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *providerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.providers() {
		up := 0.0
		if p.State == "ok" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, up, p.Provider, p.State)
	}
}

// psiCollector reports the bucket mix's drift at scrape time.
type psiCollector struct {
	psi  func() map[string]float64
	desc *prometheus.Desc
}

func (c *psiCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *psiCollector) Collect(ch chan<- prometheus.Metric) {
	for mix, v := range c.psi() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, mix)
	}
}
