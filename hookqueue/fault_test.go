package hookqueue

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// raiseTo sets p to v if v is larger.
func raiseTo(p *atomic.Int32, v int32) {
	for {
		old := p.Load()
		if v <= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

// Sixteen URLs on one loopback host share the host's connections. Requests
// in flight to the host are limited to the connections the transport
// keeps, so no first attempt is spent waiting for a connection: every hook
// is delivered at its first attempt, and every recorded attempt is a
// request the endpoint saw.
func TestManyURLsOneHost(t *testing.T) {
	const urls, perURL = 16, 4
	var mu sync.Mutex
	seen := map[string]int{} // Requests by webhook-id.
	var cur, peak atomic.Int32
	full := make(chan struct{})
	fullOnce := sync.OnceFunc(func() { close(full) })
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		c := cur.Add(1)
		defer cur.Add(-1)
		raiseTo(&peak, c)
		if c == DefaultHostConcurrency {
			fullOnce()
		}
		// Held until the host is full, so a request waiting for a
		// connection would wait past the timeout.
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer releaseOnce()

	h := newHarness(t, func(q *Queue) { q.Timeout = 5 * time.Second })
	var hooks []Hook
	for i := range urls {
		for range perURL {
			hooks = append(hooks, testHook(fmt.Sprintf("%s/app%d", srv.URL, i)))
		}
	}
	h.enqueue(hooks...)
	h.start()
	fullC := (<-chan struct{})(full)
	for delivered := 0; delivered < len(hooks); {
		select {
		case <-fullC:
			fullC = nil
			releaseOnce()
		case r := <-h.results:
			releaseOnce() // Requests timed out before the host was full.
			if r.retired {
				delivered++
			} else {
				h.advance(time.Minute)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d hooks delivered", delivered, len(hooks))
		}
	}
	h.stop()

	mu.Lock()
	defer mu.Unlock()
	ret := h.retired()
	tcompare(t, len(ret), len(hooks), "retired hooks")
	for _, r := range ret {
		tcompare(t, r.RetireReason, RetiredDelivered, "outcome")
		tcompare(t, len(r.Results), seen[webhookID(r.ID)], fmt.Sprintf("hook %d: recorded attempts vs requests the endpoint saw", r.ID))
		tcompare(t, r.Attempts, int64(1), fmt.Sprintf("hook %d: attempts", r.ID))
	}
	tcompare(t, peak.Load(), int32(DefaultHostConcurrency), "requests in flight to the host")
}

// A request that times out while waiting for a connection never reached
// the endpoint: it is not counted as an attempt, and the hook is tried
// again. Here the host's own traffic holds the only connection of a
// shared Transport.
func TestConnectionWaitNotCounted(t *testing.T) {
	held := make(chan struct{})
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	var hookRequests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/host-traffic" {
			close(held)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		hookRequests.Add(1)
	}))
	defer srv.Close()
	defer releaseOnce()

	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hostDone := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/host-traffic")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		hostDone <- err
	}()
	<-held

	logs := newLogSink()
	h := newHarness(t, func(q *Queue) {
		q.Transport = tr
		q.Timeout = 100 * time.Millisecond
		q.Logger = slog.New(logs)
	})
	h.enqueue(testHook(srv.URL + "/hook"))
	h.start()
	const msg = "hookqueue: no connection to the endpoint before the timeout, not counted as an attempt"
wait:
	for {
		select {
		case rec := <-logs.c:
			if rec.msg == msg {
				tcompare(t, rec.level, slog.LevelWarn, "level")
				break wait
			}
		case r := <-h.results:
			t.Fatalf("waiting for a connection was recorded as attempt %d: %q", r.hook.Attempts, r.hook.LastResult().Error)
		case <-time.After(20 * time.Second):
			t.Fatalf("no log record %q", msg)
		}
	}
	releaseOnce()
	tcheck(t, <-hostDone, "host request")

	r := h.next()
	tcompare(t, r.retired, true, "retired")
	tcompare(t, r.hook.Attempts, int64(1), "attempts")
	tcompare(t, len(r.hook.Results), 1, "results")
	tcompare(t, r.hook.LastResult().Code, int64(200), "code")
	tcompare(t, hookRequests.Load(), int32(1), "requests the endpoint saw")
}

