package queue_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestRealStores runs FailMsgs with the default DSN composer (package dsn),
// suppression.Store and hookqueue.Queue on one database, and checks what
// each stored in the caller's transaction.
func TestRealStores(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.DSNComposer = nil
	e.h.Suppressions = &suppression.Store{}
	e.h.Hooks = &hookqueue.Queue{DB: e.db, Now: e.clock.Now}

	msgs := e.add(func(m *queue.Msg) {
		m.EnvID = "env-7"
		m.ORcpt = "rfc822;Bob@example.com"
		m.Ret = "HDRS"
	}, "bob@example.com", "carol@example.com")
	msgs[0].Attempt = queue.Attempt{RemoteMTA: "mx.example.com", Duration: time.Second}
	msgs[1].Attempt = msgs[0].Attempt
	err := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown", MoreLines: []string{"see https://example.com/help"}}
	out := e.fail(msgs, err)
	for _, o := range out {
		tcompare(t, o.Result, queue.ResultFailed, "result")
		tcompare(t, o.Suppressing, true, "suppressing")
	}

	ob := e.outbox()
	tcompare(t, len(ob), 1, "outbox")
	d, _, perr := dsn.Parse(bytes.NewReader(ob[0].Data))
	tcheck(t, perr, "parse composed dsn")
	tcompare(t, d.OriginalEnvelopeID, "env-7", "envid")
	tcompare(t, d.ReportingMTA, "mail.example.org", "reporting-mta")
	tcompare(t, d.OriginalMessageID, "<m1@example.org>", "original message-id")
	tcompare(t, d.Ret, dsn.RetHeaders, "ret")
	tcompare(t, len(d.Recipients), 2, "recipients")
	r := d.Recipients[0]
	tcompare(t, r.FinalRecipient, "bob@example.com", "final-recipient")
	tcompare(t, r.OriginalRecipient, "Bob@example.com", "original-recipient")
	tcompare(t, r.Action, dsn.ActionFailed, "action")
	tcompare(t, r.Status, "5.1.1", "status")
	tcompare(t, r.RemoteMTA, "mx.example.com", "remote-mta")
	if !bytes.Contains(ob[0].Data, []byte("see https://example.com/help")) {
		t.Fatalf("multi-line reply missing from dsn")
	}
	if bytes.Contains(ob[0].Data, []byte("body text")) {
		t.Fatalf("RET=HDRS dsn contains the body")
	}

	err2 := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		entries, err := bstore.QueryTx[suppression.Entry](tx).List()
		if err != nil {
			return err
		}
		tcompare(t, len(entries), 2, "suppression entries")
		tcompare(t, entries[0].Category, suppression.CategoryHardBounce, "category")
		hooks, err := bstore.QueryTx[hookqueue.Hook](tx).List()
		if err != nil {
			return err
		}
		tcompare(t, len(hooks), 2, "hooks")
		tcompare(t, hooks[0].Payload.Event, webhook.EventFailed, "event")
		tcompare(t, hooks[0].Payload.Suppressing, true, "suppressing")
		tcompare(t, hooks[0].Payload.Reason, "userunknown", "reason")
		return nil
	})
	tcheck(t, err2, "read")

	// Now at Add: suppressed at once, counted as a hit.
	var addOut []queue.Outcome
	err3 := e.write(func(tx *bstore.Tx) error {
		var err error
		addOut, err = e.h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "Bob@Example.com"})
		return err
	})
	tcheck(t, err3, "add")
	tcompare(t, addOut[0].Result, queue.ResultSuppressed, "add result")
}

// TestRealStoresFaultRollback fails the webhook queue (after it wrote its
// hooks) after the suppression store wrote, and checks that the
// rolled-back transaction left every record as it was. (Invalid webhook
// settings no longer fail the call: TestInvalidHookSettingsNeverBlock.)
func TestRealStoresFaultRollback(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.DSNComposer = nil
	e.h.Suppressions = &suppression.Store{}
	e.h.Hooks = failingHooks{&hookqueue.Queue{DB: e.db, Now: e.clock.Now}}
	e.h.Accounts = queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
		return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: time.Hour}, true
	})
	msgs := e.add(nil, "a@example.com", "b@example.com")
	before := e.dump()
	err := e.write(func(tx *bstore.Tx) error {
		_, err := e.h.FailMsgs(tx, msgs, permErr())
		return err
	})
	if !errors.Is(err, errHooksDown) {
		t.Fatalf("got %v, want the hook queue's error", err)
	}
	tcompare(t, e.dump(), before, "database after rollback")
}

var errHooksDown = errors.New("hook queue down")

// failingHooks queues the hooks in the transaction, then fails.
type failingHooks struct {
	q *hookqueue.Queue
}

func (f failingHooks) Enqueue(tx *bstore.Tx, hooks ...hookqueue.Hook) error {
	if err := f.q.Enqueue(tx, hooks...); err != nil {
		return err
	}
	return errHooksDown
}
