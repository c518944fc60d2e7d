package hookqueue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/internal/randsrc"
	"github.com/bouncekit/bouncekit/webhook"
)

// DefaultSchedule is the delay before each retry after a failed attempt,
// the same as mox: 12 attempts in about 32 hours.
func DefaultSchedule() []time.Duration {
	return []time.Duration{
		time.Minute, 2 * time.Minute, 4 * time.Minute, 7*time.Minute + 30*time.Second,
		15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
		8 * time.Hour, 16 * time.Hour,
	}
}

// Defaults for zero Queue fields.
const (
	DefaultConcurrency     = 4
	DefaultHostConcurrency = 16
	DefaultMaxConcurrency  = 64
	DefaultTimeout         = 30 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultKeepRetired     = 7 * 24 * time.Hour
	DefaultCleanupInterval = time.Hour
	DefaultStatsInterval   = 15 * time.Second
	DefaultUserAgent       = "bouncekit-webhook/0"
	DefaultMaxRetryAfter   = 24 * time.Hour
)

// ErrNoDB is returned by the methods that open their own transaction, and
// by Run, when Queue.DB is nil.
var ErrNoDB = errors.New("hookqueue: no database")

// responseKeep is how much of a response body is stored in HookResult.
const responseKeep = 512

// Queue is the durable webhook queue and its delivery worker. Configure it
// with a struct literal; a zero field means the documented default. Fields
// must not be changed while Run is active.
type Queue struct {
	// DB is the host's database, opened with DBTypes registered. Run and
	// the methods without a Tx suffix use it; the Tx forms and Enqueue
	// take the caller's transaction instead.
	DB *bstore.DB

	// Transport makes the HTTP requests. Nil: an http.Transport without
	// proxy, dialing with NewDialer(AllowNetworks), with as many
	// connections per host as HostConcurrency allows requests. A custom
	// Transport bypasses the SSRF guard unless it dials with NewDialer,
	// and should keep HostConcurrency connections per host. Redirects are
	// never followed.
	Transport http.RoundTripper
	UserAgent string // Default DefaultUserAgent.

	// Schedule is the delay before retry n after failed attempt n. A hook
	// is given up after len(Schedule)+1 failed attempts. Nil:
	// DefaultSchedule(). Delays get +-10% jitter.
	Schedule []time.Duration

	Concurrency int // Requests in flight per URL. Default 4.

	// HostConcurrency limits requests in flight per host (scheme, host
	// and port) over all of its URLs. The default Transport keeps as many
	// connections per host, so no request waits for one. Default 16, or
	// Concurrency if that is larger.
	HostConcurrency int

	MaxConcurrency int // Requests in flight in total. Default 64.

	// Timeout bounds each request, including reading the capped body.
	// A request that got no connection within it (the Transport's were
	// all busy) never reached the endpoint: it is not counted as an
	// attempt. Default 30s.
	Timeout time.Duration

	ShutdownTimeout time.Duration // How long Run waits for in-flight requests after ctx is canceled. Default 10s.

	// MaxRetryAfter caps the delay a Retry-After header asks for, also
	// one too large for any integer type. Default 24h.
	MaxRetryAfter time.Duration

	// AllowNetworks are exempt from the SSRF guard, e.g. 10.0.0.0/8 for an
	// internal application, or 127.0.0.1/32 in tests.
	AllowNetworks []netip.Prefix

	// KeepRetired is how long HookRetired records are kept when the
	// Hook's KeepFor is zero. Default 7 days.
	KeepRetired     time.Duration
	CleanupInterval time.Duration // How often Run removes expired HookRetired. Default 1h.
	StatsInterval   time.Duration // How often Run refreshes the queue gauges. Default 15s.

	// Supersede makes Enqueue retire pending hooks for the same account,
	// URL and QueueMsgID as superseded, as mox does, so only the latest
	// event is delivered. Off by default: every event is delivered.
	Supersede bool

	// Now and After are the clock. Nil: time.Now and time.After. Tests
	// inject a fake clock; after advancing it they call Kick. The
	// per-request Timeout and ShutdownTimeout always use the real clock.
	Now   func() time.Time
	After func(d time.Duration) <-chan time.Time

	// Rand is the source of randomness for retry jitter, 8 bytes per
	// retry, as queue.Handler.Rand. Nil: crypto/rand.Reader. It is read
	// from one goroutine at a time. A reader that fails means no jitter:
	// every delay is exactly the Schedule's. Tests inject a fixed reader,
	// or a seeded math/rand/v2 ChaCha8, for exact times.
	Rand io.Reader

	Logger  *slog.Logger // Nil: discard.
	Metrics *Metrics     // Nil: no metrics.

	// OnResult, if set, is called after an attempt's result is committed,
	// with the hook as stored (Results includes the attempt) and whether
	// it was retired. It runs on the worker's goroutine: keep it short.
	OnResult func(h Hook, retired bool)

	mu      sync.Mutex
	kick    chan struct{} // Buffered, one pending wakeup.
	flush   bool          // Drop buffered hooks at the next wakeup (supersession, cancel).
	running bool
}