// While the database refuses the results, the committer retries them with
// a doubling delay, no new request starts, and a hook the endpoint
// acknowledged is not POSTed again; once the write succeeds, the
// acknowledged result is the one recorded.
func TestCommitFailureBacksOff(t *testing.T) {
	srv := NewReceiver(t, 0)
	count := srv.Count

	logs := newLogSink()
	h := newHarness(t, func(q *Queue) { q.Logger = slog.New(logs) })
	a := h.enqueue(testHook(srv.URL))[0]
	// A history record with the hook's ID makes every transaction that
	// retires the hook fail, as a full disk would.
	conflict := HookRetired{ID: a.ID, Account: "acc", URL: srv.URL, KeepUntil: h.clk.Now().AddDate(1, 0, 0)}
	tcheck(t, h.db.Insert(context.Background(), &conflict), "insert conflicting record")
	h.start()

	var b Hook
	for i, delay := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		rec := logs.next(t, "hookqueue: recording results")
		tcompare(t, count(a.ID), 1, fmt.Sprintf("failure %d: requests for the acknowledged hook", i+1))
		tcompare(t, rec.level, slog.LevelError, "level")
		if v, ok := rec.attrs["retry"]; !ok || v.Kind() != slog.KindDuration || v.Duration() != delay {
			t.Fatalf("failure %d: retry attribute %v, expected %v", i+1, v, delay)
		}
		switch i {
		case 1:
			b = h.enqueue(testHook(srv.URL))[0]
		case 3:
			tcompare(t, count(b.ID), 0, "requests started while results cannot be recorded")
			tcheck(t, h.db.Delete(context.Background(), &conflict), "remove conflicting record")
		}
		h.advance(delay)
	}

	r := h.next()
	tcompare(t, r.hook.ID, a.ID, "first result")
	tcompare(t, r.retired, true, "retired")
	tcompare(t, r.hook.Attempts, int64(1), "attempts")
	tcompare(t, len(r.hook.Results), 1, "results")
	tcompare(t, r.hook.LastResult().Code, int64(200), "code")
	r = h.next()
	tcompare(t, r.hook.ID, b.ID, "second result")
	tcompare(t, r.retired, true, "retired")
	tcompare(t, count(a.ID), 1, "requests for the first hook")
	tcompare(t, count(b.ID), 1, "requests for the second hook")
	ret := h.retired()
	tcompare(t, len(ret), 2, "retired")
	for _, r := range ret {
		tcompare(t, r.RetireReason, RetiredDelivered, "outcome")
	}
}

// Results the database still refuses when Run stops are dropped after
// ShutdownTimeout: the hook stays due, and the next Run delivers it again
// (at least once).
func TestCommitFailureAtShutdown(t *testing.T) {
	srv := NewReceiver(t, 0)
	logs := newLogSink()
	h := newHarness(t, func(q *Queue) {
		q.Logger = slog.New(logs)
		q.ShutdownTimeout = 10 * time.Millisecond
	})
	a := h.enqueue(testHook(srv.URL))[0]
	conflict := HookRetired{ID: a.ID, Account: "acc", URL: srv.URL, KeepUntil: h.clk.Now().AddDate(1, 0, 0)}
	tcheck(t, h.db.Insert(context.Background(), &conflict), "insert conflicting record")
	h.start()
	logs.next(t, "hookqueue: recording results")
	h.stop()
	rec := logs.next(t, "hookqueue: shutdown with results not recorded, their hooks will be delivered again")
	tcompare(t, rec.level, slog.LevelError, "level")
	tcompare(t, rec.attrs["count"].String(), "1", "count")
	p := h.pending()
	tcompare(t, len(p), 1, "pending")
	tcompare(t, p[0].Attempts, int64(0), "attempts")
	tcompare(t, len(p[0].Results), 0, "results")

	tcheck(t, h.db.Delete(context.Background(), &conflict), "remove conflicting record")
	h.start()
	r := h.next()
	tcompare(t, r.retired, true, "retired")
	tcompare(t, r.hook.Attempts, int64(1), "attempts")
	tcompare(t, srv.Total(), 2, "requests")
}

