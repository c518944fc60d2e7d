package queue_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webhook"
)

// withKeep makes every account keep retired messages for keep (negative:
// not kept), with webhooks.
func (e *inEnv) withKeep(keep time.Duration) {
	e.h.Accounts = queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
		return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: keep}, true
	})
}

// add queues one submission to rcpts for alice, without delivering it.
func (e *inEnv) add(mod func(m *queue.Msg), rcpts ...string) []*queue.Msg {
	e.t.Helper()
	var ptrs []*queue.Msg
	for _, r := range rcpts {
		m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: r, MessageID: "m1@example.org", Subject: "hi"}
		if mod != nil {
			mod(m)
		}
		ptrs = append(ptrs, m)
	}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.Add(tx, ptrs...)
		return err
	})
	icheck(e.t, err, "add")
	return ptrs
}

// deliver reports m delivered; fail reports a temporary failure (m stays
// queued).
func (e *inEnv) deliver(m *queue.Msg) {
	e.t.Helper()
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.DeliveredMsgs(tx, []queue.Msg{*m}, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"})
		return err
	})
	icheck(e.t, err, "deliver")
}

func (e *inEnv) failTemp(m *queue.Msg) {
	e.t.Helper()
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.FailMsgs(tx, []queue.Msg{*m}, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "try later"})
		return err
	})
	icheck(e.t, err, "fail")
}

// state returns the stored form of message id, queued or retired, as JSON,
// or "" when it is gone.
func (e *inEnv) state(id int64) string {
	e.t.Helper()
	var v any
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		m := queue.Msg{ID: id}
		if err := tx.Get(&m); err == nil {
			v = m
			return nil
		} else if err != bstore.ErrAbsent {
			return err
		}
		r := queue.MsgRetired{ID: id}
		if err := tx.Get(&r); err == nil {
			v = r
			return nil
		} else if err != bstore.ErrAbsent {
			return err
		}
		return nil
	})
	icheck(e.t, err, "get message")
	if v == nil {
		return ""
	}
	buf, err := json.Marshal(v)
	icheck(e.t, err, "json")
	return string(buf)
}

// TestIncomingSiblingNotKept is the first way of issue 12: retired messages
// are not kept, so the message a DSN is about is gone and its sibling (to
// another recipient of the same submission) is the only candidate by
// Message-ID or ENVID. The sibling must not change and nobody is
// suppressed, whichever of the two was the submission's first message.
func TestIncomingSiblingNotKept(t *testing.T) {
	for _, c := range []struct {
		name        string
		envID       bool
		goneIsFirst bool
	}{
		{"messageid, first gone", false, true},
		{"messageid, second gone", false, false},
		{"envid, first gone", true, true},
		{"envid, second gone", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newInEnv(t)
			e.withKeep(-1)
			e.h.GenerateFromIDs = false
			msgs := e.add(func(m *queue.Msg) { m.EnvID = "env-1" }, "bob@example.com", "carol@example.com")
			gone, stays := msgs[0], msgs[1]
			if !c.goneIsFirst {
				gone, stays = stays, gone
			}
			e.deliver(gone)
			e.failTemp(stays)
			icompare(t, e.state(gone.ID), "", "delivered message not kept")
			before := e.state(stays.ID)

			var d []byte
			if c.envID {
				d = composeDSN(t, "<sib@mx.example.com>", "env-1", nil, failedRcpt(gone.RecipientAddress, "5.1.1", "550 5.1.1 user unknown"))
			} else {
				d = composeDSN(t, "<sib@mx.example.com>", "", []byte(origHeader), failedRcpt(gone.RecipientAddress, "5.1.1", "550 5.1.1 user unknown"))
			}
			res := e.incoming("alice", "alice@example.org", d)
			icompare(t, len(res.Recipients), 1, "outcomes")
			o := res.Recipients[0]
			icompare(t, o.Recipient, gone.RecipientAddress, "recipient")
			icompare(t, o.Event, webhook.EventUnrecognized, "event")
			icompare(t, o.Match, queue.MatchNone, "match")
			icompare(t, o.MsgID, int64(0), "msgid")
			icompare(t, e.state(stays.ID), before, "sibling unchanged")
			icompare(t, len(e.entries()), 0, "suppression entries")
		})
	}
}

