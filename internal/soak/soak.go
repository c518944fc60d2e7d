package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/internal/workload"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/webhook"
)

// config is one soak run.
type config struct {
	Msgs     int64         // Messages (recipients) to add.
	Seed     uint64        // Workload seed.
	Dir      string        // Directory for the database; empty: a temporary one, removed after.
	Rate     int64         // Messages added per simulated minute.
	AddTx    int           // Messages added per write transaction (whole submissions).
	DueTx    int           // Due messages attempted per write transaction.
	LateTx   int           // Late DSNs processed per write transaction.
	Late     time.Duration // How long after delivery a late DSN arrives.
	Tick     time.Duration // Least simulated time per round of the drain; default a minute.
	MaxHooks int64         // Pending webhooks and DSNs before adding waits for the workers.
	Progress io.Writer     // Progress lines; nil: none.
}

func (c *config) defaults() {
	if c.Rate <= 0 {
		c.Rate = 1000
	}
	if c.AddTx <= 0 {
		c.AddTx = 500
	}
	if c.DueTx <= 0 {
		c.DueTx = 500
	}
	if c.LateTx <= 0 {
		c.LateTx = 100
	}
	if c.Late <= 0 {
		c.Late = 30 * time.Minute
	}
	if c.Tick <= 0 {
		c.Tick = time.Minute
	}
	if c.MaxHooks <= 0 {
		c.MaxHooks = 20000
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Workload constants.
const (
	hostname = "mta.soak.example"
	keep     = 60 * 24 * time.Hour // Retired messages and hooks are kept past the run, so the database can be counted.
	dbName   = "soak.db"
)

var accounts = []string{"acct0", "acct1", "acct2", "acct3"}

// ledger counts what happened to the messages, from the Handler's
// outcomes.
type ledger struct {
	added, delivered, failed, suppressed int64

	addSuppressed  int64 // Suppressed at Add.
	dueSuppressed  int64 // Given up by Due: suppressed while queued.
	failSuppressed int64 // Given up by FailMsgs: suppressed meanwhile.
	attempts       int64 // Delivery attempts (messages in due batches).
	retries        int64 // FailMsgs outcomes "retry".
	lateSent       int64 // Late DSNs processed, duplicates included.
	lateFailed     int64 // Late DSNs that turned a delivered message into failed.
	lateDup        int64 // Late DSNs processed a second time: must change nothing.
	lateOther      int64 // Late DSN outcomes that were neither: reported as a violation.
	txs            int64 // Write transactions committed by the delivery loop.
}

func (l *ledger) merge(d ledger) {
	l.added += d.added
	l.delivered += d.delivered
	l.failed += d.failed
	l.suppressed += d.suppressed
	l.addSuppressed += d.addSuppressed
	l.dueSuppressed += d.dueSuppressed
	l.failSuppressed += d.failSuppressed
	l.attempts += d.attempts
	l.retries += d.retries
	l.lateSent += d.lateSent
	l.lateFailed += d.lateFailed
	l.lateDup += d.lateDup
	l.lateOther += d.lateOther
	l.txs += d.txs
}

func (l *ledger) outcomes(outs []queue.Outcome) {
	for _, o := range outs {
		switch o.Result {
		case queue.ResultDelivered:
			l.delivered++
		case queue.ResultFailed:
			l.failed++
		case queue.ResultSuppressed:
			l.suppressed++
		case queue.ResultRetry:
			l.retries++
		}
		if o.Result == queue.ResultSuppressed {
			l.failSuppressed++ // Only FailMsgs suppresses among the calls outcomes() sees.
		}
	}
}

// countingHooks is the HookQueue: the webhook queue, counting the hooks
// of the current transaction, added to the committed counts on commit.
type countingHooks struct {
	q *hookqueue.Queue

	mu        sync.Mutex
	pending   map[webhook.OutgoingEvent]int64
	committed map[webhook.OutgoingEvent]int64
}

var _ queue.HookQueue = (*countingHooks)(nil)

func (c *countingHooks) Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error {
	if err := c.q.Enqueue(tx, hooks...); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range hooks {
		c.pending[h.Event]++
	}
	return nil
}

// Kick wakes the webhook worker; Handler.Kick calls it.
func (c *countingHooks) Kick() { c.q.Kick() }

func (c *countingHooks) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.pending)
}

func (c *countingHooks) pendingEvent(e webhook.OutgoingEvent) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending[e]
}

func (c *countingHooks) commit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e, n := range c.pending {
		c.committed[e] += n
	}
	clear(c.pending)
}

