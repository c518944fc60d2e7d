package hookqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/bouncekit/bouncekit/webhook"
)

const (
	secret1 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secret2 = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24="
)

// A delivery is signed per Standard Webhooks with every secret, carries the
// same idempotency key on each attempt, and is retried after a 500.
func TestDeliverSigned(t *testing.T) {
	type req struct {
		header http.Header
		body   []byte
	}
	reqs := make(chan req, 10)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs <- req{r.Header.Clone(), body}
		if n.Add(1) == 1 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()

	h := newHarness(t, nil)
	h.clk.now = time.Now().Truncate(time.Second) // The reference verifier checks timestamps against time.Now.
	hk := testHook(srv.URL)
	hk.Authorization = "Bearer token"
	hk.Secrets = []string{secret1, secret2}
	hk.Payload.Extra = map[string]string{"userid": "456"}
	hooks := h.enqueue(hk)
	h.start()

	r := h.next()
	tcompare(t, r.retired, false, "retired after 500")
	tcompare(t, r.hook.Attempts, int64(1), "attempts")
	tcompare(t, r.hook.LastResult().Code, int64(500), "code")
	tcompare(t, r.hook.LastResult().Response, "try again\n", "response")
	tcompare(t, r.hook.NextAttempt, h.clk.Now().Add(time.Minute), "next attempt")
	h.advance(time.Minute)
	r = h.next()
	tcompare(t, r.retired, true, "retired after 200")

	first, second := <-reqs, <-reqs
	for i, rq := range []req{first, second} {
		for _, s := range hk.Secrets {
			wh, err := standardwebhooks.NewWebhook(s)
			tcheck(t, err, "new verifier")
			tcheck(t, wh.Verify(rq.body, rq.header), "verify signature")
		}
		tcompare(t, rq.header.Get("Content-Type"), "application/json; charset=utf-8", "content-type")
		tcompare(t, rq.header.Get("User-Agent"), DefaultUserAgent, "user-agent")
		tcompare(t, rq.header.Get("Authorization"), "Bearer token", "authorization")
		tcompare(t, rq.header.Get("webhook-id"), webhookID(hooks[0].ID), "webhook-id")
		tcompare(t, rq.header.Get("Idempotency-Key"), webhookID(hooks[0].ID), "idempotency-key")
		tcompare(t, rq.header.Get("X-Mox-Webhook-Attempt"), fmt.Sprint(i+1), "mox attempt header")
		var p webhook.Outgoing
		tcheck(t, json.Unmarshal(rq.body, &p), "parse payload")
		tcompare(t, p.Attempt, int64(i+1), "payload attempt")
		tcompare(t, p.Event, webhook.EventDelivered, "payload event")
		tcompare(t, p.Extra["userid"], "456", "payload extra")
	}
	// A wrong secret does not verify.
	wh, _ := standardwebhooks.NewWebhook("whsec_d3Jvbmcgc2VjcmV0")
	if err := wh.Verify(first.body, first.header); err == nil {
		t.Fatalf("wrong secret verified")
	}

	ret := h.retired()
	tcompare(t, len(ret), 1, "retired hooks")
	tcompare(t, ret[0].RetireReason, RetiredDelivered, "outcome")
	tcompare(t, len(ret[0].Results), 2, "results")
	tcompare(t, ret[0].Authorization, true, "authorization recorded")
	tcompare(t, ret[0].Signed, true, "signed recorded")
	tcompare(t, len(h.pending()), 0, "pending")
}

