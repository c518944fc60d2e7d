package queue

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/internal/randsrc"
)

// Handler carries out the queue's lifecycle decisions in the caller's
// transaction: Add, FailMsgs, DeliveredMsgs, CancelMsgs. Run does the work
// that must wait for a commit (delivering queued DSNs, removing expired
// history).
//
// Every field is optional; the zero value of each is documented and useful.
// A Handler must not be copied after first use. Two Handlers with different
// databases work side by side: there is no package-level state.
type Handler struct {
	// DB is the host's database, used only for work outside a caller's
	// transaction: by Run and DeliverOutbox. Nil: they return ErrNoDB.
	DB *bstore.DB

	// RetryPolicy decides when to retry and when to give up. Its zero
	// fields take DefaultPolicy's values (the zero value is
	// DefaultPolicy()); FailMsgs returns RetryPolicy.Validate's error
	// before changing anything.
	RetryPolicy RetryPolicy

	// DSNComposer composes delivery status notifications. Nil: the default
	// composer (package dsn, English text, From the Postmaster address at
	// Hostname).
	DSNComposer DSNComposer

	// DSNDeliverer receives composed DSNs from Run after commit. Nil: DSNs
	// stay in the outbox until a Handler with a deliverer runs.
	DSNDeliverer DSNDeliverer

	// Suppressions is the per-account suppression list. Nil: no
	// suppression checks or entries.
	Suppressions SuppressionStore

	// Hooks queues webhooks. Nil: no webhooks.
	Hooks HookQueue

	// Remote finds messages other nodes sent, for DSNs, bounces and
	// complaints that match no message of this queue (MatchRemote). Nil:
	// only this queue's messages are matched.
	Remote RemoteIndex

	// Accounts looks up per-account settings. Nil: every account is known,
	// with zero settings (no webhooks, retired messages not kept).
	Accounts Accounts

	// MessageOpener reads the original message for the DSN's returned
	// headers or content. Nil: DSNs are sent without the original.
	MessageOpener MessageOpener

	// Hostname is the host name of this MTA, used as Reporting-MTA and in
	// DSN Message-IDs. Empty: "localhost".
	Hostname string

	// Postmaster is the address DSNs come from. Empty: "postmaster@"
	// followed by Hostname (as A-labels).
	Postmaster string

	// PostmasterAccount receives DSNs for messages of unknown accounts and
	// the DSNs about failed DMARC and TLS reports. Empty: "postmaster".
	PostmasterAccount string

	// GenerateFromIDs makes Add give each message without a FromID a random
	// one (22 URL-safe characters, 16 random bytes), for matching DSNs that
	// come back later.
	GenerateFromIDs bool

	// Logger receives the Handler's logs. Nil: discard.
	Logger *slog.Logger

	// Metrics, if set, counts what the Handler does (see NewMetrics).
	Metrics *Metrics

	// Now returns the current time. Nil: time.Now.
	Now func() time.Time

	// After waits like time.After; Run uses it for its timers, so tests can
	// drive Run with a fake clock. Nil: time.After.
	After func(d time.Duration) <-chan time.Time

	// Rand is the source of randomness for FromIDs, DSN Message-IDs and
	// retry jitter (RetryInput.JitterDraw). Nil: crypto/rand.Reader. A
	// seeded reader makes them repeatable in tests and demos.
	Rand io.Reader

	// CleanupInterval is how often Run removes retired messages past their
	// KeepUntil. Zero: one hour.
	CleanupInterval time.Duration

	// CatchallSeparator separates the localpart from the FromID in MAIL
	// FROM addresses made by Msg.MailFrom; ProcessIncoming finds FromIDs
	// after it in the address a report arrived for. Empty: "+".
	CatchallSeparator string

	kickOnce sync.Once
	kickc    chan struct{}

	// seenV1Gone is set once the database holds no IncomingSeen record
	// of an earlier version (see removeExpiredSeen).
	seenV1Gone atomic.Bool

	// seenCleanupNext is when, in UnixNano of the Handler's clock,
	// ProcessIncoming next looks for expired records of reports seen;
	// zero: at the next call (see removeExpiredSeen).
	seenCleanupNext atomic.Int64
}

// Errors returned by Handler methods for bad input. They are returned before
// anything is changed.
var (
	ErrEmptyBatch    = errors.New("queue: empty batch of messages")
	ErrNilError      = errors.New("queue: nil delivery error")
	ErrMixedAccounts = errors.New("queue: messages of different sender accounts in one batch")
	ErrMsgNotFound   = errors.New("queue: message not in queue")
)

// ErrNoDB is returned, unwrapped and before anything else is done, by the
// Handler methods that open their own transaction (Run, DeliverOutbox) when
// Handler.DB is nil. The methods that take the caller's *bstore.Tx never
// need it.
var ErrNoDB = errors.New("queue: handler has no database")

// Kick wakes Run, and the HookQueue's worker when the HookQueue has a Kick
// method (as *hookqueue.Queue has), e.g. after the caller committed a
// transaction in which FailMsgs queued a DSN and a webhook. It never
// blocks.
func (h *Handler) Kick() {
	select {
	case h.kick() <- struct{}{}:
	default:
	}
	if k, ok := h.Hooks.(kicker); ok {
		k.Kick()
	}
}

// kicker is a HookQueue whose worker can be woken after a commit.
type kicker interface {
	Kick()
}

var _ kicker = (*hookqueue.Queue)(nil)

func (h *Handler) kick() chan struct{} {
	h.kickOnce.Do(func() { h.kickc = make(chan struct{}, 1) })
	return h.kickc
}

func (h *Handler) now() time.Time {
	return inject.Now(h.Now)
}

func (h *Handler) after(d time.Duration) <-chan time.Time {
	return inject.After(h.After, d)
}

func (h *Handler) log() *slog.Logger {
	return inject.Logger(h.Logger)
}

func (h *Handler) hostname() string {
	if h.Hostname != "" {
		return h.Hostname
	}
	return "localhost"
}

func (h *Handler) postmaster() string {
	if h.Postmaster != "" {
		return h.Postmaster
	}
	return "postmaster@" + asciiHost(h.hostname())
}

func (h *Handler) postmasterAccount() string {
	if h.PostmasterAccount != "" {
		return h.PostmasterAccount
	}
	return "postmaster"
}

func (h *Handler) rand() io.Reader {
	if h.Rand != nil {
		return h.Rand
	}
	return rand.Reader
}

// account returns the settings for name, and whether the account is known.
func (h *Handler) account(name string) (AccountSettings, bool) {
	if h.Accounts == nil {
		return AccountSettings{}, true
	}
	return h.Accounts.Account(name)
}

// randomID returns n random bytes as unpadded URL-safe base64.
func (h *Handler) randomID(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := io.ReadFull(h.rand(), buf); err != nil {
		return "", fmt.Errorf("queue: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

func (h *Handler) policy() RetryPolicy {
	return h.RetryPolicy
}

// jitterDraw returns a RetryInput.JitterDraw from Rand, uniform in [-1, 1);
// 0 (no jitter) when Rand fails.
func (h *Handler) jitterDraw() float64 {
	return 2*randsrc.Float64(h.rand()) - 1
}
