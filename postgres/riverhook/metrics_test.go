package riverhook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
)

// The worker counts its attempts in the same collectors as the bstore
// queue, by result class.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := hookqueue.NewMetrics(reg)
	tcheck(t, err, "metrics")
	rc := newReceiver(t, func(r request, _ int) (int, http.Header) {
		if r.header.Get("webhook-id") == "gone" {
			return http.StatusGone, nil
		}
		return http.StatusOK, nil
	})
	q := openQueue(t, riverhook.Config{Metrics: m})
	ev := events(t, q)
	_, err = q.Insert(context.Background(), job("ok", rc.srv.URL), job("gone", rc.srv.URL))
	tcheck(t, err, "insert")
	run(t, q)
	seen := map[river.EventKind]int{}
	for range 2 {
		select {
		case e := <-ev:
			seen[e.Kind]++
		case <-time.After(30 * time.Second):
			t.Fatalf("no event")
		}
	}
	tcompare(t, seen[river.EventKindJobCompleted], 1, "completed")
	tcompare(t, seen[river.EventKindJobCancelled], 1, "cancelled")
	mfs, err := reg.Gather()
	tcheck(t, err, "gather")
	classes := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "bouncekit_webhook_results_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			classes[mt.GetLabel()[0].GetValue()] = mt.GetCounter().GetValue()
		}
	}
	tcompare(t, classes["2xx"], 1.0, "2xx")
	tcompare(t, classes["4xx"], 1.0, "4xx")
}