// Kick wakes the worker to look for due hooks. Call it after committing the
// transaction that called Enqueue.
func (q *Queue) Kick() {
	select {
	case q.kickChan() <- struct{}{}:
	default:
	}
}

func (q *Queue) kickChan() chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.kick == nil {
		q.kick = make(chan struct{}, 1)
	}
	return q.kick
}

// markFlush asks the worker to reload its buffer at the next wakeup.
func (q *Queue) markFlush() {
	q.mu.Lock()
	q.flush = true
	q.mu.Unlock()
}

func (q *Queue) takeFlush() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	f := q.flush
	q.flush = false
	return f
}

func (q *Queue) now() time.Time {
	return inject.Now(q.Now)
}

func (q *Queue) read(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if q.DB == nil {
		return ErrNoDB
	}
	return q.DB.Read(ctx, fn)
}

func (q *Queue) write(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if q.DB == nil {
		return ErrNoDB
	}
	return q.DB.Write(ctx, fn)
}

func (q *Queue) after(d time.Duration) <-chan time.Time {
	return inject.After(q.After, d)
}

func (q *Queue) log() *slog.Logger {
	return inject.Logger(q.Logger)
}

func (q *Queue) schedule() []time.Duration {
	if q.Schedule != nil {
		return q.Schedule
	}
	return DefaultSchedule()
}

func (q *Queue) hostConcurrency() int {
	if q.HostConcurrency > 0 {
		return q.HostConcurrency
	}
	return max(DefaultHostConcurrency, orDefault(q.Concurrency, DefaultConcurrency))
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

func (q *Queue) keepFor(h Hook) time.Duration {
	if h.KeepFor != 0 {
		return h.KeepFor
	}
	return orDefault(q.KeepRetired, DefaultKeepRetired)
}

// jitter spreads d by +-10%.
func (q *Queue) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*randsrc.Float64(q.Rand)))
}

