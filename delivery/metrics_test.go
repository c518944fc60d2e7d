package delivery_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/delivery"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	met, err := delivery.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := delivery.NewMetrics(reg); err == nil {
		t.Fatal("second NewMetrics on one registry: no error")
	}
	b := &backend{script: script{rcpt: func(to string) error {
		if to == "unknown@example.org" {
			return reply(550, smtp.EnhancedCode{5, 1, 1}, "no such user")
		}
		return nil
	}}}
	addr, _ := startServer(t, b, nil)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, ""}, mxHost{"mx2.example.org", 20, addr})
	c.Metrics = met
	deliver(t, c, msgs("a@example.org", "unknown@example.org", "b@example.org"))
	want := map[string]float64{
		`bouncekit_delivery_results_total{status="delivered"}`:  2,
		`bouncekit_delivery_results_total{status="failed"}`:     1,
		`bouncekit_delivery_connections_total{result="failed"}`: 1,
		`bouncekit_delivery_connections_total{result="ok"}`:     1,
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()+"{"+m.GetLabel()[0].GetName()+`="`+m.GetLabel()[0].GetValue()+`"}`] = m.GetCounter().GetValue()
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
	if n := len(got); n != len(want) {
		t.Errorf("%d series, want %d", n, len(want))
	}
}

// Failures are logged at debug level with the message, recipient, stage
// and codes.
func TestLogFailures(t *testing.T) {
	b := &backend{script: script{rcpt: func(string) error { return reply(550, smtp.EnhancedCode{5, 1, 1}, "no such user") }}}
	addr, _ := startServer(t, b, nil)
	c, _, _ := newClient(t, mxHost{"mx1.example.org", 10, addr})
	var buf bytes.Buffer
	c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	deliver(t, c, msgs("a@example.org"))
	want := `msg="delivery: failed" msgid=1 recipient=a@example.org remote=mx1.example.org stage=rcpt code=550 enhanced=5.1.1`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("log\n%s\nwants a line with\n%s", buf.String(), want)
	}
}