// TestIncomingSharedFromID is the second way of issue 12: the host uses
// one MAIL FROM, with the first message's FromID, for a transaction to
// several recipients (Batch.MailFrom), and a DSN about another recipient
// comes back to it. The FromID names the submission; the recipient is
// found in it by address.
func TestIncomingSharedFromID(t *testing.T) {
	e := newInEnv(t)
	msgs := e.add(nil, "bob@example.com", "carol@example.com", "dave@example.com")
	for _, m := range msgs {
		e.deliver(m)
	}
	b := queue.Batch{BaseID: msgs[0].BaseID, Msgs: []queue.Msg{*msgs[0], *msgs[1], *msgs[2]}}
	rcptTo := b.MailFrom("+")
	icompare(t, rcptTo, msgs[0].MailFrom("+"), "batch mail from")
	bob, dave := e.state(msgs[0].ID), e.state(msgs[2].ID)

	// Carol failed, and an address the submission did not have: carol's
	// message changes, the other is unrecognized, bob and dave stay.
	d := composeDSN(t, "<shared1@mx.example.com>", "", nil,
		failedRcpt("carol@example.com", "5.1.1", "550 5.1.1 user unknown"),
		failedRcpt("zed@example.com", "5.1.1", "550 5.1.1 user unknown"),
	)
	res := e.incoming("alice", rcptTo, d)
	icompare(t, res.FromID, msgs[0].FromID, "fromid")
	icompare(t, len(res.Recipients), 2, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Match, queue.MatchFromID, "carol match")
	icompare(t, o.MsgID, msgs[1].ID, "carol msgid")
	icompare(t, o.Event, webhook.EventFailed, "carol event")
	icompare(t, o.Suppressing, true, "carol suppressing")
	u := res.Recipients[1]
	icompare(t, u.Match, queue.MatchNone, "zed match")
	icompare(t, u.Event, webhook.EventUnrecognized, "zed event")
	icompare(t, e.retired(msgs[1].ID).Event, webhook.EventFailed, "carol retired event")
	icompare(t, e.state(msgs[0].ID), bob, "bob unchanged")
	icompare(t, e.state(msgs[2].ID), dave, "dave unchanged")
	ents := e.entries()
	icompare(t, len(ents), 1, "entries")
	icompare(t, ents[0].OriginalAddress, "carol@example.com", "suppressed address")

	// A DSN naming only someone else: nothing changes, even though the
	// FromID's own message is the newest candidate.
	before := []string{e.state(msgs[0].ID), e.state(msgs[1].ID), e.state(msgs[2].ID)}
	res = e.incoming("alice", rcptTo, composeDSN(t, "<shared2@mx.example.com>", "", nil, failedRcpt("robert@forward.example", "5.1.1", "550 5.1.1 user unknown")))
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "other address")
	icompare(t, res.Recipients[0].MsgID, int64(0), "other address msgid")
	icompare(t, []string{e.state(msgs[0].ID), e.state(msgs[1].ID), e.state(msgs[2].ID)}, before, "messages after report about another address")
	icompare(t, len(e.entries()), 1, "entries after report about another address")
}

// TestIncomingSharedFromIDNotKept: the FromID's own message is still
// queued, its sibling was delivered and not kept; a DSN about the sibling
// comes back to the shared FromID and must not touch the queued message.
func TestIncomingSharedFromIDNotKept(t *testing.T) {
	e := newInEnv(t)
	e.withKeep(-1)
	msgs := e.add(nil, "bob@example.com", "carol@example.com")
	e.deliver(msgs[1])
	e.failTemp(msgs[0])
	before := e.state(msgs[0].ID)
	d := composeDSN(t, "<sharednk@mx.example.com>", "", []byte(origHeader), failedRcpt("carol@example.com", "5.1.1", "550 5.1.1 user unknown"))
	res := e.incoming("alice", msgs[0].MailFrom("+"), d)
	o := res.Recipients[0]
	icompare(t, o.Event, webhook.EventUnrecognized, "event")
	icompare(t, o.MsgID, int64(0), "msgid")
	icompare(t, e.state(msgs[0].ID), before, "queued message unchanged")
	icompare(t, len(e.entries()), 0, "entries")
}

