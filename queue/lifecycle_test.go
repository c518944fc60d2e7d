package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

func TestDueGroupingAndHold(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	a := e.add(nil, "a1@example.com", "a2@example.com", "x@other.example")
	b := e.add(nil, "b1@example.com")
	var rule queue.HoldRule
	var batches []queue.Batch
	err := e.write(func(tx *bstore.Tx) error {
		var err error
		batches, err = e.h.Due(tx, t0, 0)
		if err != nil {
			return err
		}
		tcompare(t, len(batches), 3, "batches")
		tcompare(t, batches[0].Domain, "example.com", "domain")
		tcompare(t, []int64{batches[0].Msgs[0].ID, batches[0].Msgs[1].ID}, []int64{a[0].ID, a[1].ID}, "first batch")
		tcompare(t, batches[1].Msgs[0].ID, a[2].ID, "second batch")
		tcompare(t, batches[2].Msgs[0].ID, b[0].ID, "third batch")

		// Not due before its time.
		l, err := e.h.Due(tx, t0.Add(-time.Second), 0)
		if err != nil {
			return err
		}
		tcompare(t, len(l), 0, "due before time")

		// A hold rule holds queued and new messages of a domain.
		rule = queue.HoldRule{RecipientDomain: "Example.com"}
		n, err := queue.AddHoldRule(tx, &rule)
		if err != nil {
			return err
		}
		tcompare(t, n, 3, "held")
		if _, err := e.h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "new@example.com"}); err != nil {
			return err
		}
		l, err = e.h.Due(tx, t0, 0)
		if err != nil {
			return err
		}
		tcompare(t, len(l), 1, "due with hold")
		tcompare(t, l[0].Msgs[0].ID, a[2].ID, "unheld message")
		rules, err := queue.ListHoldRules(tx)
		if err != nil {
			return err
		}
		tcompare(t, rules, []queue.HoldRule{{ID: rule.ID, RecipientDomain: "example.com"}}, "rules")

		if err := queue.RemoveHoldRule(tx, rule.ID); err != nil {
			return err
		}
		if err := queue.RemoveHoldRule(tx, rule.ID); !errors.Is(err, queue.ErrHoldRuleNotFound) {
			t.Fatalf("remove twice: %v", err)
		}
		n, err = queue.SetHold(tx, queue.MsgFilter{RecipientDomain: "example.com"}, false)
		if err != nil {
			return err
		}
		tcompare(t, n, 4, "released")
		l, err = e.h.Due(tx, t0, 2)
		if err != nil {
			return err
		}
		tcompare(t, len(l), 1, "limited")
		tcompare(t, len(l[0].Msgs), 2, "limited batch")
		return nil
	})
	tcheck(t, err, "tx")
}

func TestFromIDs(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.GenerateFromIDs = true
	msgs := e.add(nil, "a@example.com", "b@example.com")
	if len(msgs[0].FromID) != 22 || msgs[0].FromID == msgs[1].FromID {
		t.Fatalf("bad fromids %q %q", msgs[0].FromID, msgs[1].FromID)
	}
	// A source that repeats itself cannot give a unique FromID.
	e.h.Rand = zeroReader{}
	e.add(nil, "c@example.com")
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.Add(tx, &queue.Msg{SenderAccount: "alice", RecipientAddress: "d@example.com"})
		return err
	})
	if err == nil {
		t.Fatalf("duplicate fromid accepted")
	}
}

