package queue_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// env is a Handler on a fresh database with recording fakes.
type env struct {
	t        *testing.T
	db       *bstore.DB
	h        *queue.Handler
	clock    *queuetest.Clock
	composer *queuetest.Composer
	dl       *queuetest.Deliverer
	supp     *queuetest.Suppressions
	hooks    *queuetest.Hooks
	msgs     *queuetest.Messages
}

const origMsg = "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\nbody text\r\n"

func newEnv(t *testing.T, policy queue.RetryPolicy) *env {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "q.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	tcheck(t, err, "open db")
	t.Cleanup(func() { db.Close() })
	e := &env{
		t:        t,
		db:       db,
		clock:    queuetest.NewClock(t0),
		composer: &queuetest.Composer{},
		dl:       &queuetest.Deliverer{},
		supp:     &queuetest.Suppressions{},
		hooks:    &queuetest.Hooks{},
		msgs:     &queuetest.Messages{Default: []byte(origMsg)},
	}
	e.h = &queue.Handler{
		DB:            db,
		RetryPolicy:   policy,
		DSNComposer:   e.composer,
		DSNDeliverer:  e.dl,
		Suppressions:  e.supp,
		Hooks:         e.hooks,
		MessageOpener: e.msgs,
		Hostname:      "mail.example.org",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			switch name {
			case "alice", "postmaster":
				return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: 30 * 24 * time.Hour}, true
			case "nohistory":
				return queue.AccountSettings{KeepRetired: -1}, true
			case "defaults":
				return queue.AccountSettings{}, true
			}
			return queue.AccountSettings{}, false
		}),
		Now:   e.clock.Now,
		After: e.clock.After,
	}
	return e
}

// counter returns the value of the counter name with a label value.
func counter(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	tcheck(t, err, "gather")
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func tcompare(t *testing.T, got, want any, msg string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %#v\nwant %#v", msg, got, want)
	}
}

func (e *env) write(fn func(tx *bstore.Tx) error) error {
	return e.db.Write(context.Background(), fn)
}

// add queues messages from alice to the recipients, one submission.
func (e *env) add(mod func(m *queue.Msg), rcpts ...string) []queue.Msg {
	e.t.Helper()
	var ptrs []*queue.Msg
	for _, r := range rcpts {
		m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: r, MessageID: "m1@example.org", Subject: "hi"}
		if mod != nil {
			mod(m)
		}
		ptrs = append(ptrs, m)
	}
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.Add(tx, ptrs...)
		return err
	})
	tcheck(e.t, err, "add")
	l := make([]queue.Msg, len(ptrs))
	for i, p := range ptrs {
		l[i] = *p
	}
	return l
}

func (e *env) fail(msgs []queue.Msg, err error) []queue.Outcome {
	e.t.Helper()
	var out []queue.Outcome
	xerr := e.write(func(tx *bstore.Tx) error {
		var err2 error
		out, err2 = e.h.FailMsgs(tx, msgs, err)
		return err2
	})
	tcheck(e.t, xerr, "failmsgs")
	return out
}

func (e *env) outbox() []queue.OutboxDSN {
	e.t.Helper()
	var l []queue.OutboxDSN
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		l, err = bstore.QueryTx[queue.OutboxDSN](tx).List()
		return err
	})
	tcheck(e.t, err, "list outbox")
	return l
}

func (e *env) get(id int64) (queue.Msg, bool) {
	m := queue.Msg{ID: id}
	err := e.db.Get(context.Background(), &m)
	if errors.Is(err, bstore.ErrAbsent) {
		return m, false
	}
	tcheck(e.t, err, "get msg")
	return m, true
}

func (e *env) retired(id int64) (queue.MsgRetired, bool) {
	m := queue.MsgRetired{ID: id}
	err := e.db.Get(context.Background(), &m)
	if errors.Is(err, bstore.ErrAbsent) {
		return m, false
	}
	tcheck(e.t, err, "get retired")
	return m, true
}

