package queue

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/internal/promreg"
	"github.com/bouncekit/bouncekit/webhook"
)

// Metrics are the Handler's Prometheus collectors. A nil *Metrics counts
// nothing.
type Metrics struct {
	failures      *prometheus.CounterVec // By reason and permanence.
	dsnQueue      *prometheus.CounterVec // DSNs queued, by kind.
	dsnFallbacks  prometheus.Counter     // DSNs composed again without optional fields.
	dsnDelivery   *prometheus.CounterVec // Outbox deliveries, by result.
	retiredMsgs   *prometheus.CounterVec // Messages retired, by event.
	suppressions  *prometheus.CounterVec // Failures that suppressed, by new/existing entry.
	reportFails   *prometheus.CounterVec // Failed DMARC/TLS reports, by kind (as mox's mox_queue_dmarcreport_failure_total).
	hooks         prometheus.Counter     // Webhooks queued.
	hooksSkipped  prometheus.Counter     // Webhooks not queued: invalid account webhook settings.
	retiredRemove prometheus.Counter     // Retired messages removed by cleanup.
	incoming      *prometheus.CounterVec // Reports given to ProcessIncoming, by kind.
	incomingOuts  *prometheus.CounterVec // Their per-recipient outcomes, by event.
}

// NewMetrics creates the collectors and registers them with reg (nil: not
// registered, e.g. for tests; on an error none stays registered). Nothing
// is registered on the default registry unless passed as reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_failures_total",
			Help: "Failed delivery attempts reported to FailMsgs or Attempted, per message, by reason and permanence.",
		}, []string{"reason", "permanent"}),
		dsnQueue: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_dsn_queued_total",
			Help: "DSNs composed and stored in the outbox, by kind (delayed, failed).",
		}, []string{"kind"}),
		dsnFallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bouncekit_queue_dsn_compose_fallback_total",
			Help: "DSNs the composer refused, composed again without the original, remote MTA and ORCPT.",
		}),
		dsnDelivery: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_dsn_delivery_total",
			Help: "Attempts to hand outbox DSNs to the DSNDeliverer, by result (ok, error, dropped).",
		}, []string{"result"}),
		retiredMsgs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_retired_total",
			Help: "Messages that left the queue, by event (delivered, failed, suppressed, canceled, ...).",
		}, []string{"event"}),
		suppressions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_suppressing_total",
			Help: "Final failures the suppression policy suppressed, by whether the entry was new.",
		}, []string{"new"}),
		reportFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_report_failure_total",
			Help: "Permanent failures to deliver an outgoing DMARC or TLS report, by kind.",
		}, []string{"kind"}),
		hooks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bouncekit_queue_hooks_queued_total",
			Help: "Webhooks queued by the Handler.",
		}),
		hooksSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bouncekit_queue_hooks_skipped_total",
			Help: "Webhooks not queued because the account's webhook URL or signing secret is invalid.",
		}),
		retiredRemove: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bouncekit_queue_retired_cleanup_total",
			Help: "Retired messages removed by cleanup after their keep period.",
		}),
		incoming: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_incoming_total",
			Help: "Messages given to ProcessIncoming, by kind (dsn, bounce, feedback, autoreply, other).",
		}, []string{"kind"}),
		incomingOuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bouncekit_queue_incoming_outcomes_total",
			Help: "Per-recipient outcomes of ProcessIncoming, by event (failed, delayed, delivered, complained, unrecognized, ...; duplicate for a report seen before).",
		}, []string{"event"}),
	}
	err := promreg.Register(reg, "queue", m.failures, m.dsnQueue, m.dsnFallbacks, m.dsnDelivery, m.retiredMsgs, m.suppressions, m.reportFails, m.hooks, m.hooksSkipped, m.retiredRemove, m.incoming, m.incomingOuts)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) failure(f bounce.Failure) {
	if m != nil {
		m.failures.WithLabelValues(string(f.Reason), fmt.Sprint(f.Permanent)).Inc()
	}
}

func (m *Metrics) dsnQueued(kind DSNKind) {
	if m != nil {
		m.dsnQueue.WithLabelValues(string(kind)).Inc()
	}
}

func (m *Metrics) dsnFallback() {
	if m != nil {
		m.dsnFallbacks.Inc()
	}
}

func (m *Metrics) dsnDelivered(result string) {
	if m != nil {
		m.dsnDelivery.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) retired(event webhook.OutgoingEvent) {
	if m != nil {
		m.retiredMsgs.WithLabelValues(string(event)).Inc()
	}
}

func (m *Metrics) suppressed(added bool) {
	if m != nil {
		m.suppressions.WithLabelValues(fmt.Sprint(added)).Inc()
	}
}

func (m *Metrics) reportFailure(msg Msg) {
	if m == nil {
		return
	}
	kind := "tls"
	if msg.IsDMARCReport {
		kind = "dmarc"
	}
	m.reportFails.WithLabelValues(kind).Inc()
}

func (m *Metrics) hooksQueued(n int) {
	if m != nil {
		m.hooks.Add(float64(n))
	}
}

func (m *Metrics) hookSkipped() {
	if m != nil {
		m.hooksSkipped.Inc()
	}
}

func (m *Metrics) cleanedUp(n int) {
	if m != nil {
		m.retiredRemove.Add(float64(n))
	}
}

func (m *Metrics) incomingReport(res IncomingResult) {
	if m == nil {
		return
	}
	m.incoming.WithLabelValues(string(res.Kind)).Inc()
	for _, o := range res.Recipients {
		event := string(o.Event)
		if o.Duplicate {
			event = "duplicate"
		}
		m.incomingOuts.WithLabelValues(event).Inc()
	}
}