// TestDueSkipsSuppressed checks that a recipient put on the suppression
// list after its message was queued gets no further SMTP attempt: Due
// leaves it out and gives it up as suppressed, with a failure DSN and
// webhook, without counting an attempt; its siblings stay due.
func TestDueSkipsSuppressed(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "stays@example.com", "blocked@example.com", "never@example.com")
	e.fail(msgs, tempErr())
	neverDSN := msgs[2]
	err := e.write(func(tx *bstore.Tx) error {
		m := neverDSN
		if err := tx.Get(&m); err != nil {
			return err
		}
		m.Notify = dsn.NotifyNever
		return tx.Update(&m)
	})
	tcheck(t, err, "set notify")
	e.supp.Add(suppression.Entry{Account: "alice", OriginalAddress: "blocked@example.com", Category: suppression.CategoryManual})
	e.supp.Add(suppression.Entry{Account: "alice", OriginalAddress: "never@example.com", Category: suppression.CategoryManual})
	e.hooks.Queued = nil
	before := len(e.outbox())

	var batches []queue.Batch
	err = e.write(func(tx *bstore.Tx) (err error) {
		batches, err = e.h.Due(tx, t0.Add(24*time.Hour), 0)
		return err
	})
	tcheck(t, err, "due")
	tcompare(t, len(batches), 1, "batches")
	tcompare(t, len(batches[0].Msgs), 1, "messages due")
	tcompare(t, batches[0].Msgs[0].ID, msgs[0].ID, "due message")

	for _, m := range msgs[1:] {
		if _, ok := e.get(m.ID); ok {
			t.Fatalf("suppressed message %d still queued", m.ID)
		}
		r, ok := e.retired(m.ID)
		if !ok {
			t.Fatalf("suppressed message %d not retired", m.ID)
		}
		tcompare(t, r.Event, webhook.EventSuppressed, "event")
		tcompare(t, r.Attempts, int64(1), "attempts: no attempt counted")
		last, _ := queue.Msg{Results: r.Results}.LastResult()
		tcompare(t, last.Reason, bounce.ReasonSuppressed, "result reason")
		if strings.HasPrefix(last.Error, "queue:") {
			t.Fatalf("result error has a package prefix: %q", last.Error)
		}
	}
	events := e.hooks.Events()
	slices.Sort(events)
	tcompare(t, events, []string{"suppressed:blocked@example.com", "suppressed:never@example.com"}, "hooks")
	ob := e.outbox()
	tcompare(t, len(ob)-before, 1, "failure dsns: one, none for NOTIFY=NEVER")
	tcompare(t, ob[len(ob)-1].Kind, queue.DSNFailed, "dsn kind")
}

