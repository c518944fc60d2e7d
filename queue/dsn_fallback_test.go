package queue_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// TestDSNComposeFallback checks that a value the DSN composer refuses (a
// remote MTA that is no host name) does not make FailMsgs fail: the DSN is
// composed without it, and a Unicode host name becomes A-labels in the
// DSN's Message-ID.
func TestDSNComposeFallback(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.DSNComposer = nil // The default composer, package dsn.
	e.h.Hostname = "mäil.example.org"
	reg := prometheus.NewRegistry()
	metrics, err := queue.NewMetrics(reg)
	tcheck(t, err, "metrics")
	e.h.Metrics = metrics
	m := e.add(nil, "x@example.com")[0]
	m.Attempt.RemoteMTA = "mx.example.com:25"
	out := e.fail([]queue.Msg{m}, permErr())
	tcompare(t, out[0].DSN, queue.DSNFailed, "dsn")

	ob := e.outbox()
	tcompare(t, len(ob), 1, "outbox")
	if !strings.HasSuffix(ob[0].MessageID, "@xn--mil-qla.example.org") {
		t.Fatalf("dsn message-id %q, want the A-label host", ob[0].MessageID)
	}
	msg, _, err := dsn.Parse(bytes.NewReader(ob[0].Data))
	tcheck(t, err, "parse dsn")
	tcompare(t, len(msg.Recipients), 1, "recipients")
	tcompare(t, msg.Recipients[0].FinalRecipient, "x@example.com", "recipient")
	tcompare(t, msg.Recipients[0].RemoteMTA, "", "remote mta left out")
	tcompare(t, plainCounter(t, reg, "bouncekit_queue_dsn_compose_fallback_total"), 1.0, "fallbacks")
}
