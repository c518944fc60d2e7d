package relay

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/inject"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// Errors of the Relay.
var (
	// ErrConfig is wrapped by Validate's errors, and returned by a method
	// that needs a field that is not set.
	ErrConfig = errors.New("relay: invalid configuration")

	// ErrUnavailable is wrapped by StopTx's error when PostgreSQL could
	// not be asked and FailOpen is false: the message is not sent now.
	ErrUnavailable = errors.New("relay: shared suppression list unavailable")
)

// Defaults of the Relay's zero fields.
const (
	DefaultLookupTimeout = time.Second
	DefaultInterval      = time.Minute
	DefaultRetryMin      = time.Second
	DefaultBatchSize     = 100

	// DefaultSentKeep is how long an index record is kept after its
	// message was queued: the default retry policy's age limit (RFC 5321
	// section 4.5.4.1, 5 days) and queue.DefaultKeepRetired after it, as
	// long as the local queue keeps the message for matching.
	DefaultSentKeep = 5*24*time.Hour + queue.DefaultKeepRetired

	// cleanupInterval is how often Run removes expired index records.
	cleanupInterval = time.Hour
)

// Relay is one node's side of the transaction boundary between its bstore
// database and the state on PostgreSQL that all nodes share; see the
// package doc. It is the node's queue.HookQueue and queue.SuppressionStore:
// set the Handler's Hooks and Suppressions to it. Run moves the intents
// those write to PostgreSQL after commit.
//
// Its exported fields are configuration, set before first use; the zero
// value of each is documented. A Relay must not be copied after first use.
// One Relay per database: two would apply the intents of one address out
// of order.
type Relay struct {
	// Node names this node among all nodes on the PostgreSQL database:
	// unique and stable, 1 to 64 letters, digits, '.', '-' or '_'. It is
	// part of every webhook-id and index record the node writes (with the
	// outbox's Token where IDs of a replaced database could repeat).
	// Required.
	Node string

	// DB is the node's bstore database, opened with DBTypes. Run and Flush
	// use it; the Tx methods take the caller's transaction. Required for
	// Run and Flush.
	DB *bstore.DB

	// Suppressions is the shared suppression list; its Policy and
	// Normalizer decide for ProcessTx (all nodes must use the same). Nil:
	// the suppression methods return an error wrapping ErrConfig, and
	// intents in the outbox stay there.
	Suppressions *pgsuppression.Store

	// Sent is the shared index of sent messages. Nil: IndexTx returns an
	// error wrapping ErrConfig, and index intents stay in the outbox.
	Sent *pgsent.Index

	// Hooks is the shared webhook delivery. Nil: Enqueue returns an error
	// wrapping ErrConfig, and hook intents stay in the outbox.
	Hooks HookInserter

	// FailOpen is what StopTx does when PostgreSQL cannot be asked within
	// LookupTimeout (a partition, the server down). False, the default,
	// fails closed: StopTx returns an error wrapping ErrUnavailable, so
	// Handler.Add and Due fail and nothing is sent until the list can be
	// read again (as Postfix defers a message on a temporary lookup
	// failure). True sends: the address counts as not suppressed, unless
	// the node's own pending intents suppress it, and a warning is logged.
	FailOpen bool

	// LookupTimeout bounds each PostgreSQL lookup made inside a caller's
	// transaction. Zero: DefaultLookupTimeout.
	LookupTimeout time.Duration

	// Interval is how often Run looks at the outbox without a Kick (intents
	// written by a Handler that did not kick). Zero: DefaultInterval.
	Interval time.Duration

	// RetryMin is Run's first wait after a round that failed; it doubles
	// per failed round up to Interval. Zero: DefaultRetryMin.
	RetryMin time.Duration

	// BatchSize is how many intents of one kind a round reads and moves at
	// once. Zero: DefaultBatchSize.
	BatchSize int

	// SentKeep is how long an index record is kept after its message was
	// queued (pgsent.Sent.KeepUntil). Zero: DefaultSentKeep.
	SentKeep time.Duration

	// Logger receives the Relay's logs. Nil: discard.
	Logger *slog.Logger

	// Now returns the current time. Nil: time.Now.
	Now func() time.Time

	// After waits like time.After; Run uses it for its timers. Nil:
	// time.After.
	After func(d time.Duration) <-chan time.Time

	// Rand is the source of the outbox's token (Outbox). Nil:
	// crypto/rand.Reader.
	Rand io.Reader

	flushMu  sync.Mutex // One Flush at a time: intents of one key stay in order.
	migrated bool       // The relay's table is current; under flushMu.
	token    string     // Outbox.Token, once read; under flushMu.
	kickOnce sync.Once
	kickc    chan struct{}
}

