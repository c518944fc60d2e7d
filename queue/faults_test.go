package queue_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// faults are the faults injected at each boundary of a Handler; nil ones
// never fire.
type faults struct {
	compose, stop, process, delivered, hooks, open, accounts *queuetest.Fault
}

// faultHandler returns a Handler on e's database whose boundaries are the
// real bstore stores (so their writes land in the caller's transaction)
// and recording fakes, each behind a faulty wrapper with f's fault.
func (e *env) faultHandler(f faults) *queue.Handler {
	return &queue.Handler{
		DB:            e.db,
		DSNComposer:   queuetest.FaultyComposer{Next: e.composer, Fault: f.compose},
		DSNDeliverer:  e.dl,
		Suppressions:  queuetest.FaultySuppressions{Next: &suppression.Store{}, Stop: f.stop, Process: f.process, Delivered: f.delivered},
		Hooks:         queuetest.FaultyHooks{Next: &hookqueue.Queue{DB: e.db, Now: e.clock.Now}, Fault: f.hooks},
		MessageOpener: queuetest.FaultyOpener{Next: e.msgs, Fault: f.open},
		Accounts:      queuetest.FaultyAccounts{Next: e.h.Accounts, Fault: f.accounts},
		Hostname:      "mail.example.org",
		Now:           e.clock.Now,
		After:         e.clock.After,
	}
}

// dumpAll returns every record of every type in queue.DBTypes, to compare
// database states.
func (e *env) dumpAll() map[string]any {
	e.t.Helper()
	d := map[string]any{}
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		for name, list := range map[string]func() (any, error){
			"msg":          func() (any, error) { return bstore.QueryTx[queue.Msg](tx).List() },
			"retired":      func() (any, error) { return bstore.QueryTx[queue.MsgRetired](tx).List() },
			"hold":         func() (any, error) { return bstore.QueryTx[queue.HoldRule](tx).List() },
			"outbox":       func() (any, error) { return bstore.QueryTx[queue.OutboxDSN](tx).List() },
			"seen":         func() (any, error) { return bstore.QueryTx[queue.IncomingSeen](tx).List() },
			"seen v1":      func() (any, error) { return bstore.QueryTx[queue.IncomingSeenV1](tx).List() },
			"suppression":  func() (any, error) { return bstore.QueryTx[suppression.Entry](tx).List() },
			"hook":         func() (any, error) { return bstore.QueryTx[hookqueue.Hook](tx).List() },
			"hook retired": func() (any, error) { return bstore.QueryTx[hookqueue.HookRetired](tx).List() },
			"hook body":    func() (any, error) { return bstore.QueryTx[hookqueue.HookBody](tx).List() },
			// The suppression list's own record types are unexported:
			// read by type name.
			"suppression expiry":    func() (any, error) { return recordsByName(tx, "SuppressionExpiry") },
			"suppression migration": func() (any, error) { return recordsByName(tx, "SuppressionExpiryMigration") },
		} {
			l, err := list()
			if err != nil {
				return fmt.Errorf("listing %s: %w", name, err)
			}
			d[name] = l
		}
		return nil
	})
	tcheck(e.t, err, "dump")
	if len(d) != len(queue.DBTypes()) {
		e.t.Fatalf("dump has %d types, queue.DBTypes %d: add the new type to dumpAll", len(d), len(queue.DBTypes()))
	}
	return d
}

// recordsByName returns every record of the stored type typeName, as
// field maps in primary key order.
func recordsByName(tx *bstore.Tx, typeName string) ([]map[string]any, error) {
	var fields []string
	var l []map[string]any
	err := tx.Records(typeName, &fields, func(r map[string]any) error {
		l = append(l, r)
		return nil
	})
	return l, err
}

// faultState is the database a fault case starts from: a recipient that
// failed for good (a history record, a suppression entry, a DSN and a
// hook), three queued messages of one submission, and a delivered message
// with a FromID for a DSN to come back to.
type faultState struct {
	old, queued []queue.Msg
	sent        queue.Msg
}