// dump returns every record of every type, to compare database states.
func (e *env) dump() map[string]any {
	e.t.Helper()
	d := map[string]any{}
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		if d["msg"], err = bstore.QueryTx[queue.Msg](tx).List(); err != nil {
			return err
		}
		if d["retired"], err = bstore.QueryTx[queue.MsgRetired](tx).List(); err != nil {
			return err
		}
		if d["outbox"], err = bstore.QueryTx[queue.OutboxDSN](tx).List(); err != nil {
			return err
		}
		if d["hold"], err = bstore.QueryTx[queue.HoldRule](tx).List(); err != nil {
			return err
		}
		d["suppression"], err = bstore.QueryTx[suppression.Entry](tx).List()
		return err
	})
	tcheck(e.t, err, "dump")
	return d
}

func tempErr() error {
	return &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "temporary local problem"}
}

func permErr() error {
	return &bounce.SMTPError{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}
}

// walk fails a message at each of its attempts until the policy gives up,
// checking each NextAttempt against the policy's Plan.
func walk(t *testing.T, p queue.RetryPolicy, exactUntil bool) {
	e := newEnv(t, p)
	m := e.add(nil, "bob@example.com")[0]
	plan := p.Plan(t0, 0)
	var delayed int
	for i, pa := range plan {
		e.clock.Set(pa.At)
		out := e.fail([]queue.Msg{m}, tempErr())
		o := out[0]
		if pa.DelayedDSN {
			delayed++
			tcompare(t, o.DSN, queue.DSNDelayed, "delayed dsn at attempt")
		}
		if i == len(plan)-1 {
			tcompare(t, o.Result, queue.ResultFailed, "last result")
			tcompare(t, o.GiveUp, pa.GiveUp, "give-up reason")
			tcompare(t, o.DSN, queue.DSNFailed, "failure dsn")
			break
		}
		tcompare(t, o.Result, queue.ResultRetry, "result")
		tcompare(t, o.NextAttempt, plan[i+1].At, "next attempt")
		cur, ok := e.get(m.ID)
		if !ok {
			t.Fatalf("message gone after attempt %d", i+1)
		}
		tcompare(t, cur.NextAttempt, plan[i+1].At, "stored next attempt")
		tcompare(t, cur.Attempts, int64(i+1), "attempts")
		tcompare(t, len(cur.Results), i+1, "results")
	}
	tcompare(t, delayed, 1, "delayed dsns in plan")
	if _, ok := e.get(m.ID); ok {
		t.Fatalf("message still queued after giving up")
	}
	r, ok := e.retired(m.ID)
	if !ok {
		t.Fatalf("no retired message")
	}
	tcompare(t, r.Event, webhook.EventFailed, "retired event")
	tcompare(t, len(r.Results), len(plan), "retired results")
	tcompare(t, r.KeepUntil, plan[len(plan)-1].At.Add(30*24*time.Hour), "keep until")

	kinds := []queue.DSNKind{}
	for _, req := range e.composer.Requests {
		kinds = append(kinds, req.Kind)
	}
	tcompare(t, kinds, []queue.DSNKind{queue.DSNDelayed, queue.DSNFailed}, "dsn kinds")
	delayedReq := e.composer.Requests[0]
	// Will-Retry-Until is the policy's last attempt, not mox's 28 hours
	// after it: at most the policy's MaxAge, at least the real last attempt.
	until := delayedReq.Recipients[0].WillRetryUntil
	if exactUntil {
		tcompare(t, until, plan[len(plan)-1].At, "will-retry-until")
	} else if until.Before(plan[len(plan)-1].At) || p.MaxAge > 0 && until.After(t0.Add(p.MaxAge)) {
		t.Fatalf("will-retry-until %v outside [%v, queued+MaxAge]", until, plan[len(plan)-1].At)
	}
	tcompare(t, len(e.outbox()), 2, "outbox dsns")

	var want []string
	for range len(plan) - 1 {
		want = append(want, "delayed:bob@example.com")
	}
	want = append(want, "failed:bob@example.com")
	tcompare(t, e.hooks.Events(), want, "webhooks")
}