// TestIncomingSoleRecipient: a report about an address no message has
// (an alias, a forward) matches the message only when it was the only
// recipient of its submission and the report names one recipient; the
// outcome says so with MatchSoleRecipient.
func TestIncomingSoleRecipient(t *testing.T) {
	forward := failedRcpt("robert@forward.example", "5.1.1", "550 5.1.1 <robert@forward.example>: user unknown")
	other := failedRcpt("zed@example.com", "5.1.1", "550 5.1.1 user unknown")
	cases := []struct {
		name    string
		keep    time.Duration
		rcpts   []string // The submission.
		deliver bool     // Deliver (retire) the messages; else one temporary failure.
		via     string   // fromid, envid or messageid.
		report  []dsn.Recipient
		match   bool
	}{
		{"fromid", time.Hour, []string{"bob@example.com"}, true, "fromid", []dsn.Recipient{forward}, true},
		{"envid", time.Hour, []string{"bob@example.com"}, true, "envid", []dsn.Recipient{forward}, true},
		{"messageid", time.Hour, []string{"bob@example.com"}, true, "messageid", []dsn.Recipient{forward}, true},
		{"queued", time.Hour, []string{"bob@example.com"}, false, "messageid", []dsn.Recipient{forward}, true},
		{"two recipients named", time.Hour, []string{"bob@example.com"}, true, "fromid", []dsn.Recipient{forward, other}, false},
		{"two in submission", time.Hour, []string{"bob@example.com", "carol@example.com"}, true, "fromid", []dsn.Recipient{forward}, false},
		{"two in submission by messageid", time.Hour, []string{"bob@example.com", "carol@example.com"}, true, "messageid", []dsn.Recipient{forward}, false},
		// Without kept history, siblings may have been removed: never alone.
		{"not kept", -1, []string{"bob@example.com"}, false, "messageid", []dsn.Recipient{forward}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newInEnv(t)
			e.withKeep(c.keep)
			msgs := e.add(func(m *queue.Msg) { m.EnvID = "env-s" }, c.rcpts...)
			for _, m := range msgs {
				if c.deliver {
					e.deliver(m)
				} else {
					e.failTemp(m)
				}
			}
			var before []string
			for _, m := range msgs {
				before = append(before, e.state(m.ID))
			}
			rcptTo, envID, orig := "alice@example.org", "", []byte(nil)
			switch c.via {
			case "fromid":
				rcptTo = msgs[0].MailFrom("+")
			case "envid":
				envID = "env-s"
			case "messageid":
				orig = []byte(origHeader)
			}
			res := e.incoming("alice", rcptTo, composeDSN(t, "<sole@mx.example.com>", envID, orig, c.report...))
			icompare(t, len(res.Recipients), len(c.report), "outcomes")
			o := res.Recipients[0]
			icompare(t, o.Recipient, "robert@forward.example", "recipient")
			if !c.match {
				icompare(t, o.Event, webhook.EventUnrecognized, "event")
				icompare(t, o.Match, queue.MatchNone, "match")
				for i, m := range msgs {
					icompare(t, e.state(m.ID), before[i], "message unchanged")
				}
				icompare(t, len(e.entries()), 0, "entries")
				return
			}
			icompare(t, o.Match, queue.MatchSoleRecipient, "match")
			icompare(t, o.MsgID, msgs[0].ID, "msgid")
			icompare(t, o.Event, webhook.EventFailed, "event")
			if o.Detail == "" {
				t.Fatalf("no detail for a sole-recipient match")
			}
			if e.state(msgs[0].ID) == before[0] {
				t.Fatalf("matched message unchanged")
			}
			ents := e.entries()
			icompare(t, len(ents), 1, "entries")
			icompare(t, ents[0].OriginalAddress, "bob@example.com", "suppressed address")
		})
	}
}

// TestIncomingSoleRecipientSiblingsCleanedUp: a sibling that was retired
// and removed after the keep period leaves the first message looking
// alone; past the keep period since the submission, it is not taken as
// alone.
func TestIncomingSoleRecipientSiblingsCleanedUp(t *testing.T) {
	e := newInEnv(t)
	e.withKeep(time.Hour)
	msgs := e.add(nil, "bob@example.com", "carol@example.com")
	e.deliver(msgs[1])
	e.failTemp(msgs[0])
	e.clock.Advance(2 * time.Hour)
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		n, err := queue.CleanupRetired(tx, e.clock.Now())
		if err == nil && n != 1 {
			t.Fatalf("cleanup removed %d, want 1", n)
		}
		return err
	})
	icheck(t, err, "cleanup")
	before := e.state(msgs[0].ID)
	d := composeDSN(t, "<late@mx.example.com>", "", []byte(origHeader), failedRcpt("carol@example.com", "5.1.1", "550 5.1.1 user unknown"))
	res := e.incoming("alice", "alice@example.org", d)
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "event")
	icompare(t, e.state(msgs[0].ID), before, "bob unchanged")
	icompare(t, len(e.entries()), 0, "entries")
}