// TestFromIDInUse checks that Add refuses a FromID that a queued or
// retired message, or another message of the call, already has.
func TestFromIDInUse(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.add(func(m *queue.Msg) { m.FromID = "queued1" }, "a@example.com")
	gone := e.add(func(m *queue.Msg) { m.FromID = "retired1" }, "b@example.com")[0]
	e.fail([]queue.Msg{gone}, permErr())
	if _, ok := e.retired(gone.ID); !ok {
		t.Fatalf("not retired")
	}
	before := e.dump()
	for _, tc := range []struct {
		name string
		ids  []string
	}{
		{"queued", []string{"queued1"}},
		{"retired", []string{"retired1"}},
		{"same call", []string{"new1", "new1"}},
		{"second of call", []string{"new2", "queued1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.write(func(tx *bstore.Tx) error {
				var msgs []*queue.Msg
				for i, id := range tc.ids {
					msgs = append(msgs, &queue.Msg{SenderAccount: "alice", RecipientAddress: fmt.Sprintf("r%d@example.com", i), FromID: id})
				}
				_, err := e.h.Add(tx, msgs...)
				return err
			})
			if !errors.Is(err, queue.ErrFromIDInUse) {
				t.Fatalf("got %v, want ErrFromIDInUse", err)
			}
			tcompare(t, e.dump(), before, "database")
		})
	}
	// A fresh one is accepted.
	m := e.add(func(m *queue.Msg) { m.FromID = "fresh1" }, "c@example.com")[0]
	tcompare(t, m.FromID, "fresh1", "fromid")
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDeliveredMsgs(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	msgs := e.add(nil, "a@example.com", "b@example.com")
	e.supp.Add(suppression.Entry{Account: "alice", OriginalAddress: "a@example.com", Category: suppression.CategorySoftBounce, ExpiresAt: t0.Add(-time.Hour)})
	var out []queue.Outcome
	err := e.write(func(tx *bstore.Tx) error {
		var err error
		out, err = e.h.DeliveredMsgs(tx, msgs, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok queued"})
		return err
	})
	tcheck(t, err, "delivered")
	tcompare(t, out[0].Result, queue.ResultDelivered, "result")
	tcompare(t, e.hooks.Events(), []string{"delivered:a@example.com", "delivered:b@example.com"}, "hooks")
	tcompare(t, len(e.supp.Entries), 0, "soft suppression cleared")
	r, ok := e.retired(msgs[0].ID)
	if !ok || !r.Success || r.Event != "delivered" || r.Results[0].Code != 250 {
		t.Fatalf("retired record: %v %#v", ok, r)
	}
	if _, ok := e.get(msgs[0].ID); ok {
		t.Fatalf("still queued")
	}
	err = e.write(func(tx *bstore.Tx) error {
		_, err := e.h.DeliveredMsgs(tx, msgs, queue.Delivery{})
		return err
	})
	if !errors.Is(err, queue.ErrMsgNotFound) {
		t.Fatalf("delivered twice: %v", err)
	}
}

func TestCancelAndListRetired(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	var ids []int64
	for range 5 {
		ids = append(ids, e.add(nil, "a@example.com")[0].ID)
	}
	other := e.add(func(m *queue.Msg) { m.SenderAccount = "nohistory" }, "z@example.com")[0]
	var out []queue.Outcome
	err := e.write(func(tx *bstore.Tx) error {
		var err error
		out, err = e.h.CancelMsgs(tx, queue.MsgFilter{Account: "alice"})
		return err
	})
	tcheck(t, err, "cancel")
	tcompare(t, len(out), 5, "canceled")
	tcompare(t, len(e.hooks.Queued), 5, "hooks")
	if _, ok := e.get(other.ID); !ok {
		t.Fatalf("other account's message canceled")
	}

	for _, c := range []struct {
		newest bool
		want   [][]int64
	}{
		{false, [][]int64{{ids[0], ids[1]}, {ids[2], ids[3]}, {ids[4]}}},
		{true, [][]int64{{ids[4], ids[3]}, {ids[2], ids[1]}, {ids[0]}}},
	} {
		var pages [][]int64
		err = e.db.Read(context.Background(), func(tx *bstore.Tx) error {
			p := paging.Page{Limit: 2, Newest: c.newest}
			for {
				l, next, err := queue.ListRetired(tx, queue.RetiredFilter{Account: "alice", Event: "canceled"}, p)
				if err != nil {
					return err
				}
				var page []int64
				for _, r := range l {
					page = append(page, r.ID)
				}
				pages = append(pages, page)
				if next == 0 {
					return nil
				}
				p.After = next
			}
		})
		tcheck(t, err, "list retired")
		tcompare(t, pages, c.want, fmt.Sprintf("pages, newest first %v", c.newest))
	}
}

func TestRunDeliversOutboxAndCleansUp(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.dl.C = make(chan queue.OutboxDSN)
	attempted := make(chan error)
	fail := true
	e.dl.Err = func(d queue.OutboxDSN) error {
		if fail {
			fail = false
			err := errors.New("mailbox locked")
			attempted <- err
			return err
		}
		return nil
	}
	m := e.add(nil, "bob@example.com")[0]
	e.fail([]queue.Msg{m}, permErr())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.h.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			tcheck(t, <-done, "run")
		}
	}
	defer stop()

	// The first delivery fails; after the backoff (1 minute) and a kick, the
	// next round delivers it.
	<-attempted
	e.clock.Advance(time.Minute)
	e.h.Kick()
	got := <-e.dl.C
	tcompare(t, got.Kind, queue.DSNFailed, "kind")
	tcompare(t, got.Attempts, int64(1), "attempts before success")

	// Cleanup after the keep period (30 days). Run is stopped first, so
	// its own cleanup timer cannot take the record away.
	stop()
	if _, ok := e.retired(m.ID); !ok {
		t.Fatalf("not retired")
	}
	e.clock.Advance(31 * 24 * time.Hour)
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		n, err := queue.CleanupRetired(tx, e.clock.Now())
		tcompare(t, n, 1, "cleaned up")
		return err
	})
	tcheck(t, err, "cleanup")
}