// net/http re-sends a replayable request (one with an Idempotency-Key
// header) on a new connection when a kept-alive one dies before the
// response. The endpoint may have read it, so the queue's requests are
// never replayed: each request the endpoint sees is a recorded attempt.
func TestNoReplayOnDeadConnection(t *testing.T) {
	type connKey struct{}
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		if r.Context().Value(connKey{}).(*atomic.Int32).Add(1) == 2 {
			// The second request on a kept-alive connection is read,
			// then the connection dies without an answer.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
		}
	}))
	srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, new(atomic.Int32))
	}
	srv.Start()
	defer srv.Close()

	tr := &http.Transport{MaxConnsPerHost: 1} // The second hook reuses the first's connection.
	defer tr.CloseIdleConnections()
	h := newHarness(t, func(q *Queue) {
		q.Transport = tr
		q.Concurrency = 1
	})
	hooks := h.enqueue(testHook(srv.URL), testHook(srv.URL))
	h.start()
	for delivered := 0; delivered < len(hooks); {
		r := h.next()
		if r.retired {
			delivered++
		} else {
			h.advance(time.Minute)
		}
	}
	h.stop()

	mu.Lock()
	defer mu.Unlock()
	ret := h.retired()
	tcompare(t, len(ret), 2, "retired")
	for _, r := range ret {
		tcompare(t, r.RetireReason, RetiredDelivered, "outcome")
		tcompare(t, len(r.Results), seen[webhookID(r.ID)], fmt.Sprintf("hook %d: recorded attempts vs requests the endpoint saw", r.ID))
	}
	tcompare(t, ret[1].ID, hooks[1].ID, "second hook")
	tcompare(t, len(ret[1].Results), 2, "second hook: the attempt on the dead connection, then the delivery")
}

// Giving up is logged at WARN with the account, the URL's host (not the
// whole URL, which may hold a token) and the last status.
func TestGiveUpLogged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		schedule []time.Duration
		outcome  RetireReason
	}{
		{"gone", http.StatusGone, nil, RetiredGone},
		{"schedule exhausted", http.StatusInternalServerError, []time.Duration{}, RetiredFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewReceiver(t, tc.status)
			logs := newLogSink()
			h := newHarness(t, func(q *Queue) {
				q.Logger = slog.New(logs)
				q.Schedule = tc.schedule
			})
			h.enqueue(testHook(srv.URL + "/hook?token=secret"))
			h.start()
			r := h.next()
			tcompare(t, r.retired, true, "retired")
			rec := logs.next(t, "hookqueue: giving up")
			tcompare(t, rec.level, slog.LevelWarn, "level")
			u, err := url.Parse(srv.URL)
			tcheck(t, err, "parse url")
			for k, exp := range map[string]string{
				"account": "acc",
				"host":    u.Host,
				"code":    fmt.Sprint(tc.status),
				"outcome": string(tc.outcome),
			} {
				tcompare(t, rec.attrs[k].String(), exp, k)
			}
			for k, v := range rec.attrs {
				if contains(v.String(), "secret") {
					t.Fatalf("attribute %s logs the url's token: %q", k, v)
				}
			}
		})
	}
}

// Retry-After is delay-seconds or an HTTP-date (RFC 9110 section 10.2.3);
// a delay too large for any integer type is capped, not ignored.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 3, 27, 0, 0, 0, 0, time.UTC)
	const max = 24 * time.Hour
	for _, tc := range []struct {
		in  string
		exp time.Duration
	}{
		{"", 0},
		{"120", 120 * time.Second},
		{"0", 0},
		{"86400", max},
		{"86401", max},
		{"9223372036854775807", max},
		{"9223372036854775808", max},  // One past int64.
		{"99999999999999999999", max}, // Far past int64.
		{"-1", 0},
		{"1.5", 0},
		{"12a", 0},
		{"Wed, 27 Mar 2024 01:00:00 GMT", time.Hour},
		{"Tue, 26 Mar 2024 23:00:00 GMT", 0}, // In the past.
		{"Fri, 31 Dec 9999 23:59:59 GMT", max},
		{"soon", 0},
	} {
		tcompare(t, parseRetryAfter(tc.in, now, max), tc.exp, fmt.Sprintf("parseRetryAfter(%q)", tc.in))
	}
}

// NewMetrics(nil) registers nothing and returns metrics that count.
func TestMetricsWithoutRegistry(t *testing.T) {
	m, err := NewMetrics(nil)
	tcheck(t, err, "new metrics")
	srv := NewReceiver(t, 0)
	h := newHarness(t, func(q *Queue) { q.Metrics = m })
	h.enqueue(testHook(srv.URL))
	h.start()
	h.next()
	h.stop()
	reg := prometheus.NewRegistry()
	tcheck(t, reg.Register(m.results), "register results")
	tcompare(t, gatherValues(t, reg)["bouncekit_webhook_results_total/2xx"], 1.0, "2xx results")
}
