package crashtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// ChildConfig is what the parent tells one run of the child.
type ChildConfig struct {
	Dir     string // Working directory: database, journal, DSN file.
	Seed    uint64 // Workload seed.
	HookURL string // The parent's webhook receiver; the account name is appended.
	Run     int    // Number of this run, from 1.
	// Drain stops adding submissions: the run ends, printing "done", when
	// nothing is queued, in the outbox or in the webhook queue.
	Drain bool
	// Subs is, with Drain, how many submissions the workload has before
	// the drain: the run adds the missing ones first.
	Subs int64
	// Out receives "ready" once the database is open and the workers run,
	// and "done" at the end of a drain.
	Out io.Writer
}

// Workload parameters.
const (
	clockStep    = 2 * time.Minute // Simulated time per loop iteration.
	maxQueued    = 150             // No new submission while this many are queued.
	incomingBulk = 5               // Late DSNs processed per iteration.
	hostname     = "mta.crash.example"
)

// dropDSNOriginal makes the drop account's late DSNs return the original
// header, with its Message-ID, so matching by Message-ID with siblings
// still queued is covered too (TestIncomingSiblingBug).
const dropDSNOriginal = true

// Policy is the retry policy of the workload: quick to give up, and a
// delayed DSN after the second failed attempt.
func Policy() queue.RetryPolicy {
	return queue.RetryPolicy{
		Schedule:                []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute},
		MaxAttempts:             4,
		DelayedDSNAfterAttempts: 2,
		DelayedDSNAfterAge:      -1,
		Jitter:                  -1,
	}
}

// openDB opens the child's database in dir: the library's types and the
// child's own.
func openDB(ctx context.Context, dir string) (*bstore.DB, error) {
	return workload.OpenDB(ctx, filepath.Join(dir, dbFile), TxMark{}, Progress{})
}

// child is one run of the workload.
type child struct {
	cfg     ChildConfig
	db      *bstore.DB
	clock   *queuetest.Clock
	h       *queue.Handler
	hooks   *hookqueue.Queue
	journal journal
	seq     int64
	subs    int64
	notify  chan struct{}
	late    map[int64]bool // Late DSNs processed in this run.

	dsnMu sync.Mutex
	dsnF  *os.File
}

// errNoChange rolls back a transaction that changed nothing worth a
// journal record.
var errNoChange = errors.New("crashtest: nothing changed")