func TestWalkMoxPolicy(t *testing.T) {
	p := queue.MoxPolicy()
	p.Jitter = -1 // No jitter.
	if n := len(p.Plan(t0, 0)); n != 8 {
		t.Fatalf("mox plan has %d attempts, want 8", n)
	}
	walk(t, p, true)
}

func TestWalkDefaultPolicy(t *testing.T) {
	p := queue.DefaultPolicy()
	p.Jitter = -1 // No jitter.
	walk(t, p, false)
}

func TestPermanentFirstAttempt(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(nil, "bob@example.com")[0]
	out := e.fail([]queue.Msg{m}, permErr())
	o := out[0]
	tcompare(t, o.Result, queue.ResultFailed, "result")
	tcompare(t, o.GiveUp, queue.GiveUpPermanent, "give up")
	tcompare(t, o.DSN, queue.DSNFailed, "dsn")
	tcompare(t, o.Hook, webhook.EventFailed, "hook")
	tcompare(t, o.Suppressing, true, "suppressing")
	tcompare(t, o.Retired, true, "retired")
	tcompare(t, e.hooks.Queued[0].Payload.Suppressing, true, "hook suppressing")
	tcompare(t, e.hooks.Queued[0].Payload.SMTPCode, int64(550), "hook smtp code")
	tcompare(t, e.hooks.Queued[0].Payload.SMTPEnhancedCode, "5.1.1", "hook enhanced code")
	tcompare(t, e.hooks.Queued[0].Payload.MessageID, "<m1@example.org>", "hook message-id")
	ob := e.outbox()
	tcompare(t, len(ob), 1, "outbox")
	tcompare(t, ob[0].Account, "alice", "dsn account")
	tcompare(t, ob[0].To, "alice@example.org", "dsn to")
	tcompare(t, ob[0].From, "postmaster@mail.example.org", "dsn from")
	r, ok := e.retired(m.ID)
	if !ok {
		t.Fatalf("not retired")
	}
	tcompare(t, r.Results[0].Code, 550, "result code")
	tcompare(t, r.Results[0].EnhancedCode, "5.1.1", "result enhanced code")
	tcompare(t, len(e.supp.Checks), 1, "suppression checks")

	// A second message to the same recipient is suppressed at Add.
	var out2 []queue.Outcome
	err := e.write(func(tx *bstore.Tx) error {
		var err error
		out2, err = e.h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com"})
		return err
	})
	tcheck(t, err, "add")
	tcompare(t, out2[0].Result, queue.ResultSuppressed, "add result")
	tcompare(t, out2[0].Hook, webhook.EventSuppressed, "add hook")
	if _, ok := e.get(out2[0].MsgID); ok {
		t.Fatalf("suppressed message was queued")
	}
	if r, ok := e.retired(out2[0].MsgID); !ok || r.Event != "suppressed" {
		t.Fatalf("suppressed message not retired as suppressed: %v %#v", ok, r)
	}
	tcompare(t, len(e.outbox()), 1, "no dsn for suppressed at add")
}

func TestBatch(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "b@example.com", "c@example.com")
	for _, m := range msgs[1:] {
		tcompare(t, m.BaseID, msgs[0].ID, "base id")
	}
	out := e.fail(msgs, permErr())
	for _, o := range out {
		tcompare(t, o.Result, queue.ResultFailed, "result")
	}
	tcompare(t, len(e.composer.Requests), 1, "one dsn for the submission")
	tcompare(t, len(e.composer.Requests[0].Recipients), 3, "dsn recipients")
	tcompare(t, len(e.outbox()), 1, "outbox")
	tcompare(t, e.hooks.Events(), []string{"failed:a@example.com", "failed:b@example.com", "failed:c@example.com"}, "hooks")
}

