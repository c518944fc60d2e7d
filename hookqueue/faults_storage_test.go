package hookqueue_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// countLog counts log records by message, and passes those named wait on
// a channel.
type countLog struct {
	wait string
	c    chan struct{}

	mu     sync.Mutex
	counts map[string]int
}

func (l *countLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *countLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.counts[r.Message]++
	l.mu.Unlock()
	if r.Message == l.wait {
		l.c <- struct{}{}
	}
	return nil
}
func (l *countLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *countLog) WithGroup(string) slog.Handler      { return l }

func (l *countLog) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[msg]
}

// TestFaultStorageWorker runs the worker on a database that refuses every
// transaction (closed). Loading due hooks fails, is logged, and is tried
// again after a second of the clock, not sooner: the worker does not
// spin while the clock moves in steps of 250ms for a minute.
func TestFaultStorageWorker(t *testing.T) {
	fq := newFaultQueue(t, t.TempDir(), nil)
	fq.enqueue("http://127.0.0.1:1/hook")
	if err := fq.db.Close(); err != nil {
		t.Fatalf("close db: %v", err)
	}
	const msg = "hookqueue: loading due hooks"
	logs := &countLog{wait: msg, c: make(chan struct{}, 1000), counts: map[string]int{}}
	fq.q.Logger = slog.New(logs)
	stop := fq.start()

	// After a failed load the worker sets its timer from the clock it
	// read; the clock moves only once that timer is pending, so the
	// timer is not set past the step the test waits at.
	waitLoad := func(what string) {
		t.Helper()
		select {
		case <-logs.c:
		case <-time.After(20 * time.Second):
			t.Fatalf("no failed load %s", what)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := fq.clock.WaitTimers(ctx, 1); err != nil {
			t.Fatalf("worker not waiting on the clock %s: %v", what, err)
		}
	}
	waitLoad("at start")
	start := fq.clock.Now()
	last := start
	const step, span = 250 * time.Millisecond, time.Minute
	for fq.clock.Now().Sub(start) < span {
		fq.clock.Advance(step)
		if now := fq.clock.Now(); now.Sub(last) >= time.Second {
			waitLoad("after " + now.Sub(start).String())
			last = now
		}
	}
	stop()
	// One a second, and one more for the Kick of the enqueue.
	got, limit := logs.count(msg), 2+int(span/time.Second)
	if got > limit {
		t.Fatalf("%d failed loads in %v, more than %d (one a second)", got, span, limit)
	}
	t.Logf("%d failed loads in %v", got, span)
}