// Endpoints that fail in every way end with the hook retried or retired as
// documented, and leave no goroutines behind.
func TestFailingEndpoints(t *testing.T) {
	type check func(t *testing.T, h *harness, r result)
	retried := func(code int64, errSub string, after time.Duration) check {
		return func(t *testing.T, h *harness, r result) {
			t.Helper()
			tcompare(t, r.retired, false, "retired")
			tcompare(t, r.hook.Attempts, int64(1), "attempts")
			tcompare(t, r.hook.LastResult().Code, code, "code")
			tcompare(t, r.hook.LastResult().Success, false, "success")
			if !contains(r.hook.LastResult().Error, errSub) {
				t.Fatalf("error %q does not contain %q", r.hook.LastResult().Error, errSub)
			}
			tcompare(t, r.hook.NextAttempt, h.clk.Now().Add(after), "next attempt")
			tcompare(t, len(h.pending()), 1, "pending")
		}
	}

	release := make(chan struct{})
	var bigWritten atomic.Int64
	redirectTargetHit := make(chan struct{}, 1)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		url     func(srvURL string) string
		timeout time.Duration
		check   check
	}{
		{
			name: "refused",
			url: func(string) string {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				tcheck(t, err, "listen")
				addr := l.Addr().String()
				l.Close()
				return "http://" + addr + "/"
			},
			check: retried(0, "refused", time.Minute),
		},
		{
			name:    "500",
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "broken", 500) },
			check:   retried(500, "status 500", time.Minute),
		},
		{
			name: "429 retry-after seconds",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			check: func(t *testing.T, h *harness, r result) {
				retried(429, "status 429", 120*time.Second)(t, h, r)
				tcompare(t, r.hook.LastResult().RetryAfter, 120*time.Second, "retry-after")
			},
		},
		{
			name: "429 retry-after past any integer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "99999999999999999999")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			check: func(t *testing.T, h *harness, r result) {
				retried(429, "status 429", DefaultMaxRetryAfter)(t, h, r)
				tcompare(t, r.hook.LastResult().RetryAfter, DefaultMaxRetryAfter, "retry-after")
			},
		},
		{
			name: "503 retry-after date",
			handler: func(w http.ResponseWriter, r *http.Request) {
				// The fake clock starts at 2024-03-27T00:00:00Z.
				w.Header().Set("Retry-After", "Wed, 27 Mar 2024 01:00:00 GMT")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			check: retried(503, "status 503", time.Hour),
		},
		{
			name:    "410 gone",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) },
			check: func(t *testing.T, h *harness, r result) {
				tcompare(t, r.retired, true, "retired")
				ret := h.retired()
				tcompare(t, len(ret), 1, "retired")
				tcompare(t, ret[0].RetireReason, RetiredGone, "outcome")
				tcompare(t, ret[0].Success, false, "success")
				tcompare(t, ret[0].Attempts, int64(1), "attempts")
				tcompare(t, len(h.pending()), 0, "pending")
			},
		},
		{
			name: "hang past timeout",
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body) // Lets the server notice the client closing.
				select {
				case <-release:
				case <-r.Context().Done(): // The client gave up and closed the connection.
				}
			},
			timeout: 50 * time.Millisecond,
			check:   retried(0, "deadline exceeded", time.Minute),
		},
		{
			name: "redirect",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/target" {
					redirectTargetHit <- struct{}{}
					return
				}
				http.Redirect(w, r, "/target", http.StatusFound)
			},
			check: func(t *testing.T, h *harness, r result) {
				retried(302, "not followed", time.Minute)(t, h, r)
				select {
				case <-redirectTargetHit:
					t.Fatalf("redirect was followed")
				default:
				}
			},
		},
		{
			name: "100 MB body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				chunk := make([]byte, 64*1024)
				for i := range chunk {
					chunk[i] = 'a' + byte(i%26)
				}
				for bigWritten.Load() < 100<<20 {
					n, err := w.Write(chunk)
					bigWritten.Add(int64(n))
					if err != nil {
						return
					}
				}
			},
			check: func(t *testing.T, h *harness, r result) {
				tcompare(t, r.retired, true, "retired")
				ret := h.retired()
				tcompare(t, ret[0].RetireReason, RetiredDelivered, "outcome")
				tcompare(t, len(ret[0].LastResult().Response), responseKeep, "stored response length")
				tcompare(t, ret[0].LastResult().Response[:3], "abc", "stored response")
			},
		},
		{
			name: "close mid-response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, bw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
				bw.Flush()
				conn.Close()
			},
			check: retried(200, "reading response", time.Minute),
		},
		{
			name: "close before response",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
			},
			check: retried(0, "EOF", time.Minute),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			url := ""
			var srv *httptest.Server
			if tc.handler != nil {
				srv = httptest.NewServer(tc.handler)
				url = srv.URL + "/hook"
			}
			if tc.url != nil {
				url = tc.url(url)
			}
			h := newHarness(t, func(q *Queue) { q.Timeout = tc.timeout })
			h.enqueue(testHook(url))
			h.start()
			r := h.next()
			h.stop()
			tc.check(t, h, r)
			if srv != nil {
				srv.CloseClientConnections()
				srv.Close()
			}
			checkNoLeak(t, before)
		})
	}
	close(release)
	if n := bigWritten.Load(); n >= 100<<20 {
		t.Fatalf("server wrote the whole 100 MB body (%d bytes): body was not capped", n)
	}
}

// The jitter is drawn from Queue.Rand: +-10% of the delay, none when the
// reader fails.
func TestJitter(t *testing.T) {
	const d = 100 * time.Second
	for _, tc := range []struct {
		name string
		rand io.Reader
		want time.Duration
	}{
		{"lowest", RepeatReader{0}, 90 * time.Second},
		{"middle", NoJitter(), d},
		{"quarter", RepeatReader{0x40, 0, 0, 0, 0, 0, 0, 0}, 95 * time.Second},
		{"highest", RepeatReader{0xff}, 110 * time.Second}, // 0.9+0.2*(1-2^-53) rounds to 1.1.
		{"failing reader", iotest.ErrReader(errors.New("no randomness")), d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &Queue{Rand: tc.rand}
			tcompare(t, q.jitter(d), tc.want, "delay")
		})
	}
	// The default, crypto/rand, stays within the range.
	q := &Queue{}
	for range 100 {
		if got := q.jitter(d); got < 90*time.Second || got > 110*time.Second {
			t.Fatalf("jitter %v out of range", got)
		}
	}
}