func TestNotify(t *testing.T) {
	p := queue.MoxPolicy()
	p.Jitter = -1 // No jitter.
	plan := p.Plan(t0, 0)
	for _, tc := range []struct {
		notify         dsn.Notify
		delayed, final bool
	}{
		{"NEVER", false, false},
		{"DELAY", true, false},
		{"FAILURE", false, true},
		{"", true, true},
		{"SUCCESS,FAILURE,DELAY", true, true},
	} {
		t.Run("notify="+string(tc.notify), func(t *testing.T) {
			e := newEnv(t, p)
			m := e.add(func(m *queue.Msg) { m.Notify = tc.notify }, "bob@example.com")[0]
			var gotDelayed, gotFinal bool
			for _, pa := range plan {
				e.clock.Set(pa.At)
				o := e.fail([]queue.Msg{m}, tempErr())[0]
				gotDelayed = gotDelayed || o.DSN == queue.DSNDelayed
				gotFinal = gotFinal || o.DSN == queue.DSNFailed
			}
			tcompare(t, gotDelayed, tc.delayed, "delayed dsn")
			tcompare(t, gotFinal, tc.final, "failure dsn")
		})
	}
}

func TestRet(t *testing.T) {
	for _, tc := range []struct {
		ret         dsn.Ret
		headersOnly bool
		want        string
	}{
		{"HDRS", true, origMsg[:strings.Index(origMsg, "\r\n\r\n")+4]},
		{"", true, origMsg[:strings.Index(origMsg, "\r\n\r\n")+4]},
		{"FULL", false, origMsg},
	} {
		t.Run("ret="+string(tc.ret), func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			m := e.add(func(m *queue.Msg) {
				m.Ret = tc.ret
				m.EnvID = "env-42"
				m.ORcpt = "rfc822;Bob@example.com"
			}, "bob@example.com")[0]
			e.fail([]queue.Msg{m}, permErr())
			req := e.composer.Requests[0]
			tcompare(t, req.HeadersOnly, tc.headersOnly, "headers only")
			tcompare(t, string(req.Original), tc.want, "original")
			tcompare(t, req.Msg.EnvID, "env-42", "envid")
			tcompare(t, req.Recipients[0].Msg.ORcpt, "rfc822;Bob@example.com", "orcpt")
		})
	}
}

func TestSuppressedAtFailMsgs(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(nil, "bob@example.com")[0]
	e.supp.Add(suppression.Entry{Account: "alice", OriginalAddress: "bob@example.com", Category: suppression.CategoryHardBounce})
	o := e.fail([]queue.Msg{m}, tempErr())[0]
	tcompare(t, o.Result, queue.ResultSuppressed, "result")
	tcompare(t, o.GiveUp, queue.GiveUpSuppressed, "give up")
	tcompare(t, o.Hook, webhook.EventSuppressed, "hook")
	tcompare(t, o.Suppressing, false, "suppressing")
	tcompare(t, len(e.supp.Checks), 0, "no new suppression decision")
	if _, ok := e.get(m.ID); ok {
		t.Fatalf("still queued")
	}
}

func TestDMARCReport(t *testing.T) {
	p := queue.MoxPolicy()
	p.Jitter = -1 // No jitter.
	e := newEnv(t, p)
	reg := prometheus.NewRegistry()
	metrics, err := queue.NewMetrics(reg)
	tcheck(t, err, "metrics")
	e.h.Metrics = metrics
	m := e.add(func(m *queue.Msg) {
		m.SenderAccount = "postmaster"
		m.SenderAddress = "postmaster@example.org"
		m.IsDMARCReport = true
	}, "dmarc-rua@example.com")[0]
	for _, pa := range p.Plan(t0, 0) {
		e.clock.Set(pa.At)
		o := e.fail([]queue.Msg{m}, tempErr())[0]
		if o.DSN == queue.DSNDelayed {
			t.Fatalf("delayed dsn for dmarc report")
		}
	}
	ob := e.outbox()
	tcompare(t, len(ob), 1, "outbox")
	tcompare(t, ob[0].Kind, queue.DSNFailed, "kind")
	tcompare(t, ob[0].Account, "postmaster", "account")
	tcompare(t, ob[0].Mailbox, "dmarc", "mailbox")
	tcompare(t, ob[0].Seen, true, "seen")
	tcompare(t, counter(t, reg, "bouncekit_queue_report_failure_total", "dmarc"), 1.0, "report failure counter")
}

