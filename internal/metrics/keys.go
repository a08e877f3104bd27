package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/router"
)

// maxKeyLabels caps the key names that become label values; later keys
// are counted under "other", so a deployment with many keys cannot blow
// up the series count.
const maxKeyLabels = 100

// Label values for requests without a key and for keys past the cap.
const (
	noKeyLabel    = "none"
	otherKeyLabel = "other"
)

// keyMetrics are requests and spend by API key.
type keyMetrics struct {
	requests *prometheus.CounterVec
	cost     *prometheus.CounterVec
	paced    *prometheus.CounterVec

	mu   sync.Mutex
	seen map[string]bool
}

func newKeyMetrics(reg *prometheus.Registry) *keyMetrics {
	k := &keyMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_key_requests_total", Help: "Served requests by API key name (the first 100 keys seen; later ones as \"other\"; \"none\" without a key).",
		}, []string{"key"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_key_cost_micros_total", Help: "Spend in micro-USD by API key name (capped as switchyard_key_requests_total).",
		}, []string{"key"}),
		paced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_key_paced_total", Help: "Requests routed to cheaper models to keep their key's budget on pace, by API key name.",
		}, []string{"key"}),
		seen: map[string]bool{},
	}
	reg.MustRegister(k.requests, k.cost, k.paced)
	return k
}

// label is the key's label value within the cap.
func (k *keyMetrics) label(name string) string {
	if name == "" {
		return noKeyLabel
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen[name] {
		return name
	}
	if len(k.seen) >= maxKeyLabels {
		return otherKeyLabel
	}
	k.seen[name] = true
	return name
}

func (k *keyMetrics) observe(rec router.Record) {
	l := k.label(rec.Key)
	k.requests.WithLabelValues(l).Inc()
	k.cost.WithLabelValues(l).Add(float64(rec.Cost))
	if rec.Budget == router.BudgetPacing {
		k.paced.WithLabelValues(l).Inc()
	}
}
