package riverhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// loopback lets the SSRF guard reach httptest servers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// request is what the receiver saw.
type request struct {
	header  http.Header
	body    []byte
	payload webhook.Outgoing
}

// receiver is an httptest endpoint that answers with respond and sends each
// request on reqs.
type receiver struct {
	srv  *httptest.Server
	reqs chan request

	mu      sync.Mutex
	respond func(r request, n int) (code int, header http.Header)
	n       map[string]int // Requests per webhook-id.
}

func newReceiver(t *testing.T, respond func(r request, n int) (int, http.Header)) *receiver {
	t.Helper()
	rc := &receiver{reqs: make(chan request, 100), respond: respond, n: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rq := request{header: r.Header.Clone(), body: body}
		_ = json.Unmarshal(body, &rq.payload)
		rc.mu.Lock()
		id := r.Header.Get(webhook.HeaderID)
		rc.n[id]++
		n := rc.n[id]
		respond := rc.respond
		rc.mu.Unlock()
		code, h := http.StatusOK, http.Header(nil)
		if respond != nil {
			code, h = respond(rq, n)
		}
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		select {
		case rc.reqs <- rq:
		default:
			t.Errorf("receiver: channel full")
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next request, failing after a generous deadline (a
// bound for a broken test, not a timing assertion).
func (rc *receiver) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-rc.reqs:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("no request")
		return request{}
	}
}

// openQueue opens a queue on a new schema with a guard that allows
// loopback, a short schedule and fast polling.
func openQueue(t *testing.T, cfg riverhook.Config) *riverhook.Queue {
	t.Helper()
	q, _ := openQueuePool(t, cfg)
	return q
}

// openQueuePool is openQueue, also returning the pool.
func openQueuePool(t *testing.T, cfg riverhook.Config) (*riverhook.Queue, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Pool(t)
	if cfg.Sender == nil {
		cfg.Sender = &hookqueue.Sender{AllowNetworks: loopback, Timeout: 5 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	q, err := riverhook.Open(context.Background(), pool, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return q, pool
}

// run runs q until the test ends.
func run(t *testing.T, q *riverhook.Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
}

func job(id, url string) riverhook.Job {
	return riverhook.Job{
		WebhookID: id,
		Account:   "mjl",
		URL:       url,
		Secrets:   []string{testSecret},
		Payload:   webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: 7, Recipient: "rcpt@example.org"},
	}
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func tcompare[T comparable](t *testing.T, got, exp T, msg string) {
	t.Helper()
	if got != exp {
		t.Fatalf("%s: got %v, expected %v", msg, got, exp)
	}
}

// events subscribes to the job events of q, before Run.
func events(t *testing.T, q *riverhook.Queue) <-chan *river.Event {
	t.Helper()
	ch, cancel := q.Client().Subscribe(river.EventKindJobCancelled, river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobSnoozed)
	t.Cleanup(cancel)
	return ch
}

// nextEvent waits for the next job event and checks its kind.
func nextEvent(t *testing.T, ch <-chan *river.Event, kind river.EventKind) *river.Event {
	t.Helper()
	select {
	case e := <-ch:
		if e.Kind != kind {
			t.Fatalf("event %s for job %d, expected %s", e.Kind, e.Job.ID, kind)
		}
		return e
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s event", kind)
		return nil
	}
}

// zeros is a Rand of zero bytes: jitter factor 0.9 exactly.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// tWriter writes logs to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(b))
	return len(b), nil
}