func (e *env) faultState() faultState {
	e.t.Helper()
	e.h.Suppressions = &suppression.Store{}
	e.h.Hooks = &hookqueue.Queue{DB: e.db, Now: e.clock.Now}
	var s faultState
	s.old = e.add(nil, "old@example.com")
	e.fail(s.old, permErr())
	s.queued = e.add(nil, "a@example.com", "b@example.com", "c@example.com")
	s.sent = e.add(func(m *queue.Msg) { m.FromID = "fromid1" }, "d@example.com")[0]
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.DeliveredMsgs(tx, []queue.Msg{s.sent}, queue.Delivery{Code: 250})
		return err
	})
	tcheck(e.t, err, "delivered")
	e.clock.Advance(time.Hour)
	return s
}

// TestFaultAtEveryBoundary injects a fault at each boundary a Handler call
// crosses, before the call reaches the store and (Late) after the store
// wrote in the transaction. The call must return an error that names the
// boundary and wraps the injected error, and the rolled-back transaction
// must leave every table as it was.
func TestFaultAtEveryBoundary(t *testing.T) {
	failMsgs := func(err error) func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
		return func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
			_, xerr := h.FailMsgs(tx, s.queued, err)
			return xerr
		}
	}
	delivered := func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
		_, err := h.DeliveredMsgs(tx, s.queued, queue.Delivery{Code: 250})
		return err
	}
	cancel := func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
		_, err := h.CancelMsgs(tx, queue.MsgFilter{Account: "alice"})
		return err
	}
	add := func(rcpt string) func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
		return func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
			_, err := h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt})
			return err
		}
	}
	incoming := func(h *queue.Handler, tx *bstore.Tx, s faultState) error {
		d := composeDSN(t, "<dsn1@mx.example.com>", "", nil, failedRcpt("d@example.com", "5.1.1", "550 5.1.1 user unknown"))
		_, err := h.ProcessIncoming(tx, "alice", s.sent.MailFrom("+"), d)
		return err
	}
	late := func(skip int) *queuetest.Fault { return &queuetest.Fault{Skip: skip, Late: true} }
	early := func(skip int) *queuetest.Fault { return &queuetest.Fault{Skip: skip} }

	for _, tc := range []struct {
		name   string
		op     func(h *queue.Handler, tx *bstore.Tx, s faultState) error
		faults faults
		want   string // Error text naming the boundary; %d is the first queued message's ID.
	}{
		{"failmsgs permanent: suppression lookup", failMsgs(permErr()), faults{stop: early(0)}, "queue: looking up suppression of a@example.com: "},
		{"failmsgs permanent: suppression lookup mid-batch, late", failMsgs(permErr()), faults{stop: late(2)}, "queue: looking up suppression of c@example.com: "},
		{"failmsgs permanent: suppression process", failMsgs(permErr()), faults{process: early(0)}, "queue: processing suppression of a@example.com: "},
		{"failmsgs permanent: suppression process mid-batch, late", failMsgs(permErr()), faults{process: late(1)}, "queue: processing suppression of b@example.com: "},
		{"failmsgs permanent: composer", failMsgs(permErr()), faults{compose: early(0)}, "queue: composing failed dsn for message %d: "},
		{"failmsgs permanent: hook queue", failMsgs(permErr()), faults{hooks: early(0)}, "queue: queueing webhooks: "},
		{"failmsgs permanent: hook queue, late", failMsgs(permErr()), faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"failmsgs temporary: suppression lookup", failMsgs(tempErr()), faults{stop: early(1)}, "queue: looking up suppression of b@example.com: "},
		{"failmsgs temporary: hook queue, late", failMsgs(tempErr()), faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"failmsgs suppressed: hook queue, late", failMsgs(queue.ErrSuppressed), faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"deliveredmsgs: suppression", delivered, faults{delivered: early(0)}, "queue: clearing suppression of a@example.com: "},
		{"deliveredmsgs: suppression mid-batch, late", delivered, faults{delivered: late(2)}, "queue: clearing suppression of c@example.com: "},
		{"deliveredmsgs: hook queue, late", delivered, faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"cancelmsgs: hook queue, late", cancel, faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"add: suppression lookup", add("new@example.com"), faults{stop: early(0)}, "queue: looking up suppression of new@example.com: "},
		{"add suppressed: suppression lookup, late", add("old@example.com"), faults{stop: late(0)}, "queue: looking up suppression of old@example.com: "},
		{"add suppressed: hook queue, late", add("old@example.com"), faults{hooks: late(0)}, "queue: queueing webhooks: "},
		{"processincoming: suppression", incoming, faults{process: early(0)}, "queue: processing suppression of d@example.com: "},
		{"processincoming: suppression, late", incoming, faults{process: late(0)}, "queue: processing suppression of d@example.com: "},
		{"processincoming: hook queue, late", incoming, faults{hooks: late(0)}, "queue: queueing webhooks: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			s := e.faultState()
			before := e.dumpAll()
			h := e.faultHandler(tc.faults)
			err := e.write(func(tx *bstore.Tx) error { return tc.op(h, tx, s) })
			if !errors.Is(err, queuetest.ErrInjected) {
				t.Fatalf("got error %v, want one wrapping the injected error", err)
			}
			prefix := tc.want
			if strings.Contains(prefix, "%d") {
				prefix = fmt.Sprintf(prefix, s.queued[0].ID)
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Fatalf("error %q does not start with %q", err, prefix)
			}
			var fired int
			for _, f := range []*queuetest.Fault{tc.faults.compose, tc.faults.stop, tc.faults.process, tc.faults.delivered, tc.faults.hooks} {
				fired += f.Failed()
			}
			want := 1
			if tc.faults.compose != nil {
				want = 2 // The request, then the minimal one.
			}
			tcompare(t, fired, want, "faults fired")
			tcompare(t, e.dumpAll(), before, "database after rollback")
		})
	}
}