// Enqueue adds hooks to the queue in the caller's transaction tx, so an
// event exists exactly when the state change that caused it is committed.
// Call Kick after the commit. For each hook, Account, URL and an event (in
// Event or Payload.Event, or Incoming for a hook about an incoming
// message) are required; Secrets must be valid whsec_
// secrets and Authorization a valid header field value. Enqueue sets ID,
// Submitted, Payload.WebhookQueued (if zero), NextAttempt (to now if zero)
// and clears Attempts and Results. The IDs are set in the hooks slice.
// An Incoming payload's Text and HTML are stored in a HookBody beside the
// Hook; the caller's payload is left whole.
func (q *Queue) Enqueue(tx *bstore.Tx, hooks ...Hook) error {
	now := q.now()
	for i := range hooks {
		h := &hooks[i]
		if err := Prepare(h, now); err != nil {
			return err
		}
		// The Text and HTML of an incoming payload go in a HookBody, so
		// the Hook record stays small when listed or rewritten per attempt.
		stored, body := splitBody(*h)
		if err := tx.Insert(&stored); err != nil {
			return fmt.Errorf("hookqueue: inserting hook: %w", err)
		}
		h.ID = stored.ID
		if body != nil {
			body.ID = h.ID
			if err := tx.Insert(body); err != nil {
				return fmt.Errorf("hookqueue: inserting hook body: %w", err)
			}
		}
		if q.Supersede && h.QueueMsgID != 0 {
			if err := q.supersede(tx, *h, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// Prepare validates h and fills the fields Enqueue sets, with the checks
// and defaults Enqueue documents. Another queue that delivers Hooks with a
// Sender (the River queue of the postgres module) calls it at insert, so
// both accept the same hooks.
func Prepare(h *Hook, now time.Time) error {
	if h.Account == "" {
		return errors.New("hookqueue: hook without account")
	}
	if err := CheckURL(h.URL); err != nil {
		return err
	}
	for _, s := range h.Secrets {
		if err := webhook.CheckSecret(s); err != nil {
			return fmt.Errorf("hookqueue: %w", err)
		}
	}
	// RFC 9110 section 5.5: no control characters but tab in a field
	// value. net/http refuses to send one, so the hook could only fail
	// every attempt.
	for _, c := range []byte(h.Authorization) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("hookqueue: authorization has control character 0x%02x", c)
		}
	}
	if h.Incoming != nil {
		// One payload per hook: an incoming message is no outgoing
		// event, nor about a queued message.
		if e := cmp.Or(h.Event, h.Payload.Event); e != "" {
			return fmt.Errorf("hookqueue: hook with incoming payload and event %q", e)
		}
		if h.QueueMsgID != 0 || h.Payload.QueueMsgID != 0 {
			return errors.New("hookqueue: hook with incoming payload and queue message id")
		}
	} else if err := prepareOutgoing(h, now); err != nil {
		return err
	}
	h.ID = 0
	h.Submitted = now
	if h.NextAttempt.IsZero() {
		h.NextAttempt = now
	}
	h.Attempts = 0
	h.Results = nil
	return nil
}

// prepareOutgoing checks the event of an outgoing hook and fills its
// payload's copies of Event and QueueMsgID.
func prepareOutgoing(h *Hook, now time.Time) error {
	switch {
	case h.Payload.Event == "":
		h.Payload.Event = h.Event
	case h.Event != "" && h.Event != h.Payload.Event:
		return fmt.Errorf("hookqueue: event %q differs from payload event %q", h.Event, h.Payload.Event)
	}
	if h.Payload.Event == "" {
		return errors.New("hookqueue: hook without event")
	}
	h.Event = h.Payload.Event
	switch {
	case h.Payload.QueueMsgID == 0:
		h.Payload.QueueMsgID = h.QueueMsgID
	case h.QueueMsgID != 0 && h.QueueMsgID != h.Payload.QueueMsgID:
		return fmt.Errorf("hookqueue: queue message id %d differs from payload's %d", h.QueueMsgID, h.Payload.QueueMsgID)
	}
	h.QueueMsgID = h.Payload.QueueMsgID
	if h.Payload.WebhookQueued.IsZero() {
		h.Payload.WebhookQueued = now
	}
	return nil
}

// supersede retires older pending hooks for the same message and URL.
func (q *Queue) supersede(tx *bstore.Tx, h Hook, now time.Time) error {
	var old []Hook
	_, err := bstore.QueryTx[Hook](tx).
		FilterNonzero(Hook{Account: h.Account, QueueMsgID: h.QueueMsgID, URL: h.URL}).
		FilterNotEqual("ID", h.ID).
		Gather(&old).
		Delete()
	if err != nil {
		return fmt.Errorf("hookqueue: removing superseded hooks: %w", err)
	}
	for _, o := range old {
		if err := deleteBody(tx, o); err != nil {
			return err
		}
		r := o.retire(RetiredSuperseded, now, q.keepFor(o))
		r.SupersededByID = h.ID
		if err := insertRetired(tx, r, q.keepFor(o)); err != nil {
			return err
		}
	}
	if len(old) > 0 {
		q.markFlush()
	}
	return nil
}

// deleteBody removes the HookBody of h, a hook leaving the queue, in the
// transaction that removes h. Only a hook with an Incoming payload can
// have one, so for the others the HookBody tree is not read.
func deleteBody(tx *bstore.Tx, h Hook) error {
	if h.Incoming == nil {
		return nil
	}
	if err := tx.Delete(&HookBody{ID: h.ID}); err != nil && !errors.Is(err, bstore.ErrAbsent) {
		return fmt.Errorf("hookqueue: removing hook body: %w", err)
	}
	return nil
}

// insertRetired stores r unless its retention is negative.
func insertRetired(tx *bstore.Tx, r HookRetired, keep time.Duration) error {
	if keep < 0 {
		return nil
	}
	if err := tx.Insert(&r); err != nil {
		return fmt.Errorf("hookqueue: inserting retired hook: %w", err)
	}
	return nil
}