// TestIncomingFeedbackRedacted: a complaint that redacts the recipient
// names nobody; it matches the message found only when that was the only
// recipient of its submission.
func TestIncomingFeedbackRedacted(t *testing.T) {
	e := newInEnv(t)
	multi := e.add(nil, "bob@example.com", "carol@example.com")
	solo := e.add(func(m *queue.Msg) { m.MessageID = "solo@example.org" }, "dan@example.com")
	for _, m := range append(multi, solo...) {
		e.deliver(m)
	}
	before := []string{e.state(multi[0].ID), e.state(multi[1].ID)}

	// To the FromID of the first message of two: carol may be meant.
	res := e.incoming("alice", multi[0].MailFrom("+"), arfReport("<fblr1@example.com>", "abuse", "", "other@example.org"))
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "shared fromid")
	icompare(t, []string{e.state(multi[0].ID), e.state(multi[1].ID)}, before, "messages unchanged")
	icompare(t, len(e.entries()), 0, "entries")

	// To the FromID of a message alone in its submission.
	res = e.incoming("alice", solo[0].MailFrom("+"), arfReport("<fblr2@example.com>", "abuse", "", "other@example.org"))
	o := res.Recipients[0]
	icompare(t, o.Event, webhook.EventComplained, "sole fromid")
	icompare(t, o.Match, queue.MatchSoleRecipient, "match")
	icompare(t, o.MsgID, solo[0].ID, "msgid")
	icompare(t, o.Recipient, "dan@example.com", "recipient")
	ents := e.entries()
	icompare(t, len(ents), 1, "entries")
	icompare(t, ents[0].OriginalAddress, "dan@example.com", "complained address")
}

// qmailNoRecipient is a qmail bounce whose recipient paragraph is missing:
// only the returned message says whom it was for.
func qmailNoRecipient(id, to string) []byte {
	return []byte("From: MAILER-DAEMON@mx.example.com\r\n" +
		"To: alice@example.org\r\n" +
		"Subject: failure notice\r\n" +
		"Message-ID: <" + id + ">\r\n\r\n" +
		"Hi. This is the qmail-send program at mx.example.com.\r\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n" +
		"--- Below this line is a copy of the message.\r\n\r\n" +
		"Message-ID: <m1@example.org>\r\n" +
		"From: alice@example.org\r\n" +
		"To: " + to + "\r\n" +
		"Subject: hi\r\n\r\nhello\r\n")
}

// TestIncomingReturnedAddressees: a bounce that names no recipient is not
// about every addressee of the returned message; with one addressee it is
// about that one.
func TestIncomingReturnedAddressees(t *testing.T) {
	e := newInEnv(t)
	e.h.GenerateFromIDs = false
	multi := e.add(nil, "bob@example.com", "carol@example.com")
	for _, m := range multi {
		e.deliver(m)
	}
	before := []string{e.state(multi[0].ID), e.state(multi[1].ID)}
	res := e.incoming("alice", "alice@example.org", qmailNoRecipient("nr1@mx.example.com", "bob@example.com, carol@example.com"))
	for _, o := range res.Recipients {
		if o.MsgID != 0 || o.Event != "unrecognized" {
			t.Fatalf("outcome %+v for a bounce that names nobody", o)
		}
	}
	icompare(t, []string{e.state(multi[0].ID), e.state(multi[1].ID)}, before, "messages unchanged")
	icompare(t, len(e.entries()), 0, "entries")

	solo := e.add(func(m *queue.Msg) { m.MessageID = "m2@example.org" }, "dan@example.com")
	e.deliver(solo[0])
	d := bytes.Replace(qmailNoRecipient("nr2@mx.example.com", "dan@example.com"), []byte("<m1@example.org>"), []byte("<m2@example.org>"), 1)
	res = e.incoming("alice", "alice@example.org", d)
	icompare(t, len(res.Recipients), 1, "outcomes")
	icompare(t, res.Recipients[0].MsgID, solo[0].ID, "msgid")
	icompare(t, res.Recipients[0].Event, webhook.EventFailed, "event")
}

// TestIncomingSoleRecipientPerMessageEnvID: a host that gives each
// recipient its own ENVID makes a report's ENVID find one message of a
// submission; its stored siblings (found by BaseID) keep it from being
// taken as alone, whether it is the submission's first message or not.
func TestIncomingSoleRecipientPerMessageEnvID(t *testing.T) {
	for _, found := range []int{0, 1} {
		t.Run(fmt.Sprintf("message %d", found), func(t *testing.T) {
			e := newInEnv(t)
			e.h.GenerateFromIDs = false
			i := 0
			msgs := e.add(func(m *queue.Msg) { m.EnvID = fmt.Sprintf("env-%d", i); i++ }, "bob@example.com", "carol@example.com")
			for _, m := range msgs {
				e.deliver(m)
			}
			before := []string{e.state(msgs[0].ID), e.state(msgs[1].ID)}
			d := composeDSN(t, "<pm@mx.example.com>", msgs[found].EnvID, nil, failedRcpt("robert@forward.example", "5.1.1", "550 5.1.1 user unknown"))
			res := e.incoming("alice", "alice@example.org", d)
			icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "event")
			icompare(t, []string{e.state(msgs[0].ID), e.state(msgs[1].ID)}, before, "messages unchanged")
			icompare(t, len(e.entries()), 0, "entries")
		})
	}
}