// TestFaultComposer checks FailMsgs with a composer that refuses: once,
// and FailMsgs retries without the optional fields and queues the DSN;
// always, and FailMsgs returns the error and changes nothing.
func TestFaultComposer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		times   int
		wantErr bool
	}{
		{"refuses once", 1, false},
		{"refuses always", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			s := e.faultState()
			e.composer.Requests = nil
			before := e.dumpAll()
			f := &queuetest.Fault{Times: tc.times}
			h := e.faultHandler(faults{compose: f})
			err := e.write(func(tx *bstore.Tx) error {
				_, err := h.FailMsgs(tx, s.queued[:1], permErr())
				return err
			})
			tcompare(t, f.Calls(), 2, "composer calls: the request, then the minimal one")
			if tc.wantErr {
				if !errors.Is(err, queuetest.ErrInjected) {
					t.Fatalf("got %v, want the composer's error", err)
				}
				want := fmt.Sprintf("queue: composing failed dsn for message %d: ", s.queued[0].ID)
				if !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("error %q does not start with %q", err, want)
				}
				tcompare(t, e.dumpAll(), before, "database after rollback")
				return
			}
			tcheck(t, err, "failmsgs")
			tcompare(t, len(e.composer.Requests), 1, "requests composed")
			req := e.composer.Requests[0]
			tcompare(t, req.Original == nil, true, "minimal dsn goes without the original")
			tcompare(t, req.Recipients[0].Msg.ID, s.queued[0].ID, "recipient")
			ob := e.outbox()
			tcompare(t, len(ob), 2, "outbox: the earlier dsn and this one")
			tcompare(t, ob[1].MsgID, s.queued[0].ID, "dsn message")
		})
	}
}