func (c *countingHooks) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.committed {
		n += v
	}
	return n
}

// dsnCounter is the DSNDeliverer: it counts DSNs handed over, unique by
// outbox ID, after checking each carries the Message-ID the outbox names.
type dsnCounter struct {
	mu     sync.Mutex
	ids    idSet
	kinds  map[queue.DSNKind]int64 // First deliveries per kind.
	broken int64                   // DSNs without their Message-ID.
	notify chan struct{}
}

func (d *dsnCounter) DeliverDSN(ctx context.Context, o queue.OutboxDSN) error {
	ok := bytes.Contains(o.Data, []byte("<"+o.MessageID+">"))
	d.mu.Lock()
	if !ok {
		d.broken++
	}
	if d.ids.add(o.ID) {
		d.kinds[o.Kind]++
	}
	d.mu.Unlock()
	select {
	case d.notify <- struct{}{}:
	default:
	}
	return nil
}

func (d *dsnCounter) unique() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ids.unique
}

// lateDSN is a DSN that will arrive for a delivered message, at a time.
type lateDSN struct {
	at time.Time
	workload.Late
}

// phase is the wall time of one phase of the run.
type phase struct {
	name string
	msgs int64 // Messages that reached a final state in the phase.
	wall time.Duration
}

// soak is one run.
type soak struct {
	cfg   config
	db    *bstore.DB
	clock *queuetest.Clock
	h     *queue.Handler
	hooks *countingHooks
	dsns  *dsnCounter
	recv  *receiver
	work  workload.Submissions

	led       ledger
	subs      int64 // Submissions added.
	late      []lateDSN
	dsnMark   int64                   // Highest OutboxDSN ID counted.
	dsnQueued map[queue.DSNKind]int64 // DSNs committed to the outbox, per kind.
	lastLog   time.Time
	start     time.Time
	peakQueue int64
	peakAnon  int64 // Largest RssAnon seen by progress.
}

// run runs the soak and returns its report; an error means the run could
// not be completed, a broken ledger is in the report.
func run(ctx context.Context, cfg config) (rep *report, rerr error) {
	cfg.defaults()
	dir := cfg.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bouncekit-soak-")
		if err != nil {
			return nil, fmt.Errorf("soak: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	path := filepath.Join(dir, dbName)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("soak: removing old database: %w", err)
	}
	db, err := workload.OpenDB(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("soak: %w", err)
	}
	dbClosed := false
	defer func() {
		if !dbClosed {
			if err := db.Close(); err != nil && rerr == nil {
				rerr = err
			}
		}
	}()
	recv, err := startReceiver()
	if err != nil {
		return nil, fmt.Errorf("soak: webhook receiver: %w", err)
	}
	defer func() {
		if err := recv.close(context.Background()); err != nil && rerr == nil {
			rerr = fmt.Errorf("soak: webhook receiver: %w", err)
		}
	}()

	s := &soak{
		cfg:       cfg,
		db:        db,
		clock:     queuetest.NewClock(workload.ClockStart()),
		recv:      recv,
		work:      newWorkload(cfg.Seed, cfg.Msgs, accounts),
		dsnQueued: map[queue.DSNKind]int64{},
		start:     time.Now(),
	}
	s.setup()

	workers := workload.StartWorkers(ctx, s.h.Run, s.hooks.q.Run)
	defer workers.Stop()

	var phases []phase
	t0 := time.Now()
	final0 := int64(0)
	mark := func(name string) {
		f := s.led.delivered + s.led.failed + s.led.suppressed
		phases = append(phases, phase{name, f - final0, time.Since(t0)})
		t0, final0 = time.Now(), f
	}
	if err := s.addPhase(ctx); err != nil {
		return nil, err
	}
	mark("add (simulated " + s.clock.Now().Sub(workload.ClockStart()).Round(time.Minute).String() + ")")
	simAdd := s.clock.Now()
	if err := s.drainPhase(ctx); err != nil {
		return nil, err
	}
	mark("drain queue (simulated " + s.clock.Now().Sub(simAdd).Round(time.Minute).String() + ")")
	if err := s.flushPhase(ctx); err != nil {
		return nil, err
	}
	mark("flush outbox and webhooks")
	wall := time.Since(s.start)
	if err := workers.Stop(); err != nil {
		return nil, fmt.Errorf("soak: background worker: %w", err)
	}

	rep, err = s.report(ctx, phases, wall)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("soak: closing database: %w", err)
	}
	dbClosed = true
	if fi, err := os.Stat(path); err == nil {
		rep.dbSize = fi.Size()
	}
	rep.peakRSS = peakRSS()
	rep.peakAnon = max(s.peakAnon, procStatus("RssAnon:"))
	return rep, nil
}

