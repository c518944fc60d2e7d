package riverhook_test

import (
	"context"
	"net/http"
	"sync"
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

// fakeClock is a clock a test advances, with a timer the test fires: each
// After call is sent on calls, so the test knows the refresh before it is
// done and the next one is waited for.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	calls chan time.Duration
	tick  chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, calls: make(chan time.Duration, 10), tick: make(chan time.Time)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.calls <- d
	return c.tick
}

// waitRefresh waits until the stats loop has refreshed the gauges and
// armed its timer.
func (c *fakeClock) waitRefresh(t *testing.T, interval time.Duration) {
	t.Helper()
	select {
	case d := <-c.calls:
		tcompare(t, d, interval, "timer duration")
	case <-time.After(30 * time.Second):
		t.Fatalf("no gauge refresh")
	}
}

// gauges reads the queue size and oldest-age gauges from reg.
func gauges(t *testing.T, reg *prometheus.Registry) (size, age float64) {
	t.Helper()
	mfs, err := reg.Gather()
	tcheck(t, err, "gather")
	found := 0
	for _, mf := range mfs {
		switch mf.GetName() {
		case "bouncekit_webhook_queue_size":
			size = mf.GetMetric()[0].GetGauge().GetValue()
			found++
		case "bouncekit_webhook_oldest_pending_age_seconds":
			age = mf.GetMetric()[0].GetGauge().GetValue()
			found++
		}
	}
	tcompare(t, found, 2, "gauges found")
	return size, age
}

// Run sets the queue gauges from River's table on the injected clock:
// pending jobs of its own queue only (not another queue's in the same
// table), the oldest by Submitted, refreshed when the timer fires, and
// zero once nothing is pending.
func TestMetricsQueueGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := hookqueue.NewMetrics(reg)
	tcheck(t, err, "metrics")
	rc := newReceiver(t, func(request, int) (int, http.Header) {
		return http.StatusInternalServerError, nil
	})
	t0 := time.Now().Truncate(time.Second)
	clock := newFakeClock(t0)
	const interval = 20 * time.Second
	q, pool := openQueuePool(t, riverhook.Config{
		Metrics:       m,
		Now:           clock.Now,
		After:         clock.After,
		StatsInterval: interval,
		Schedule:      []time.Duration{time.Hour}, // Failed jobs stay pending.
		Rand:          zeros{},
	})
	other, err := riverhook.Open(context.Background(), pool, riverhook.Config{Queue: "other", Now: clock.Now})
	tcheck(t, err, "open other queue")
	ctx := context.Background()

	a, b, c := job("a", rc.srv.URL), job("b", rc.srv.URL), job("c", rc.srv.URL)
	a.Submitted = t0.Add(-90 * time.Second)
	b.Submitted = t0.Add(-30 * time.Second)
	c.Submitted = t0.Add(-time.Hour) // Older, but in another queue.
	c.Account = "other"              // Left alone by the Cancel below.
	_, err = q.Insert(ctx, a, b)
	tcheck(t, err, "insert")
	_, err = other.Insert(ctx, c)
	tcheck(t, err, "insert other")

	ev := events(t, q)
	run(t, q)
	clock.waitRefresh(t, interval)
	size, age := gauges(t, reg)
	tcompare(t, size, 2.0, "size at start")
	tcompare(t, age, 90.0, "age at start")

	// Both attempts fail: retryable an hour later, still pending.
	nextEvent(t, ev, river.EventKindJobFailed)
	nextEvent(t, ev, river.EventKindJobFailed)
	clock.advance(10 * time.Second)
	clock.tick <- clock.Now()
	clock.waitRefresh(t, interval)
	size, age = gauges(t, reg)
	tcompare(t, size, 2.0, "size after failures")
	tcompare(t, age, 100.0, "age after failures")

	n, err := q.Cancel(ctx, hookqueue.Filter{Account: "mjl"})
	tcheck(t, err, "cancel")
	tcompare(t, n, 2, "canceled")
	clock.tick <- clock.advance(time.Second)
	clock.waitRefresh(t, interval)
	size, age = gauges(t, reg)
	tcompare(t, size, 0.0, "size when empty")
	tcompare(t, age, 0.0, "age when empty")
}