// TestFaultSideBoundaries checks the boundaries whose failure must not
// fail the call: a message that cannot be opened or read makes a DSN
// without the original, and an account lookup that fails sends the DSN
// to the postmaster and queues no webhook.
func TestFaultSideBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name        string
		faults      func() (faults, *queuetest.Fault)
		wantAccount string
		wantHooks   int
	}{
		{"open fails", func() (faults, *queuetest.Fault) {
			f := &queuetest.Fault{}
			return faults{open: f}, f
		}, "alice", 1},
		{"open fails late", func() (faults, *queuetest.Fault) {
			f := &queuetest.Fault{Late: true}
			return faults{open: f}, f
		}, "alice", 1},
		{"account lookup fails", func() (faults, *queuetest.Fault) {
			f := &queuetest.Fault{}
			return faults{accounts: f}, f
		}, "postmaster", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			s := e.faultState()
			e.composer.Requests = nil
			fs, f := tc.faults()
			h := e.faultHandler(fs)
			hooksBefore := len(e.dumpAll()["hook"].([]hookqueue.Hook))
			var out []queue.Outcome
			err := e.write(func(tx *bstore.Tx) error {
				var err error
				out, err = h.FailMsgs(tx, s.queued[:1], permErr())
				return err
			})
			tcheck(t, err, "failmsgs")
			if f.Failed() == 0 {
				t.Fatalf("fault did not fire")
			}
			tcompare(t, out[0].Result, queue.ResultFailed, "result")
			tcompare(t, len(e.composer.Requests), 1, "requests composed")
			if fs.open != nil {
				tcompare(t, e.composer.Requests[0].Original == nil, true, "dsn without the original")
			}
			ob := e.outbox()
			tcompare(t, ob[len(ob)-1].Account, tc.wantAccount, "dsn account")
			tcompare(t, len(e.dumpAll()["hook"].([]hookqueue.Hook))-hooksBefore, tc.wantHooks, "hooks queued")
		})
	}

	// A reader that fails after part of the header: the DSN goes without
	// the original rather than with a truncated one.
	e := newEnv(t, queue.RetryPolicy{})
	s := e.faultState()
	e.composer.Requests = nil
	h := e.faultHandler(faults{})
	h.MessageOpener = queuetest.FaultyOpener{Next: e.msgs, ReadFault: &queuetest.Fault{}, ReadAfter: 10}
	err := e.write(func(tx *bstore.Tx) error {
		_, err := h.FailMsgs(tx, s.queued[:1], permErr())
		return err
	})
	tcheck(t, err, "failmsgs with failing reader")
	tcompare(t, e.composer.Requests[0].Original == nil, true, "dsn without a partly read original")
}

// recordingDeliverer records the clock's time and the Message-ID of each
// delivery attempt.
type recordingDeliverer struct {
	clock *queuetest.Clock
	mu    sync.Mutex
	at    []time.Time
	ids   map[string]int
}

func (d *recordingDeliverer) DeliverDSN(ctx context.Context, ob queue.OutboxDSN) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.at = append(d.at, d.clock.Now())
	if d.ids == nil {
		d.ids = map[string]int{}
	}
	d.ids[ob.MessageID]++
	return nil
}

func (d *recordingDeliverer) times() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.at...)
}

// runHandler starts h.Run and returns a function that stops it and waits
// for it to return.
func runHandler(t *testing.T, h *queue.Handler) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			tcheck(t, <-done, "run")
		})
	}
	t.Cleanup(stop)
	return stop
}

// idle waits until Run sleeps on the clock again. A Run that spins never
// does, and fails the test.
func idle(t *testing.T, clock *queuetest.Clock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := clock.WaitTimers(ctx, 1); err != nil {
		t.Fatalf("run does not go back to sleep: %v", err)
	}
}

// TestFaultOutboxBackoff fails every DSN delivery while the clock moves
// in steps of 10 seconds for three hours: Run tries the DSN with a
// growing delay (at most one attempt per minute, and fewer as it backs
// off), goes back to sleep after each round, and delivers the DSN once
// the deliverer works again. Each failure happens after the receiver got
// the DSN (Late), so it gets the same Message-ID every time.
func TestFaultOutboxBackoff(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(nil, "a@example.com")
	e.fail(m, permErr())
	rec := &recordingDeliverer{clock: e.clock}
	f := &queuetest.Fault{Late: true} // Each failing attempt reaches the receiver.
	h := e.faultHandler(faults{})
	h.DSNDeliverer = queuetest.FaultyDeliverer{Next: rec, Fault: f}
	h.CleanupInterval = 10 * time.Minute
	stop := runHandler(t, h)

	const step, span = 10 * time.Second, 3 * time.Hour
	for elapsed := time.Duration(0); elapsed < span; elapsed += step {
		idle(t, e.clock)
		if limit := 1 + int(elapsed/time.Minute); f.Calls() > limit {
			t.Fatalf("after %v: %d delivery attempts, more than %d (one a minute)", elapsed, f.Calls(), limit)
		}
		e.clock.Advance(step)
	}
	idle(t, e.clock)
	at := rec.times()
	t.Logf("%d delivery attempts in %v: %v", len(at), span, at)
	if len(at) < 6 {
		t.Fatalf("%d attempts in %v, expected retries", len(at), span)
	}
	for i := 2; i < len(at); i++ {
		if prev, gap := at[i-1].Sub(at[i-2]), at[i].Sub(at[i-1]); gap < prev && gap < time.Hour {
			t.Fatalf("attempt %d: gap %v shorter than the one before, %v", i+1, gap, prev)
		}
	}
	tcompare(t, len(e.outbox()), 1, "dsn still in the outbox")
	tcompare(t, e.outbox()[0].Attempts, int64(len(at)), "attempts recorded")

	f.Heal()
	for len(e.outbox()) > 0 {
		e.clock.Advance(time.Minute)
		idle(t, e.clock)
	}
	stop()
	tcompare(t, len(rec.times()), len(at)+1, "deliveries: every failed one and the successful one")
	tcompare(t, len(rec.ids), 1, "message-ids: the same dsn each time")
}