var (
	_ queue.HookQueue        = (*Relay)(nil)
	_ queue.SuppressionStore = (*Relay)(nil)
)

// Validate returns an error wrapping ErrConfig for a configuration Run
// cannot work with.
func (r *Relay) Validate() error {
	if err := checkNode(r.Node); err != nil {
		return err
	}
	if r.DB == nil {
		return fmt.Errorf("%w: no database", ErrConfig)
	}
	return nil
}

// checkNode checks a node name; see Relay.Node.
func checkNode(node string) error {
	if node == "" || len(node) > 64 {
		return fmt.Errorf("%w: node name must be 1 to 64 characters, is %q", ErrConfig, node)
	}
	for _, c := range node {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("%w: node name %q has %q", ErrConfig, node, c)
		}
	}
	return nil
}

func (r *Relay) now() time.Time {
	return inject.Now(r.Now)
}

func (r *Relay) log() *slog.Logger {
	return inject.Logger(r.Logger)
}

func (r *Relay) lookupTimeout() time.Duration {
	if r.LookupTimeout > 0 {
		return r.LookupTimeout
	}
	return DefaultLookupTimeout
}

func (r *Relay) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultInterval
}

func (r *Relay) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return DefaultBatchSize
}

func (r *Relay) kick() chan struct{} {
	r.kickOnce.Do(func() { r.kickc = make(chan struct{}, 1) })
	return r.kickc
}

// Kick wakes Run, e.g. after the caller committed a transaction with
// intents; Handler.Kick calls it. It never blocks.
func (r *Relay) Kick() {
	select {
	case r.kick() <- struct{}{}:
	default:
	}
}

// Run moves the outbox's intents to PostgreSQL (Flush) until ctx is done:
// at start, after each Kick, and every Interval. A round that fails is
// retried after RetryMin, doubling up to Interval; Kicks do not shorten
// that wait, the next round covers them. Every hour it removes expired
// index records (pgsent.Index.Cleanup). It returns nil when ctx is done,
// and Validate's error before it starts.
func (r *Relay) Run(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var failures int
	var nextCleanup time.Time
	for {
		if now := r.now(); r.Sent != nil && !now.Before(nextCleanup) {
			if n, err := r.Sent.Cleanup(ctx, now); err != nil && ctx.Err() == nil {
				r.log().Error("removing expired records of the shared index", slog.Any("err", err))
			} else if n > 0 {
				r.log().Info("removed expired records of the shared index", slog.Int("count", n))
			}
			nextCleanup = now.Add(cleanupInterval)
		}
		// This round covers every commit before it: a Kick that came
		// while Run was waiting out a failure needs no round of its own.
		select {
		case <-r.kick():
		default:
		}
		_, err := r.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			wait := r.retryWait(failures)
			r.log().Warn("moving intents to postgresql", slog.Any("err", err), slog.Duration("retry", wait))
			select {
			case <-ctx.Done():
				return nil
			case <-inject.After(r.After, wait):
			}
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick():
		case <-inject.After(r.After, r.interval()):
		}
	}
}

// retryWait is the wait after the nth failed round in a row.
func (r *Relay) retryWait(n int) time.Duration {
	d := r.RetryMin
	if d <= 0 {
		d = DefaultRetryMin
	}
	for i := 1; i < n && d < r.interval(); i++ {
		d *= 2
	}
	return min(d, r.interval())
}