func TestUnknownAccount(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	m := e.add(func(m *queue.Msg) { m.SenderAccount = "ghost" }, "bob@example.com")[0]
	e.fail([]queue.Msg{m}, permErr())
	ob := e.outbox()
	tcompare(t, len(ob), 1, "outbox")
	tcompare(t, ob[0].Account, "postmaster", "dsn account")
	tcompare(t, ob[0].Mailbox, "", "mailbox")
	tcompare(t, len(e.hooks.Queued), 0, "no hooks for unknown account")
}

// TestInvalidPolicy checks that FailMsgs refuses to decide with a policy
// Validate rejects, before changing anything.
func TestInvalidPolicy(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{MaxAge: -1})
	m := e.add(nil, "a@example.com")[0]
	before := e.dump()
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.FailMsgs(tx, []queue.Msg{m}, permErr())
		return err
	})
	if !errors.Is(err, queue.ErrInvalidRetryPolicy) {
		t.Fatalf("got %v, want ErrInvalidRetryPolicy", err)
	}
	tcompare(t, e.dump(), before, "database after refused FailMsgs")
	tcompare(t, len(e.hooks.Queued), 0, "hooks")
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	a := e.add(nil, "a@example.com")[0]
	b := e.add(func(m *queue.Msg) { m.SenderAccount = "nohistory" }, "b@example.com")[0]
	before := e.dump()
	for _, tc := range []struct {
		name string
		msgs []queue.Msg
		err  error
		want error
	}{
		{"empty", nil, tempErr(), queue.ErrEmptyBatch},
		{"nil error", []queue.Msg{a}, nil, queue.ErrNilError},
		{"mixed accounts", []queue.Msg{a, b}, tempErr(), queue.ErrMixedAccounts},
		{"missing", []queue.Msg{a, {ID: 999}}, tempErr(), queue.ErrMsgNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.write(func(tx *bstore.Tx) error {
				_, err := e.h.FailMsgs(tx, tc.msgs, tc.err)
				return err
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			tcompare(t, e.dump(), before, "database after error")
		})
	}
}

func TestFaultInjection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(e *env)
		err   func() error
	}{
		// Calls: 3 StopTx, then ProcessTx per message: fail at the 2nd ProcessTx.
		{"suppression mid-batch", func(e *env) { e.supp.FailAfter = 5 }, permErr},
		{"suppression lookup", func(e *env) { e.supp.FailAfter = 2 }, tempErr},
		{"hook queue", func(e *env) { e.hooks.FailAfter = 1 }, permErr},
		{"hook queue temporary", func(e *env) { e.hooks.FailAfter = 1 }, tempErr},
		{"composer", func(e *env) { e.composer.Err = errors.New("boom") }, permErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, queue.RetryPolicy{})
			// A history record, so retirement has something to disturb.
			old := e.add(nil, "old@example.com")
			e.fail(old, permErr())
			msgs := e.add(nil, "a@example.com", "b@example.com", "c@example.com")
			e.supp.Calls = 0
			e.hooks.Calls = 0
			before := e.dump()
			tc.setup(e)
			err := e.write(func(tx *bstore.Tx) error {
				_, err := e.h.FailMsgs(tx, msgs, tc.err())
				return err
			})
			if err == nil {
				t.Fatalf("no error from failing store")
			}
			tcompare(t, e.dump(), before, "database after rollback")
		})
	}
}
