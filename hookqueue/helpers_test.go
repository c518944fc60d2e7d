package hookqueue

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/webhook"
)

// fakeClock is a manual clock. After channels fire when Advance passes
// their deadline. The worker recomputes its wait after a Kick, so tests
// call Advance and then Kick.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 3, 27, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	l := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			l = append(l, w)
		} else {
			w.c <- c.now
		}
	}
	c.waiters = l
}

// RepeatReader returns its bytes over and over: a fixed Queue.Rand. Each
// retry reads 8 bytes, so an 8-byte RepeatReader gives the same jitter
// every time.
type RepeatReader []byte

func (r RepeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r[i%len(r)]
	}
	return len(p), nil
}

// NoJitter returns a Queue.Rand for exact retry times: it gives 0.5, the
// middle of the jitter range.
func NoJitter() RepeatReader { return RepeatReader{0x80, 0, 0, 0, 0, 0, 0, 0} }

type result struct {
	hook    Hook
	retired bool
}

// harness is a Queue on a fresh database with a fake clock and zero
// jitter, allowing 127.0.0.1.
type harness struct {
	t       testing.TB
	path    string // Of the database file.
	db      *bstore.DB
	q       *Queue
	clk     *fakeClock
	results chan result
	cancel  context.CancelFunc
	runDone chan error
}

func newHarness(t testing.TB, configure func(q *Queue)) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "webhook.db")
	db, err := bstore.Open(context.Background(), path, nil, DBTypes()...)
	tcheck(t, err, "open db")
	h := &harness{t: t, path: path, db: db, clk: newFakeClock(), results: make(chan result, 1000)}
	h.q = &Queue{
		DB:            db,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		Now:           h.clk.Now,
		After:         h.clk.After,
		Rand:          NoJitter(),
		OnResult:      func(hk Hook, retired bool) { h.results <- result{hk, retired} },
	}
	if configure != nil {
		configure(h.q)
	}
	t.Cleanup(func() {
		h.stop()
		if err := db.Close(); err != nil {
			t.Errorf("closing db: %v", err)
		}
	})
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.runDone = make(chan error, 1)
	go func() { h.runDone <- h.q.Run(ctx) }()
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.runDone; err != nil {
		h.t.Errorf("run: %v", err)
	}
}

func (h *harness) enqueue(hooks ...Hook) []Hook {
	h.t.Helper()
	err := h.db.Write(context.Background(), func(tx *bstore.Tx) error {
		return h.q.Enqueue(tx, hooks...)
	})
	tcheck(h.t, err, "enqueue")
	h.q.Kick()
	return hooks
}

// next waits for the next committed result.
func (h *harness) next() result {
	h.t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(20 * time.Second):
		h.t.Fatalf("no result")
		return result{}
	}
}

// advance moves the clock and wakes the worker.
func (h *harness) advance(d time.Duration) {
	h.clk.Advance(d)
	h.q.Kick()
}

func (h *harness) pending() []Hook {
	h.t.Helper()
	l, err := bstore.QueryDB[Hook](context.Background(), h.db).SortAsc("ID").List()
	tcheck(h.t, err, "list hooks")
	return l
}

func (h *harness) retired() []HookRetired {
	h.t.Helper()
	l, err := bstore.QueryDB[HookRetired](context.Background(), h.db).SortAsc("ID").List()
	tcheck(h.t, err, "list retired")
	return l
}

func testHook(url string) Hook {
	return Hook{
		Account: "acc",
		URL:     url,
		Payload: webhook.Outgoing{Event: webhook.EventDelivered, QueueMsgID: 101, MessageID: "<m1@example.org>", SMTPCode: 250},
	}
}

func tcheck(t testing.TB, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func tcompare[T comparable](t testing.TB, got, exp T, msg string) {
	t.Helper()
	if got != exp {
		t.Fatalf("%s: got %v, expected %v", msg, got, exp)
	}
}

// checkNoLeak fails if goroutines started during the test are still
// running. Closing connections ends goroutines asynchronously, so it
// yields until the count drops, for at most a few seconds.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		runtime.Gosched()
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

var allowLoopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// logRecord is a log record as a test sees it.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

// logSink is a slog.Handler that passes records of level Info and above
// to a channel, so tests wait on what the queue logs.
type logSink struct {
	c chan logRecord
}

func newLogSink() *logSink { return &logSink{c: make(chan logRecord, 1000)} }

func (s *logSink) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	lr := logRecord{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value
		return true
	})
	select {
	case s.c <- lr:
	default: // Dropped; a test waiting for it fails in next.
	}
	return nil
}

func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

// next returns the next record with message msg, skipping others.
func (s *logSink) next(t testing.TB, msg string) logRecord {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case r := <-s.c:
			if r.msg == msg {
				return r
			}
		case <-timeout:
			t.Fatalf("no log record %q", msg)
			return logRecord{}
		}
	}
}
