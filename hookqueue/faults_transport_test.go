package hookqueue_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

type hookResult struct {
	hook    hookqueue.Hook
	retired bool
}

// faultQueue is a hookqueue.Queue on a fresh database with a settable clock,
// zero jitter, and its results on a channel.
type faultQueue struct {
	t       *testing.T
	db      *bstore.DB
	q       *hookqueue.Queue
	clock   *queuetest.Clock
	results chan hookResult
}

func newFaultQueue(t *testing.T, dir string, rt http.RoundTripper) *faultQueue {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(dir, "webhook.db"), nil, hookqueue.DBTypes()...)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	fq := &faultQueue{t: t, db: db, clock: queuetest.NewClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)), results: make(chan hookResult, 100)}
	fq.q = &hookqueue.Queue{
		DB:        db,
		Transport: rt,
		Now:       fq.clock.Now,
		After:     fq.clock.After,
		Rand:      hookqueue.NoJitter(),
		OnResult:  func(h hookqueue.Hook, retired bool) { fq.results <- hookResult{h, retired} },
	}
	return fq
}

// start runs the worker until the test ends, or until the returned stop
// is called.
func (fq *faultQueue) start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fq.q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				fq.t.Errorf("run: %v", err)
			}
		})
	}
	fq.t.Cleanup(stop)
	return stop
}

func (fq *faultQueue) enqueue(url string) hookqueue.Hook {
	fq.t.Helper()
	h := hookqueue.Hook{Account: "acc", URL: url, Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: 7}}
	err := fq.db.Write(context.Background(), func(tx *bstore.Tx) error { return fq.q.Enqueue(tx, h) })
	if err != nil {
		fq.t.Fatalf("enqueue: %v", err)
	}
	fq.q.Kick()
	l, err := bstore.QueryDB[hookqueue.Hook](context.Background(), fq.db).List()
	if err != nil || len(l) != 1 {
		fq.t.Fatalf("listing hooks: %v, %d", err, len(l))
	}
	return l[0]
}

// next waits for the next committed result.
func (fq *faultQueue) next() hookResult {
	fq.t.Helper()
	select {
	case r := <-fq.results:
		return r
	case <-time.After(20 * time.Second):
		fq.t.Fatalf("no result")
		return hookResult{}
	}
}

// TestFaultTransportBacksOff fails every request after the endpoint got it
// (the response is lost) while the clock moves in steps of 15 seconds: the
// worker retries on its schedule, never faster than once a minute, records
// each request as an attempt, and once the transport works the hook is
// delivered with the same webhook-id as every earlier try.
func TestFaultTransportBacksOff(t *testing.T) {
	srv := hookqueue.NewReceiver(t, 0)
	f := &queuetest.Fault{Late: true}
	fq := newFaultQueue(t, t.TempDir(), queuetest.FaultyTransport{Next: srv.Transport(), Fault: f})
	fq.enqueue(srv.URL)
	stop := fq.start()

	const step = 15 * time.Second
	start := fq.clock.Now()
	schedule := hookqueue.DefaultSchedule()
	const failures = 6
	for attempt := 1; attempt <= failures; attempt++ {
		r := fq.next()
		if r.retired || r.hook.Attempts != int64(attempt) {
			t.Fatalf("result %d: retired %v, attempts %d", attempt, r.retired, r.hook.Attempts)
		}
		lr := r.hook.LastResult()
		if lr.Success || !strings.Contains(lr.Error, queuetest.ErrInjected.Error()) {
			t.Fatalf("attempt %d: result %+v, want the injected error", attempt, lr)
		}
		now := fq.clock.Now()
		if wait := r.hook.NextAttempt.Sub(now); wait < schedule[attempt-1]*9/10 {
			t.Fatalf("attempt %d: next attempt in %v, schedule says %v", attempt, wait, schedule[attempt-1])
		}
		for fq.clock.Now().Before(r.hook.NextAttempt) {
			fq.clock.Advance(step)
			fq.q.Kick()
			elapsed := fq.clock.Now().Sub(start)
			if limit := 1 + int(elapsed/time.Minute); f.Calls() > limit {
				t.Fatalf("after %v: %d requests, more than %d (one a minute)", elapsed, f.Calls(), limit)
			}
		}
	}
	f.Heal()
	r := fq.next()
	if !r.retired || r.hook.Attempts != failures+1 || !r.hook.LastResult().Success {
		t.Fatalf("after the transport healed: retired %v, attempts %d, result %+v", r.retired, r.hook.Attempts, r.hook.LastResult())
	}
	stop()
	if f.Calls() != failures+1 || f.Failed() != failures {
		t.Fatalf("transport calls %d, failed %d: every request is a recorded attempt", f.Calls(), f.Failed())
	}
	ids := srv.IDs()
	if len(ids) != failures+1 {
		t.Fatalf("endpoint saw %d requests, want %d", len(ids), failures+1)
	}
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("webhook-ids %v: not one id for every try", ids)
		}
	}
}