// RunChild runs the workload until ctx is done (or, with Drain, until all
// work is done).
func RunChild(ctx context.Context, cfg ChildConfig) (rerr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &child{cfg: cfg, notify: make(chan struct{}, 1), late: map[int64]bool{}}

	for _, f := range []string{journalFile, dsnFile} {
		if err := trimTorn(filepath.Join(cfg.Dir, f)); err != nil {
			return err
		}
	}
	recs, _, err := readJournal(filepath.Join(cfg.Dir, journalFile))
	if err != nil {
		return err
	}
	now := workload.ClockStart()
	for _, r := range recs {
		c.seq = max(c.seq, r.Seq)
		if r.Now.After(now) {
			now = r.Now
		}
	}
	c.seq++

	jf, err := os.OpenFile(filepath.Join(cfg.Dir, journalFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("crashtest: opening journal: %w", err)
	}
	defer jf.Close()
	c.journal.f = jf
	if c.dsnF, err = os.OpenFile(filepath.Join(cfg.Dir, dsnFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return fmt.Errorf("crashtest: opening dsn file: %w", err)
	}
	defer c.dsnF.Close()

	c.db, err = openDB(ctx, cfg.Dir)
	if err != nil {
		return fmt.Errorf("crashtest: %w", err)
	}
	defer func() {
		if err := c.db.Close(); err != nil && rerr == nil {
			rerr = err
		}
	}()
	err = c.db.Read(ctx, func(tx *bstore.Tx) error {
		p := Progress{ID: 1}
		if err := tx.Get(&p); err == bstore.ErrAbsent {
			return nil
		} else if err != nil {
			return err
		}
		c.subs = p.Subs
		if p.Now.After(now) {
			now = p.Now
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("crashtest: reading progress: %w", err)
	}
	c.clock = queuetest.NewClock(now.Add(clockStep))
	c.setup()

	workers := workload.StartWorkers(ctx, c.h.Run, c.hooks.Run)
	defer workers.Stop()

	fmt.Fprintln(cfg.Out, "ready")
	err = c.loop(ctx)
	if err2 := workers.Stop(); err == nil {
		err = err2
	}
	if err == nil && cfg.Drain {
		fmt.Fprintln(cfg.Out, "done")
	}
	return err
}

func (c *child) setup() {
	wake := func() {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	c.hooks = workload.HookQueue(c.db, c.clock)
	c.hooks.Timeout = 10 * time.Second
	c.hooks.ShutdownTimeout = time.Second
	c.hooks.OnResult = func(hookqueue.Hook, bool) { wake() }
	accounts := map[string]queue.AccountSettings{
		AccountKeep: {
			WebhookURL:     c.cfg.HookURL + "/" + AccountKeep,
			WebhookSecrets: []string{"whsec_Y3Jhc2gtdGVzdC1zaWduaW5nLXNlY3JldC0xMjM0"},
			KeepRetired:    365 * 24 * time.Hour,
		},
		AccountDrop: {
			WebhookURL:  c.cfg.HookURL + "/" + AccountDrop,
			KeepRetired: -1,
		},
	}
	c.h = workload.Handler(c.db, c.clock, hostname, accounts, "crash test\r\n")
	c.h.RetryPolicy = Policy()
	c.h.DSNDeliverer = queue.DSNDelivererFunc(func(ctx context.Context, d queue.OutboxDSN) error {
		defer wake()
		return c.deliverDSN(d)
	})
	c.h.Hooks = c.hooks
}

// deliverDSN appends the DSN to the file the parent reads, after checking
// that the composed message carries the Message-ID the outbox names.
func (c *child) deliverDSN(d queue.OutboxDSN) error {
	if !bytes.Contains(d.Data, []byte("<"+d.MessageID+">")) {
		return fmt.Errorf("crashtest: dsn %d does not contain its message-id %q", d.ID, d.MessageID)
	}
	c.dsnMu.Lock()
	defer c.dsnMu.Unlock()
	_, err := c.dsnF.WriteString(formatDSNLine(DSNLine{OutboxID: d.ID, Kind: string(d.Kind), MsgID: d.MsgID, MessageID: d.MessageID, Account: d.Account}))
	return err
}

// loop is the host's delivery loop.
func (c *child) loop(ctx context.Context) error {
	for ctx.Err() == nil {
		c.clock.Advance(clockStep)
		c.h.Kick()
		work := false
		if !c.cfg.Drain || c.subs < c.cfg.Subs {
			added, err := c.add(ctx)
			if err != nil {
				return err
			}
			work = work || added
		}
		batches, err := c.due(ctx)
		if err != nil {
			return err
		}
		for _, b := range batches {
			work = true
			if err := c.attempt(ctx, b); err != nil {
				return err
			}
		}
		n, err := c.lateDSNs(ctx)
		if err != nil {
			return err
		}
		work = work || n > 0
		if work {
			continue
		}
		next, pending, err := c.nextDue(ctx)
		if err != nil {
			return err
		}
		if !pending {
			if c.cfg.Drain && c.subs >= c.cfg.Subs {
				return nil
			}
			continue
		}
		if next.After(c.clock.Now()) {
			c.clock.Set(next)
			c.h.Kick()
			continue
		}
		// The workers are busy with what is due now: wait for one of them
		// to report, with a short real-time bound for work that reports
		// before its commit.
		select {
		case <-ctx.Done():
		case <-c.notify:
		case <-time.After(5 * time.Millisecond):
		}
	}
	return ctx.Err()
}

// nextDue returns the earliest time something is due (messages, outbox,
// hooks), and whether anything is pending at all.
func (c *child) nextDue(ctx context.Context) (next time.Time, pending bool, err error) {
	earliest := func(t time.Time) {
		pending = true
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	err = c.db.Read(ctx, func(tx *bstore.Tx) error {
		if t, ok, err := queue.NextDue(tx); err != nil {
			return err
		} else if ok {
			earliest(t)
		}
		if d, err := bstore.QueryTx[queue.OutboxDSN](tx).SortAsc("NextAttempt").Limit(1).Get(); err == nil {
			earliest(d.NextAttempt)
		} else if err != bstore.ErrAbsent {
			return err
		}
		if h, err := bstore.QueryTx[hookqueue.Hook](tx).SortAsc("NextAttempt").Limit(1).Get(); err == nil {
			earliest(h.NextAttempt)
		} else if err != bstore.ErrAbsent {
			return err
		}
		late, err := c.pendingLate(tx, 1)
		if err != nil {
			return err
		}
		if len(late) > 0 {
			earliest(c.clock.Now())
		}
		return nil
	})
	return next, pending, err
}

// write runs fn in a journaled transaction: fn fills rec; the DSNs and
// hooks the transaction queued are found by comparing the outbox and the
// webhook queue before and after. The intent is written before the commit
// and confirmed after it. fn returns errNoChange to roll back without a
// record.
func (c *child) write(ctx context.Context, op string, fn func(tx *bstore.Tx, rec *Record) error) error {
	rec := Record{Seq: c.seq, Run: c.cfg.Run, Op: op, Now: c.clock.Now()}
	err := c.db.Write(ctx, func(tx *bstore.Tx) error {
		dsnID := func(d queue.OutboxDSN) int64 { return d.ID }
		hookID := func(h hookqueue.Hook) int64 { return h.ID }
		oldDSNs, err := ids(tx, dsnID)
		if err != nil {
			return err
		}
		oldHooks, err := ids(tx, hookID)
		if err != nil {
			return err
		}
		if err := fn(tx, &rec); err != nil {
			return err
		}
		dsns, err := added(tx, oldDSNs, dsnID)
		if err != nil {
			return err
		}
		for _, d := range dsns {
			rec.DSNs = append(rec.DSNs, DSNRec{ID: d.ID, Kind: string(d.Kind), MsgID: d.MsgID, MessageID: d.MessageID})
		}
		hooks, err := added(tx, oldHooks, hookID)
		if err != nil {
			return err
		}
		for _, h := range hooks {
			rec.Hooks = append(rec.Hooks, HookRec{ID: h.ID, Event: h.Event, MsgID: h.QueueMsgID, Recipient: h.Payload.Recipient})
		}
		if err := tx.Insert(&TxMark{ID: rec.Seq, Run: int64(c.cfg.Run)}); err != nil {
			return err
		}
		p := Progress{ID: 1, Subs: c.subs, Now: rec.Now}
		if op == opAdd {
			p.Subs = rec.Sub
		}
		if err := tx.Get(&Progress{ID: 1}); err == bstore.ErrAbsent {
			err = tx.Insert(&p)
			if err != nil {
				return err
			}
		} else if err != nil {
			return err
		} else if err := tx.Update(&p); err != nil {
			return err
		}
		return c.journal.write(rec)
	})
	if err == errNoChange {
		return nil
	} else if err != nil {
		return fmt.Errorf("crashtest: %s transaction %d: %w", op, rec.Seq, err)
	}
	c.seq++
	if op == opAdd {
		c.subs = rec.Sub
	}
	c.h.Kick()
	return c.journal.confirm(rec.Seq, c.cfg.Run)
}

// ids returns the IDs of the records of type T.
func ids[T any](tx *bstore.Tx, id func(T) int64) (map[int64]bool, error) {
	m := map[int64]bool{}
	err := bstore.QueryTx[T](tx).ForEach(func(v T) error {
		m[id(v)] = true
		return nil
	})
	return m, err
}

// added returns the records of type T whose IDs are not in old, by ID.
func added[T any](tx *bstore.Tx, old map[int64]bool, id func(T) int64) ([]T, error) {
	q := bstore.QueryTx[T](tx)
	q.FilterFn(func(v T) bool { return !old[id(v)] })
	q.SortAsc("ID")
	return q.List()
}

func outcomeRecs(outs []queue.Outcome, msgs []queue.Msg, call int, attempt bool, code int) []MsgRec {
	recs := make([]MsgRec, len(outs))
	for i, o := range outs {
		recs[i] = MsgRec{
			ID:          o.MsgID,
			BaseID:      msgs[i].BaseID,
			Account:     msgs[i].SenderAccount,
			Recipient:   o.Recipient,
			Result:      string(o.Result),
			Attempt:     attempt,
			Call:        call,
			Code:        code,
			DSN:         string(o.DSN),
			Hook:        o.Hook,
			Suppressing: o.Suppressing,
			Retired:     o.Retired,
		}
	}
	return recs
}

// add adds the next submission unless enough messages are queued.
func (c *child) add(ctx context.Context) (bool, error) {
	var queued int
	err := c.db.Read(ctx, func(tx *bstore.Tx) (err error) {
		queued, err = bstore.QueryTx[queue.Msg](tx).Count()
		return err
	})
	if err != nil || queued >= maxQueued {
		return false, err
	}
	s := NewSubmission(c.cfg.Seed, c.subs+1)
	err = c.write(ctx, opAdd, func(tx *bstore.Tx, rec *Record) error {
		rec.Sub = s.N
		var ptrs []*queue.Msg
		for _, rcpt := range s.Recipients {
			ptrs = append(ptrs, &queue.Msg{
				SenderAccount:    s.Account,
				SenderAddress:    workload.SenderAddress(s.Account),
				RecipientAddress: rcpt,
				MessageID:        fmt.Sprintf("sub%d@sender.example", s.N),
				Subject:          fmt.Sprintf("crash %d", s.N),
			})
		}
		outs, err := c.h.Add(tx, ptrs...)
		if err != nil {
			return err
		}
		msgs := make([]queue.Msg, len(ptrs))
		for i, p := range ptrs {
			msgs[i] = *p
		}
		rec.Msgs = outcomeRecs(outs, msgs, 0, false, 0)
		return nil
	})
	return err == nil, err
}

// due returns the due batches. Due gives up messages whose recipients
// were suppressed meanwhile; they are journaled from what is no longer in
// the queue.
func (c *child) due(ctx context.Context) ([]queue.Batch, error) {
	var batches []queue.Batch
	err := c.write(ctx, opDue, func(tx *bstore.Tx, rec *Record) error {
		q := bstore.QueryTx[queue.Msg](tx)
		q.FilterLessEqual("NextAttempt", rec.Now)
		before, err := q.List()
		if err != nil {
			return err
		}
		batches, err = c.h.Due(tx, rec.Now, 0)
		if err != nil {
			return err
		}
		returned := map[int64]bool{}
		for _, b := range batches {
			for _, m := range b.Msgs {
				returned[m.ID] = true
			}
		}
		for _, m := range before {
			if returned[m.ID] {
				continue
			}
			// Due gives these up as FailMsgs does with ErrSuppressed, one
			// call per batch: a failure DSN (NOTIFY is not set) and the
			// "suppressed" webhook (both accounts subscribe to all).
			r := MsgRec{
				ID:        m.ID,
				BaseID:    m.BaseID,
				Account:   m.SenderAccount,
				Recipient: m.RecipientAddress,
				Result:    string(queue.ResultSuppressed),
				Call:      int(m.BaseID),
				DSN:       string(queue.DSNFailed),
				Hook:      webhook.EventSuppressed,
			}
			if err := tx.Get(&queue.Msg{ID: m.ID}); err == nil {
				r.Result = "still-queued" // Check reports it: Due must return or give up every due message.
			}
			if err := tx.Get(&queue.MsgRetired{ID: m.ID}); err == nil {
				r.Retired = true
			}
			rec.Msgs = append(rec.Msgs, r)
		}
		if len(rec.Msgs) == 0 {
			return errNoChange
		}
		return nil
	})
	return batches, err
}

// attempt "delivers" a batch: each recipient's outcome follows from its
// profile and attempt number. Delivered and failed messages are reported
// in one transaction, as a host does after its SMTP transaction.
func (c *child) attempt(ctx context.Context, b queue.Batch) error {
	var delivered []queue.Msg
	var lateDrop []queue.Msg
	err := c.write(ctx, opAttempt, func(tx *bstore.Tx, rec *Record) error {
		delivered = nil
		var failed []queue.Msg
		var errs []error
		for _, m := range b.Msgs {
			m.Attempt = queue.Attempt{Start: rec.Now, RemoteMTA: "mx." + m.RecipientDomain}
			if err := workload.AttemptError(m.RecipientAddress, m.Attempts+1); err != nil {
				failed = append(failed, m)
				errs = append(errs, err)
			} else {
				delivered = append(delivered, m)
			}
		}
		if len(delivered) > 0 {
			outs, err := c.h.DeliveredMsgs(tx, delivered, workload.Accepted())
			if err != nil {
				return err
			}
			rec.Msgs = append(rec.Msgs, outcomeRecs(outs, delivered, 0, true, 250)...)
		}
		for i, m := range failed {
			outs, err := c.h.FailMsgs(tx, []queue.Msg{m}, errs[i])
			if err != nil {
				return err
			}
			var se *bounce.SMTPError
			errors.As(errs[i], &se)
			rec.Msgs = append(rec.Msgs, outcomeRecs(outs, []queue.Msg{m}, 1+i, true, se.Code)...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range delivered {
		if workload.ProfileOf(m.RecipientAddress) == workload.ProfileLate && m.SenderAccount == AccountDrop {
			lateDrop = append(lateDrop, m)
		}
	}
	// The drop account keeps no history, so its late DSNs come right after
	// the delivery (a kill in between loses them, as a real bounce can be
	// lost); they match nothing and give "unrecognized".
	for _, m := range lateDrop {
		if err := c.incoming(ctx, m.SenderAccount, m.ID, m.FromID, m.RecipientAddress, m.MessageID, m.Subject); err != nil {
			return err
		}
	}
	return nil
}

// pendingLate returns retired messages of the keep account to late
// recipients that were delivered and got no DSN yet.
func (c *child) pendingLate(tx *bstore.Tx, limit int) ([]queue.MsgRetired, error) {
	q := bstore.QueryTx[queue.MsgRetired](tx)
	q.FilterNonzero(queue.MsgRetired{SenderAccount: AccountKeep, Event: webhook.EventDelivered})
	q.FilterFn(func(r queue.MsgRetired) bool { return workload.ProfileOf(r.RecipientAddress) == workload.ProfileLate })
	q.SortAsc("ID")
	q.Limit(limit)
	return q.List()
}

// lateDSNs processes DSNs for delivered messages to late recipients of
// the keep account.
func (c *child) lateDSNs(ctx context.Context) (int, error) {
	var late []queue.MsgRetired
	err := c.db.Read(ctx, func(tx *bstore.Tx) (err error) {
		late, err = c.pendingLate(tx, incomingBulk)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, r := range late {
		if c.late[r.ID] {
			return 0, fmt.Errorf("crashtest: dsn for message %d did not change it from delivered to failed", r.ID)
		}
		c.late[r.ID] = true
		if err := c.incoming(ctx, r.SenderAccount, r.ID, r.FromID, r.RecipientAddress, r.MessageID, r.Subject); err != nil {
			return 0, err
		}
	}
	return len(late), nil
}

// incoming composes the DSN a remote MTA sends after it accepted the
// message and processes it. Odd messages are matched by the FromID in
// the address the DSN came to, even ones by the returned Message-ID.
// Some DSNs are processed twice, which must change nothing.
func (c *child) incoming(ctx context.Context, account string, msgID int64, fromID, rcpt, messageID, subject string) error {
	rcptTo := workload.SenderAddress(account)
	if msgID%2 == 1 {
		rcptTo = queue.Msg{SenderAddress: rcptTo, FromID: fromID}.MailFrom(workload.Separator)
	}
	late := workload.Late{
		MsgID:      msgID,
		Account:    account,
		RcptTo:     rcptTo,
		Recipient:  rcpt,
		MessageID:  messageID,
		Subject:    subject,
		NoOriginal: account == AccountDrop && !dropDSNOriginal,
	}
	msg, err := late.Compose(c.clock.Now())
	if err != nil {
		return fmt.Errorf("crashtest: %w", err)
	}
	times := 1
	if chance(c.cfg.Seed, fmt.Sprintf("dup%d", msgID), 4) {
		times = 2
	}
	for range times {
		err := c.write(ctx, opIncoming, func(tx *bstore.Tx, rec *Record) error {
			res, err := c.h.ProcessIncoming(tx, account, rcptTo, msg)
			if err != nil {
				return err
			}
			for _, o := range res.Recipients {
				rec.Msgs = append(rec.Msgs, MsgRec{
					ID:          o.MsgID,
					Account:     account,
					Recipient:   o.Recipient,
					Result:      string(o.Event),
					Code:        o.Failure.Code,
					Hook:        o.Hook,
					Suppressing: o.Suppressing,
					Duplicate:   o.Duplicate,
				})
			}
			if len(rec.Msgs) == 0 {
				// Journal it anyway: Check reports a DSN that named nobody.
				rec.Msgs = []MsgRec{{ID: msgID, Account: account, Recipient: rcpt, Result: "none"}}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