// Flush moves the intents in the outbox to PostgreSQL, and deletes each
// from the outbox after it was applied, until the outbox is empty or a
// step fails. It returns how many intents it moved. Suppression changes
// are applied in the order they were written, a batch per PostgreSQL
// transaction that also marks them applied (see the package doc); a
// change the shared list refuses for good (suppression.ErrInvalid,
// ErrAddress) is logged and dropped. Index records and hooks go in
// batches, all or none; a hook the shared delivery refuses for good is
// logged and dropped.
// A kind without its store (nil Suppressions, Sent or Hooks) stays in the
// outbox. Errors of one kind do not stop the others; they are joined.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	if err := r.Validate(); err != nil {
		return 0, err
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if err := r.loadToken(ctx); err != nil {
		return 0, err
	}
	var total int
	var errs []error
	if r.Suppressions != nil {
		n, err := flushKind(ctx, r, r.applySuppressions)
		total += n
		errs = append(errs, err)
	}
	if r.Sent != nil {
		n, err := flushKind(ctx, r, r.applySent)
		total += n
		errs = append(errs, err)
	}
	if r.Hooks != nil {
		n, err := flushKind(ctx, r, r.applyHooks)
		total += n
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}

// tokenLen is the length of Outbox.Token.
const tokenLen = 16

// loadToken reads the outbox's token, making it on first use.
func (r *Relay) loadToken(ctx context.Context) error {
	if r.token != "" {
		return nil
	}
	err := r.DB.Write(ctx, func(tx *bstore.Tx) error {
		o, err := bstore.QueryTx[Outbox](tx).SortAsc("ID").Limit(1).Get()
		if err == nil {
			r.token = o.Token
			return nil
		} else if err != bstore.ErrAbsent {
			return err
		}
		rnd := r.Rand
		if rnd == nil {
			rnd = rand.Reader
		}
		buf := make([]byte, tokenLen)
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return fmt.Errorf("reading random bytes: %w", err)
		}
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
		for i, b := range buf {
			buf[i] = alphabet[int(b)%len(alphabet)]
		}
		o = Outbox{Token: string(buf), Created: r.now()}
		if err := tx.Insert(&o); err != nil {
			return err
		}
		r.token = o.Token
		return nil
	})
	if err != nil {
		return fmt.Errorf("relay: outbox token: %w", err)
	}
	return nil
}

// intent is an outbox type.
type intent interface {
	HookIntent | SuppressionIntent | SentIntent
}