func (s *soak) setup() {
	q := workload.HookQueue(s.db, s.clock)
	q.Timeout = 30 * time.Second
	q.ShutdownTimeout = 5 * time.Second
	q.KeepRetired = keep
	s.hooks = &countingHooks{
		q:         q,
		pending:   map[webhook.OutgoingEvent]int64{},
		committed: map[webhook.OutgoingEvent]int64{},
	}
	s.dsns = &dsnCounter{kinds: map[queue.DSNKind]int64{}, notify: make(chan struct{}, 1)}
	settings := map[string]queue.AccountSettings{}
	for _, a := range accounts {
		settings[a] = queue.AccountSettings{WebhookURL: s.recv.url(a), KeepRetired: keep, KeepHooks: keep}
	}
	s.h = workload.Handler(s.db, s.clock, hostname, settings, "soak\r\n")
	s.h.RetryPolicy = queue.DefaultPolicy()
	s.h.DSNDeliverer = s.dsns
	s.h.Hooks = s.hooks
	s.h.Rand = rand.NewChaCha8(seed32(s.cfg.Seed))
}

func seed32(seed uint64) (b [32]byte) {
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

// write runs fn in a write transaction of the delivery loop; on commit it
// adds d to the ledger, counts the DSNs the transaction queued, and kicks
// the workers.
func (s *soak) write(ctx context.Context, fn func(tx *bstore.Tx, d *ledger) error) error {
	var d ledger
	dsns := map[queue.DSNKind]int64{}
	mark := s.dsnMark
	s.hooks.begin()
	err := s.db.Write(ctx, func(tx *bstore.Tx) error {
		if err := fn(tx, &d); err != nil {
			return err
		}
		// Only this loop adds to the outbox and IDs only grow, so the
		// DSNs above the mark are this transaction's.
		q := bstore.QueryTx[queue.OutboxDSN](tx)
		q.FilterGreater("ID", s.dsnMark)
		return q.ForEach(func(o queue.OutboxDSN) error {
			dsns[o.Kind]++
			mark = max(mark, o.ID)
			return nil
		})
	})
	if err != nil {
		s.hooks.begin()
		return fmt.Errorf("soak: transaction: %w", err)
	}
	s.hooks.commit()
	d.txs = 1
	s.led.merge(d)
	s.dsnMark = mark
	for k, n := range dsns {
		s.dsnQueued[k] += n
	}
	s.h.Kick()
	return nil
}

// addPhase adds the messages at cfg.Rate per simulated minute, attempting
// what is due as it goes.
func (s *soak) addPhase(ctx context.Context) error {
	for minute := int64(1); s.led.added < s.cfg.Msgs; minute++ {
		s.clock.Advance(time.Minute)
		s.h.Kick()
		target := min(s.cfg.Msgs, minute*s.cfg.Rate)
		for s.led.added < target {
			if err := s.add(ctx, target); err != nil {
				return err
			}
		}
		if err := s.step(ctx); err != nil {
			return err
		}
		if err := s.backpressure(ctx); err != nil {
			return err
		}
	}
	return nil
}

// step attempts everything due now and processes the late DSNs that
// arrived.
func (s *soak) step(ctx context.Context) error {
	for {
		more, err := s.dueRound(ctx)
		if err != nil {
			return err
		} else if !more {
			break
		}
	}
	if err := s.lateDSNs(ctx); err != nil {
		return err
	}
	s.peakQueue = max(s.peakQueue, s.led.added-s.led.delivered-s.led.failed-s.led.suppressed)
	s.progress(false)
	return nil
}

// drainPhase moves the clock to the next due message or DSN until the
// queue is empty.
func (s *soak) drainPhase(ctx context.Context) error {
	for {
		if err := s.step(ctx); err != nil {
			return err
		}
		if err := s.backpressure(ctx); err != nil {
			return err
		}
		var next time.Time
		var pending bool
		err := s.db.Read(ctx, func(tx *bstore.Tx) (err error) {
			next, pending, err = queue.NextDue(tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("soak: next due: %w", err)
		}
		if len(s.late) > 0 && (!pending || s.late[0].at.Before(next)) {
			next, pending = s.late[0].at, true
		}
		if !pending {
			return nil
		}
		// At least a Tick per round: what comes due within it is
		// attempted in one round, so transactions are large, as a busy
		// host's are.
		s.clock.Set(maxTime(next, s.clock.Now().Add(s.cfg.Tick)))
		s.h.Kick()
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// flushPhase waits until the DSN outbox and the webhook queue are empty
// and everything committed was received. The clock moves a minute per
// round, so a DSN or hook retry would come due too.
func (s *soak) flushPhase(ctx context.Context) error {
	progressAt := time.Now()
	var lastHooks, lastDSNs int64
	for {
		var hooks, outbox int
		err := s.db.Read(ctx, func(tx *bstore.Tx) (err error) {
			if hooks, err = bstore.QueryTx[hookqueue.Hook](tx).Count(); err != nil {
				return err
			}
			outbox, err = bstore.QueryTx[queue.OutboxDSN](tx).Count()
			return err
		})
		if err != nil {
			return fmt.Errorf("soak: counting pending work: %w", err)
		}
		if hooks == 0 && outbox == 0 {
			return nil
		}
		got, _ := s.recv.counts()
		dsns := s.dsns.unique()
		if got != lastHooks || dsns != lastDSNs {
			lastHooks, lastDSNs, progressAt = got, dsns, time.Now()
		} else if time.Since(progressAt) > 2*time.Minute {
			return fmt.Errorf("soak: no progress for 2 minutes with %d hooks and %d dsns pending", hooks, outbox)
		}
		s.clock.Advance(time.Minute)
		s.h.Kick()
		s.wait(ctx, 100*time.Millisecond)
		s.progress(false)
	}
}

// wait waits for the receiver or the DSN deliverer to report, at most d
// of real time.
func (s *soak) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.recv.notify:
	case <-s.dsns.notify:
	case <-t.C:
	}
}

// backpressure waits while the workers are more than MaxHooks webhooks or
// DSNs behind: the soak measures the whole pipeline, not a growing
// backlog.
func (s *soak) backpressure(ctx context.Context) error {
	for ctx.Err() == nil {
		got, _ := s.recv.counts()
		var queued int64
		for _, n := range s.dsnQueued {
			queued += n
		}
		if s.hooks.total()-got <= s.cfg.MaxHooks && queued-s.dsns.unique() <= s.cfg.MaxHooks {
			return nil
		}
		s.h.Kick()
		s.wait(ctx, 100*time.Millisecond)
		s.progress(false)
	}
	return ctx.Err()
}

// add adds submissions, at most AddTx messages and no more than target in
// all, in one transaction.
func (s *soak) add(ctx context.Context, target int64) error {
	subs := s.subs
	err := s.write(ctx, func(tx *bstore.Tx, d *ledger) error {
		subs = s.subs
		for n := 0; n < s.cfg.AddTx && s.led.added+d.added < target; {
			subs++
			sub := s.work.Draw(subs, int(min(target-s.led.added-d.added, 10)))
			msgs := make([]*queue.Msg, len(sub.Recipients))
			for i, rcpt := range sub.Recipients {
				msgs[i] = &queue.Msg{
					SenderAccount:    sub.Account,
					SenderAddress:    workload.SenderAddress(sub.Account),
					RecipientAddress: rcpt,
					MessageID:        fmt.Sprintf("sub%d@sender.example", subs),
					Subject:          fmt.Sprintf("soak %d", subs),
					Size:             2048,
				}
			}
			outs, err := s.h.Add(tx, msgs...)
			if err != nil {
				return fmt.Errorf("adding submission %d: %w", subs, err)
			}
			d.added += int64(len(outs))
			n += len(outs)
			for _, o := range outs {
				if o.Result == queue.ResultSuppressed {
					d.suppressed++
					d.addSuppressed++
				}
			}
		}
		return nil
	})
	if err == nil {
		s.subs = subs
	}
	return err
}

// dueRound attempts up to DueTx due messages in one transaction and
// reports whether there may be more.
func (s *soak) dueRound(ctx context.Context) (bool, error) {
	now := s.clock.Now()
	var delivered []queue.Msg
	var found bool
	err := s.write(ctx, func(tx *bstore.Tx, d *ledger) error {
		delivered, found = nil, false
		batches, err := s.h.Due(tx, now, s.cfg.DueTx)
		if err != nil {
			return err
		}
		// Due gives up messages whose recipient was suppressed while
		// they waited, with the "suppressed" webhook each.
		d.dueSuppressed = s.hooks.pendingEvent(webhook.EventSuppressed)
		d.suppressed += d.dueSuppressed
		found = len(batches) > 0 || d.dueSuppressed > 0
		for _, b := range batches {
			var ok []queue.Msg
			type group struct {
				err  error
				msgs []queue.Msg
			}
			var failed []*group
			byErr := map[string]*group{}
			for _, m := range b.Msgs {
				d.attempts++
				m.Attempt = queue.Attempt{Start: now, Duration: time.Second, RemoteMTA: "mx." + m.RecipientDomain}
				aerr := workload.AttemptError(m.RecipientAddress, m.Attempts+1)
				if aerr == nil {
					ok = append(ok, m)
					continue
				}
				k := aerr.Error()
				g := byErr[k]
				if g == nil {
					g = &group{err: aerr}
					byErr[k] = g
					failed = append(failed, g)
				}
				g.msgs = append(g.msgs, m)
			}
			if len(ok) > 0 {
				outs, err := s.h.DeliveredMsgs(tx, ok, workload.Accepted())
				if err != nil {
					return err
				}
				d.outcomes(outs)
				for i, o := range outs {
					if o.Result == queue.ResultDelivered && workload.ProfileOf(ok[i].RecipientAddress) == workload.ProfileLate {
						delivered = append(delivered, ok[i])
					}
				}
			}
			for _, g := range failed {
				outs, err := s.h.FailMsgs(tx, g.msgs, g.err)
				if err != nil {
					return err
				}
				d.outcomes(outs)
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, m := range delivered {
		s.late = append(s.late, lateDSN{
			at: now.Add(s.cfg.Late),
			Late: workload.Late{
				MsgID:     m.ID,
				Account:   m.SenderAccount,
				RcptTo:    m.MailFrom(workload.Separator),
				Recipient: m.RecipientAddress,
				MessageID: m.MessageID,
				Subject:   m.Subject,
			},
		})
	}
	return found, nil
}

// lateDSNs processes the late DSNs that arrived by now, LateTx per
// transaction. Every tenth is processed twice: the second must change
// nothing.
func (s *soak) lateDSNs(ctx context.Context) error {
	now := s.clock.Now()
	for len(s.late) > 0 && !s.late[0].at.After(now) {
		n := 0
		for n < len(s.late) && n < s.cfg.LateTx && !s.late[n].at.After(now) {
			n++
		}
		batch := s.late[:n]
		err := s.write(ctx, func(tx *bstore.Tx, d *ledger) error {
			for _, l := range batch {
				msg, err := l.Compose(now)
				if err != nil {
					return err
				}
				times := 1
				if l.MsgID%10 == 0 {
					times = 2
				}
				for range times {
					res, err := s.h.ProcessIncoming(tx, l.Account, l.RcptTo, msg)
					if err != nil {
						return fmt.Errorf("processing dsn for message %d: %w", l.MsgID, err)
					}
					d.lateSent++
					for _, o := range res.Recipients {
						switch {
						case o.Duplicate:
							d.lateDup++
						case o.Event == webhook.EventFailed && o.MsgID == l.MsgID && !o.Queued:
							d.lateFailed++
							d.delivered--
							d.failed++
						default:
							d.lateOther++
						}
					}
					if len(res.Recipients) == 0 {
						d.lateOther++
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.late = s.late[n:]
	}
	if len(s.late) == 0 {
		s.late = nil // Let the backing array go.
	}
	return nil
}

// progress prints a line every 10 seconds (or when forced).
func (s *soak) progress(force bool) {
	if !force && time.Since(s.lastLog) < 10*time.Second {
		return
	}
	s.lastLog = time.Now()
	// Anonymous memory (heap, stacks) without the mapped database file:
	// sampled, the kernel keeps no peak of it.
	s.peakAnon = max(s.peakAnon, procStatus("RssAnon:"))
	got, _ := s.recv.counts()
	queued := s.led.added - s.led.delivered - s.led.failed - s.led.suppressed
	fmt.Fprintf(s.cfg.Progress, "%6.0fs  added %d  queued %d  delivered %d  failed %d  suppressed %d  late dsns %d  hooks %d/%d  dsns %d  simulated %s\n",
		time.Since(s.start).Seconds(), s.led.added, queued, s.led.delivered, s.led.failed, s.led.suppressed,
		s.led.lateSent, got, s.hooks.total(), s.dsns.unique(), s.clock.Now().Sub(workload.ClockStart()).Round(time.Minute))
}

// peakRSS returns the process's peak resident set size in bytes, from
// VmHWM in /proc/self/status; 0 where that is not available. It includes
// the pages of the database file that bbolt maps.
func peakRSS() int64 {
	return procStatus("VmHWM:")
}

// procStatus returns a field of /proc/self/status in bytes, or 0.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}