// countingHandler counts log records by message.
type countingHandler struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (c *countingHandler) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[r.Message]++
	return nil
}
func (c *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingHandler) WithGroup(string) slog.Handler      { return c }

func (c *countingHandler) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[msg]
}

// TestFaultRunStorage runs Run on a database that refuses every
// transaction (closed): each round fails, is logged, and the next waits a
// minute (cleanup: its interval), so Run does not spin.
func TestFaultRunStorage(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(nil, "a@example.com")
	e.fail(m, permErr())
	tcheck(t, e.db.Close(), "close db")
	logs := &countingHandler{counts: map[string]int{}}
	h := e.faultHandler(faults{})
	h.Logger = slog.New(logs)
	h.CleanupInterval = 5 * time.Minute
	stop := runHandler(t, h)

	const step, span = 10 * time.Second, 30 * time.Minute
	for elapsed := time.Duration(0); elapsed < span; elapsed += step {
		idle(t, e.clock)
		e.clock.Advance(step)
	}
	idle(t, e.clock)
	stop()
	outbox := logs.count("delivering dsns from outbox")
	cleanup := logs.count("removing expired retired messages")
	t.Logf("%v of refused transactions: %d outbox rounds, %d cleanups", span, outbox, cleanup)
	if outbox < 2 || outbox > 1+int(span/time.Minute) {
		t.Fatalf("%d failed outbox rounds in %v, want between 2 and one a minute", outbox, span)
	}
	if cleanup < 2 || cleanup > 1+int(span/h.CleanupInterval) {
		t.Fatalf("%d failed cleanups in %v, want between 2 and one per interval", cleanup, span)
	}
}

// blockingDeliverer blocks each delivery until ctx is done, as a delivery
// cut off by shutdown.
type blockingDeliverer struct {
	started chan struct{}
}

func (d blockingDeliverer) DeliverDSN(ctx context.Context, ob queue.OutboxDSN) error {
	d.started <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// TestFaultOutboxShutdown stops Run while a DSN delivery is in progress.
// The interrupted delivery is no attempt: the DSN stays due with its
// attempts unchanged (so restarts cannot use up its attempts and drop it),
// and the next Run delivers it.
func TestFaultOutboxShutdown(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(nil, "a@example.com")
	e.fail(m, permErr())
	before := e.outbox()
	tcompare(t, len(before), 1, "outbox")

	bd := blockingDeliverer{started: make(chan struct{}, 1)}
	h := e.faultHandler(faults{})
	h.DSNDeliverer = bd
	stop := runHandler(t, h)
	<-bd.started
	stop()
	tcompare(t, e.outbox(), before, "outbox after a delivery cut off by shutdown")

	dl := &queuetest.Deliverer{C: make(chan queue.OutboxDSN, 1)}
	h = e.faultHandler(faults{})
	h.DSNDeliverer = dl
	stop = runHandler(t, h)
	<-dl.C
	stop()
	tcompare(t, len(e.outbox()), 0, "outbox after the next run")
	tcompare(t, len(dl.List()), 1, "delivered")
	tcompare(t, dl.List()[0].MessageID, before[0].MessageID, "message-id")
}
