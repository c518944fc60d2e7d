package hookqueue

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/internal/promreg"
)

// Metrics are the Prometheus collectors of a webhook Queue. Create them once
// per registry with NewMetrics and set Queue.Metrics; a nil *Metrics turns
// metrics off. Queues sharing a Metrics share the counters; the gauges then
// show the queue that updated them last.
type Metrics struct {
	requestDuration prometheus.Histogram
	results         *prometheus.CounterVec
	queueSize       prometheus.Gauge
	oldestAge       prometheus.Gauge
	commitBatch     prometheus.Histogram
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered, e.g. for tests; the metrics still count; on an error none
// stays registered):
//
//   - bouncekit_webhook_request_duration_seconds: histogram of HTTP request
//     durations, including reading the (capped) response body.
//   - bouncekit_webhook_results_total{class}: attempts by result: "2xx",
//     "3xx", "4xx", "5xx", "error" (no response) or "refused" (SSRF guard or
//     invalid URL).
//   - bouncekit_webhook_queue_size: pending hooks.
//   - bouncekit_webhook_oldest_pending_age_seconds: age of the oldest
//     pending hook, 0 when the queue is empty.
//   - bouncekit_webhook_commit_batch_size: histogram of attempt results
//     written per transaction (group commit).
//
// The gauges are refreshed by Queue.Run, at most once per StatsInterval,
// or by another queue with SetQueue.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bouncekit_webhook_request_duration_seconds",
			Help:    "Duration of webhook HTTP requests.",
			Buckets: []float64{0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30},
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_webhook_results_total",
			Help: "Webhook delivery attempts by result class (2xx, 3xx, 4xx, 5xx, error, refused).",
		}, []string{"class"}),
		queueSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bouncekit_webhook_queue_size",
			Help: "Pending webhooks.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bouncekit_webhook_oldest_pending_age_seconds",
			Help: "Age of the oldest pending webhook.",
		}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bouncekit_webhook_commit_batch_size",
			Help:    "Attempt results written per database transaction.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
		}),
	}
	if err := promreg.Register(reg, "hookqueue", m.requestDuration, m.results, m.queueSize, m.oldestAge, m.commitBatch); err != nil {
		return nil, err
	}
	return m, nil
}

// resultClass is the label value of bouncekit_webhook_results_total.
func resultClass(r HookResult, refused bool) string {
	switch {
	case refused:
		return "refused"
	case r.Code >= 200 && r.Code < 600:
		return strconv.FormatInt(r.Code/100, 10) + "xx"
	default:
		return "error"
	}
}

func (m *Metrics) observeAttempt(r HookResult, refused bool) {
	if m == nil {
		return
	}
	m.requestDuration.Observe(r.Duration.Seconds())
	m.results.WithLabelValues(resultClass(r, refused)).Inc()
}

// ObserveAttempt counts one recorded attempt, for a queue other than
// Queue.Run that delivers with a Sender, as Run counts its own: a try with
// VerdictNoConn never reached the endpoint and is not counted.
func (m *Metrics) ObserveAttempt(r HookResult, v Verdict) {
	if v == VerdictNoConn {
		return
	}
	m.observeAttempt(r, v == VerdictRefused)
}

func (m *Metrics) observeBatch(n int) {
	if m == nil {
		return
	}
	m.commitBatch.Observe(float64(n))
}

// SetQueue sets the queue size and oldest-age gauges, for a queue other
// than Queue.Run that keeps its pending hooks elsewhere, as Run sets them
// from its own table. A nil *Metrics does nothing.
func (m *Metrics) SetQueue(size int, oldest time.Duration) {
	m.setQueue(size, oldest)
}

func (m *Metrics) setQueue(size int, oldest time.Duration) {
	if m == nil {
		return
	}
	m.queueSize.Set(float64(size))
	m.oldestAge.Set(oldest.Seconds())
}
