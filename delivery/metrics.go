package delivery

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/internal/promreg"
	"github.com/bouncekit/bouncekit/queue"
)

// Metrics are the Client's Prometheus collectors. A nil *Metrics counts
// nothing.
type Metrics struct {
	results     *prometheus.CounterVec // Per message, by status.
	connections *prometheus.CounterVec // Connection attempts, by result.
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered; on an error none stays registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_delivery_results_total",
			Help: "Delivery results per message, by status (delivered, failed, not-tried).",
		}, []string{"status"}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_delivery_connections_total",
			Help: "Connection attempts to SMTP servers, by result (ok, failed, tls-failed, no-requiretls).",
		}, []string{"result"}),
	}
	if err := promreg.Register(reg, "delivery", m.results, m.connections); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) countResults(results []queue.AttemptResult) {
	if m == nil {
		return
	}
	for _, r := range results {
		m.results.WithLabelValues(string(r.Status)).Inc()
	}
}

func (m *Metrics) countConnection(result string) {
	if m == nil {
		return
	}
	m.connections.WithLabelValues(result).Inc()
}