// flushKind moves the intents of one kind, a batch at a time: apply
// returns how many of the batch, from its start, it applied (or dropped).
func flushKind[T intent](ctx context.Context, r *Relay, apply func(ctx context.Context, batch []T) (int, error)) (int, error) {
	var total int
	for {
		var batch []T
		err := r.DB.Read(ctx, func(tx *bstore.Tx) error {
			var err error
			batch, err = bstore.QueryTx[T](tx).SortAsc("ID").Limit(r.batchSize()).List()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("relay: reading outbox: %w", err)
		}
		if len(batch) == 0 {
			return total, nil
		}
		n, applyErr := apply(ctx, batch)
		if n > 0 {
			ids := make([]int64, n)
			for i, it := range batch[:n] {
				ids[i] = intentID(it)
			}
			// An intent applied and not deleted (a crash here, or this
			// write failing) is applied again by the next round: see
			// the package doc.
			err := r.DB.Write(ctx, func(tx *bstore.Tx) error {
				_, err := bstore.QueryTx[T](tx).FilterIDs(ids).Delete()
				return err
			})
			if err != nil {
				return total, errors.Join(applyErr, fmt.Errorf("relay: deleting applied intents: %w", err))
			}
			total += n
		}
		if applyErr != nil {
			return total, applyErr
		}
		if len(batch) < r.batchSize() {
			return total, nil
		}
	}
}

func intentID[T intent](it T) int64 {
	switch v := any(it).(type) {
	case HookIntent:
		return v.ID
	case SuppressionIntent:
		return v.ID
	case SentIntent:
		return v.ID
	}
	panic("relay: unknown intent type") // Unreachable: the type set is closed.
}

// applySuppressions applies a batch of suppression intents in one
// PostgreSQL transaction, in order, and records the last one's ID as
// applied in the same transaction: an intent at or below the mark was
// applied before (a crash between commit and delete) and is skipped, so
// each change takes effect once. All or none. The mark is sound because
// bstore has one write transaction at a time: outbox IDs grow in commit
// order, so no intent committed later can have a lower ID than one a
// round already applied.
func (r *Relay) applySuppressions(ctx context.Context, batch []SuppressionIntent) (int, error) {
	if !r.migrated {
		if err := migrateSchema(ctx, r.Suppressions.DB); err != nil {
			return 0, err
		}
		r.migrated = true
	}
	err := pgx.BeginFunc(ctx, r.Suppressions.DB, func(tx pgx.Tx) error {
		applied, err := lockApplied(ctx, tx, r.Node, r.token)
		if err != nil {
			return err
		}
		for _, si := range batch {
			if si.ID <= applied {
				continue
			}
			if err := r.applySuppression(ctx, tx, si); err != nil {
				return err
			}
		}
		return setApplied(ctx, tx, r.Node, r.token, max(applied, batch[len(batch)-1].ID))
	})
	if err != nil {
		return 0, err
	}
	return len(batch), nil
}

// applySuppression applies one intent in tx. A change the shared list
// refuses for good is logged and dropped: it is refused before any
// statement runs, so tx goes on.
func (r *Relay) applySuppression(ctx context.Context, tx pgx.Tx, si SuppressionIntent) error {
	// The store judges expiry at the intent's time, as StopTx and
	// ProcessTx did when the intent was written.
	st := *r.Suppressions
	st.DB = tx
	st.Now = func() time.Time { return si.Time }
	var err error
	switch si.Op {
	case OpAdd:
		_, _, err = st.Add(ctx, si.entry())
	case OpDelivered:
		_, err = st.Delivered(ctx, si.Account, si.OriginalAddress)
	case OpHit:
		_, _, err = st.Stop(ctx, si.Account, si.OriginalAddress)
	default:
		err = fmt.Errorf("%w: unknown operation %q", suppression.ErrInvalid, si.Op)
	}
	if errors.Is(err, suppression.ErrInvalid) || errors.Is(err, suppression.ErrAddress) {
		r.log().Error("dropping suppression intent the shared list refuses",
			slog.String("account", si.Account), slog.String("recipient", si.OriginalAddress),
			slog.String("op", string(si.Op)), slog.Any("err", err))
		return nil
	} else if err != nil {
		return fmt.Errorf("relay: applying suppression %s of %s: %w", si.Op, si.OriginalAddress, err)
	}
	return nil
}

// applySent puts a batch of index records in one transaction.
func (r *Relay) applySent(ctx context.Context, batch []SentIntent) (int, error) {
	records := make([]pgsent.Sent, len(batch))
	for i, si := range batch {
		records[i] = si.Sent
	}
	if err := r.Sent.Put(ctx, records...); err != nil {
		return 0, fmt.Errorf("relay: indexing sent messages: %w", err)
	}
	return len(batch), nil
}

// applyHooks inserts a batch of hooks, all or none. A batch the shared
// delivery refuses for a bad job is inserted one by one, and the jobs it
// refuses are logged and dropped: they could never be delivered.
func (r *Relay) applyHooks(ctx context.Context, batch []HookIntent) (int, error) {
	jobs := make([]riverhook.Job, len(batch))
	for i, hi := range batch {
		jobs[i] = hi.job(WebhookID(r.Node, r.token, hi.ID))
	}
	_, err := r.Hooks.Insert(ctx, jobs...)
	if errors.Is(err, riverhook.ErrBadJob) {
		for i, j := range jobs {
			_, err = r.Hooks.Insert(ctx, j)
			if errors.Is(err, riverhook.ErrBadJob) {
				r.log().Error("dropping webhook the shared delivery refuses",
					slog.String("account", j.Account), slog.String("webhookid", j.WebhookID), slog.Any("err", err))
			} else if err != nil {
				return i, fmt.Errorf("relay: inserting webhooks: %w", err)
			}
		}
		return len(batch), nil
	}
	if err != nil {
		return 0, fmt.Errorf("relay: inserting webhooks: %w", err)
	}
	return len(batch), nil
}

// pendingSuppressions returns the intents of account and base address not
// yet applied, in the order they were written.
func pendingSuppressions(tx *bstore.Tx, account, base string) ([]SuppressionIntent, error) {
	l, err := bstore.QueryTx[SuppressionIntent](tx).FilterEqual(fieldAccount, account).FilterEqual(fieldBaseAddress, base).List()
	if err != nil {
		return nil, fmt.Errorf("relay: reading pending suppression intents: %w", err)
	}
	slices.SortFunc(l, func(a, b SuppressionIntent) int { return cmp.Compare(a.ID, b.ID) })
	return l, nil
}