// After every attempt of the schedule fails, the hook is retired as failed.
func TestScheduleExhausted(t *testing.T) {
	srv := NewReceiver(t, http.StatusInternalServerError)
	h := newHarness(t, func(q *Queue) {
		q.Schedule = []time.Duration{time.Minute, 2 * time.Minute}
		q.Rand = RepeatReader{0} // -10% jitter.
	})
	h.enqueue(testHook(srv.URL))
	h.start()
	start := h.clk.Now()
	r := h.next()
	tcompare(t, r.hook.NextAttempt, start.Add(54*time.Second), "first retry")
	h.advance(54 * time.Second)
	r = h.next()
	tcompare(t, r.hook.Attempts, int64(2), "attempts")
	tcompare(t, r.hook.NextAttempt, start.Add(54*time.Second+108*time.Second), "second retry")
	h.advance(107 * time.Second) // Not yet due.
	h.q.Kick()
	h.advance(time.Second)
	r = h.next()
	tcompare(t, r.retired, true, "retired")
	ret := h.retired()
	tcompare(t, ret[0].RetireReason, RetiredFailed, "outcome")
	tcompare(t, len(ret[0].Results), 3, "results")
	tcompare(t, srv.Total(), 3, "requests")
}

// The SSRF guard refuses loopback unless allowed, also through a name,
// without contacting the server, and the hook is not retried.
func TestGuardRefuses(t *testing.T) {
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	h := newHarness(t, func(q *Queue) { q.AllowNetworks = nil })
	h.enqueue(testHook(srv.URL), testHook("http://localhost:"+port+"/"))
	h.start()
	for range 2 {
		r := h.next()
		tcompare(t, r.retired, true, "retired")
		if !contains(r.hook.LastResult().Error, "not allowed") {
			t.Fatalf("error %q", r.hook.LastResult().Error)
		}
	}
	for _, r := range h.retired() {
		tcompare(t, r.RetireReason, RetiredRefused, "outcome")
	}
	tcompare(t, hit.Load(), false, "server contacted")
}

// A hanging endpoint uses at most Concurrency connections and does not
// delay hooks for other endpoints. At shutdown its requests are abandoned:
// recorded as interrupted, still due, no attempt counted.
func TestSlowEndpointIsolated(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var cur, peak atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		cur.Add(-1)
	}))
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h := newHarness(t, func(q *Queue) {
		q.Concurrency = 2
		q.ShutdownTimeout = 10 * time.Millisecond
	})
	var hooks []Hook
	for range 10 {
		hooks = append(hooks, testHook(slow.URL))
	}
	for range 5 {
		hooks = append(hooks, testHook(fast.URL))
	}
	h.enqueue(hooks...)
	h.start()
	for range 5 {
		r := h.next()
		tcompare(t, r.hook.URL, fast.URL, "delivered url")
		tcompare(t, r.retired, true, "retired")
	}
	h.stop()
	if p := peak.Load(); p > 2 {
		t.Fatalf("%d concurrent requests to one url, max 2", p)
	}
	pending := h.pending()
	tcompare(t, len(pending), 10, "pending")
	interrupted := 0
	for _, p := range pending {
		tcompare(t, p.Attempts, int64(0), "attempts")
		if !p.NextAttempt.After(h.clk.Now()) && len(p.Results) == 1 && p.Results[0].Interrupted {
			interrupted++
		} else if len(p.Results) != 0 {
			t.Fatalf("unexpected results %v", p.Results)
		}
	}
	if interrupted == 0 || interrupted > 2 {
		t.Fatalf("%d interrupted attempts, expected 1 or 2", interrupted)
	}
	close(release)
	slow.Close()
	fast.Close()
	checkNoLeak(t, before)
}

// Cancelling Run waits for a request in flight and records its result.
func TestShutdownWaits(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
	}))
	defer srv.Close()
	h := newHarness(t, func(q *Queue) { q.ShutdownTimeout = time.Minute })
	h.enqueue(testHook(srv.URL))
	h.start()
	<-arrived
	h.cancel()
	close(release)
	tcheck(t, <-h.runDone, "run")
	h.cancel = nil
	ret := h.retired()
	tcompare(t, len(ret), 1, "retired")
	tcompare(t, ret[0].RetireReason, RetiredDelivered, "outcome")
}

// A second Run on the same Queue is refused while the first is active.
func TestRunTwice(t *testing.T) {
	srv := NewReceiver(t, 0)
	h := newHarness(t, nil)
	h.enqueue(testHook(srv.URL))
	h.start()
	h.next() // Run is active.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.q.Run(ctx); err == nil {
		t.Fatalf("second run started")
	}
	var q Queue
	if err := q.Run(context.Background()); err == nil {
		t.Fatalf("run without db started")
	}
}
