package relay_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// composeDSN writes a DSN as a remote MTA would, with package dsn.
func composeDSN(t *testing.T, id, envID string, original []byte, rcpts ...dsn.Recipient) []byte {
	t.Helper()
	m := dsn.Message{
		From:               "MAILER-DAEMON@mx.example.com",
		To:                 "alice@example.org",
		Subject:            "Undelivered Mail Returned to Sender",
		MessageID:          id,
		Date:               t0.Add(time.Hour),
		TextBody:           "Your message could not be delivered.\n",
		OriginalEnvelopeID: envID,
		ReportingMTA:       "mx.example.com",
		Recipients:         rcpts,
		Original:           original,
		Ret:                dsn.RetHeaders,
	}
	var b bytes.Buffer
	tcheck(t, m.Compose(&b), "compose dsn")
	return b.Bytes()
}

// TestRemoteDSN: a DSN for a message node A sent, fed to node C, is
// matched through the shared index, by FromID (with the rest of the
// submission), ENVID or Message-ID; node C makes its webhook and
// suppression change, which reach PostgreSQL and River from C's outbox.
func TestRemoteDSN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	a.h.GenerateFromIDs = true
	c := newNode(t, "c", s)
	c.h.Remote = c.r

	var msgs []*queue.Msg
	for _, rcpt := range []string{"bob@example.com", "carol@example.com", "dave@example.com"} {
		msgs = append(msgs, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt, EnvID: "env1", MessageID: "m1@example.org", Subject: "hi"})
	}
	tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error {
		if _, err := a.h.Add(tx, msgs...); err != nil {
			return err
		}
		return a.r.IndexTx(tx, msgs...)
	}), "add on a")
	a.flush(t)
	bob, carol := msgs[0], msgs[1]

	original := []byte("From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\n")
	failed := func(addr string) dsn.Recipient {
		return dsn.Recipient{FinalRecipient: addr, Action: dsn.ActionFailed, Status: "5.1.1", RemoteMTA: "mx.example.com", DiagnosticCode: "smtp; 550 5.1.1 user unknown"}
	}
	delayed := dsn.Recipient{FinalRecipient: "dave@example.com", Action: dsn.ActionDelayed, Status: "4.2.2", DiagnosticCode: "smtp; 452 4.2.2 mailbox full"}
	tests := []struct {
		name   string
		rcptTo string
		msg    []byte
		match  queue.Match
		event  webhook.OutgoingEvent
		detail string
		supp   bool
		dup    bool
	}{
		{"envid", "alice@example.org", composeDSN(t, "d1@mx.example.com", "env1", nil, failed("bob@example.com")),
			queue.MatchRemote, webhook.EventFailed, "sent by node a as message 1, found by envid", true, false},
		{"repeated", "alice@example.org", composeDSN(t, "d1@mx.example.com", "env1", nil, failed("bob@example.com")),
			queue.MatchRemote, "", "sent by node a as message 1, found by envid", false, true},
		{"fromid of the submission", bob.MailFrom("+"), composeDSN(t, "d2@mx.example.com", "", nil, failed("carol@example.com")),
			queue.MatchRemote, webhook.EventFailed, "sent by node a as message 2, found by fromid", true, false},
		{"message-id", "alice@example.org", composeDSN(t, "d3@mx.example.com", "", original, delayed),
			queue.MatchRemote, webhook.EventDelayed, "sent by node a as message 3, found by messageid", false, false},
		{"unknown", "alice@example.org", composeDSN(t, "d4@mx.example.com", "env2", nil, failed("bob@example.com")),
			queue.MatchNone, webhook.EventUnrecognized, "", false, false},
	}
	for _, tc := range tests {
		var res queue.IncomingResult
		tcheck(t, c.db.Write(ctx, func(tx *bstore.Tx) error {
			var err error
			res, err = c.h.ProcessIncoming(tx, "alice", tc.rcptTo, tc.msg)
			return err
		}), tc.name)
		if len(res.Recipients) != 1 {
			t.Fatalf("%s: %d outcomes", tc.name, len(res.Recipients))
		}
		o := res.Recipients[0]
		if o.Match != tc.match || o.Event != tc.event || o.Suppressing != tc.supp || o.Duplicate != tc.dup || o.MsgID != 0 || tc.detail != "" && o.Detail != tc.detail {
			t.Errorf("%s: outcome %+v", tc.name, o)
		}
	}

	c.flush(t)
	for _, rcpt := range []string{"bob@example.com", "carol@example.com"} {
		e, ok, err := s.sup.Lookup(ctx, "alice", rcpt)
		tcheck(t, err, "lookup")
		if !ok || e.Source != suppression.SourceDSN || e.Category != suppression.CategoryHardBounce {
			t.Fatalf("%s on postgresql: %v %+v", rcpt, ok, e)
		}
	}
	// The webhooks carry node A's message IDs, as the application knows
	// them; the unmatched report's carries none.
	want := map[int64]webhook.OutgoingEvent{bob.ID: webhook.EventFailed, carol.ID: webhook.EventFailed, msgs[2].ID: webhook.EventDelayed, 0: webhook.EventUnrecognized}
	ids := s.hooks.ids()
	if len(ids) != len(want) {
		t.Fatalf("%d hooks, want %d", len(ids), len(want))
	}
	for _, id := range ids {
		h, _ := s.hooks.hook(id)
		if want[h.QueueMsgID] != h.Event || !h.Payload.DSN {
			t.Errorf("hook %s: message %d, event %s", id, h.QueueMsgID, h.Event)
		}
	}
	// A's own node does not match its own records remotely.
	a.h.Remote = a.r
	var res queue.IncomingResult
	tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error {
		var err error
		res, err = a.h.ProcessIncoming(tx, "alice", "alice@example.org", composeDSN(t, "d5@mx.example.com", "env1", nil, failed("erin@example.com")))
		return err
	}), "own node")
	if o := res.Recipients[0]; o.Match != queue.MatchNone {
		t.Fatalf("report for an unknown recipient on node a: %+v", o)
	}
}

// arfReport writes an RFC 5965 feedback report about the message with
// Message-ID returnedMsgID, naming rcptTo in Original-Rcpt-To unless
// empty (most providers redact it).
func arfReport(id, rcptTo, returnedMsgID string) []byte {
	var rcptField string
	if rcptTo != "" {
		rcptField = "Original-Rcpt-To: <" + rcptTo + ">\r\n"
	}
	return []byte("From: <fbl@isp.example.com>\r\n" +
		"To: <abuse@example.org>\r\n" +
		"Subject: complaint\r\n" +
		"Message-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=b1\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"A complaint about a message from 192.0.2.1.\r\n" +
		"--b1\r\n" +
		"Content-Type: message/feedback-report\r\n" +
		"\r\n" +
		"Feedback-Type: abuse\r\n" +
		"User-Agent: fbl/1.0\r\n" +
		"Version: 1\r\n" +
		rcptField +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/rfc822-headers\r\n" +
		"\r\n" +
		"From: <alice@example.org>\r\n" +
		"Subject: hi\r\n" +
		"Message-ID: <" + returnedMsgID + ">\r\n" +
		"\r\n" +
		"--b1--\r\n")
}

// TestRemoteComplaint: a feedback report for a message node A sent, fed
// to node C, is matched through the shared index by the returned
// Message-ID, with the recipient it names or, when redacted, if the
// message was the only recipient of its submission. Node C's complained
// webhook carries A's message; the complaint suppression reaches the
// shared list.
func TestRemoteComplaint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	c := newNode(t, "c", s)
	c.h.Remote = c.r

	msg := func(rcpt, messageID string) *queue.Msg {
		return &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt, MessageID: messageID, Subject: "hi " + rcpt}
	}
	bob, dave := msg("bob@example.com", "m1@example.org"), msg("dave@example.com", "m1@example.org")
	carol := msg("carol@example.com", "solo@example.org")
	// A host may give each recipient a Message-ID of its own.
	erin, frank := msg("erin@example.com", "e1@example.org"), msg("frank@example.com", "f1@example.org")
	tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error {
		// Three submissions: bob and dave together, carol alone, erin
		// and frank together.
		for _, sub := range [][]*queue.Msg{{bob, dave}, {carol}, {erin, frank}} {
			if _, err := a.h.Add(tx, sub...); err != nil {
				return err
			}
			if err := a.r.IndexTx(tx, sub...); err != nil {
				return err
			}
		}
		return nil
	}), "add on a")
	a.flush(t)

	tests := []struct {
		name   string
		msg    []byte
		match  queue.Match
		rcpt   string
		event  webhook.OutgoingEvent
		detail string
	}{
		{"named recipient", arfReport("f1@isp.example.com", "dave@example.com", "m1@example.org"),
			queue.MatchRemote, "dave@example.com", webhook.EventComplained, "sent by node a as message 2, found by messageid"},
		{"redacted, sole recipient", arfReport("f2@isp.example.com", "", "solo@example.org"),
			queue.MatchRemote, "carol@example.com", webhook.EventComplained, "sent by node a as message 3, found by messageid; the report names no recipient; the message found was the only recipient of its submission"},
		{"redacted, two recipients", arfReport("f3@isp.example.com", "", "m1@example.org"),
			queue.MatchNone, "", webhook.EventUnrecognized, ""},
		// Only erin has the Message-ID, but frank shared her submission.
		{"redacted, one of two by its own message-id", arfReport("f4@isp.example.com", "", "e1@example.org"),
			queue.MatchNone, "", webhook.EventUnrecognized, ""},
		{"repeated", arfReport("f1@isp.example.com", "dave@example.com", "m1@example.org"),
			queue.MatchRemote, "dave@example.com", webhook.EventComplained, ""},
	}
	for _, tc := range tests {
		var res queue.IncomingResult
		tcheck(t, c.db.Write(ctx, func(tx *bstore.Tx) error {
			var err error
			res, err = c.h.ProcessIncoming(tx, "alice", "abuse@example.org", tc.msg)
			return err
		}), tc.name)
		if len(res.Recipients) != 1 {
			t.Fatalf("%s: %d outcomes", tc.name, len(res.Recipients))
		}
		o := res.Recipients[0]
		if o.Match != tc.match || o.Recipient != tc.rcpt || o.Event != tc.event || o.MsgID != 0 || tc.detail != "" && o.Detail != tc.detail {
			t.Errorf("%s: outcome %+v", tc.name, o)
		}
		if dup := tc.name == "repeated"; o.Duplicate != dup {
			t.Errorf("%s: duplicate %v", tc.name, o.Duplicate)
		}
	}

	c.flush(t)
	for _, rcpt := range []string{"dave@example.com", "carol@example.com"} {
		e, ok, err := s.sup.Lookup(ctx, "alice", rcpt)
		tcheck(t, err, "lookup")
		if !ok || e.Source != suppression.SourceARF || e.Category != suppression.CategoryComplaint {
			t.Fatalf("%s on postgresql: %v %+v", rcpt, ok, e)
		}
	}
	for _, rcpt := range []string{"bob@example.com", "erin@example.com"} {
		if _, ok, err := s.sup.Lookup(ctx, "alice", rcpt); err != nil || ok {
			t.Fatalf("%s, not matched, on postgresql: %v %v", rcpt, ok, err)
		}
	}
	// The complained webhooks carry node A's message IDs and summaries;
	// the two unmatched reports' carry none.
	want := map[int64]webhook.OutgoingEvent{dave.ID: webhook.EventComplained, carol.ID: webhook.EventComplained, 0: webhook.EventUnrecognized}
	ids := s.hooks.ids()
	if len(ids) != 4 {
		t.Fatalf("%d hooks, want 4", len(ids))
	}
	for _, id := range ids {
		h, _ := s.hooks.hook(id)
		if want[h.QueueMsgID] != h.Event || h.Account != "alice" {
			t.Errorf("hook %s: account %s, message %d, event %s", id, h.Account, h.QueueMsgID, h.Event)
		}
		if h.QueueMsgID == dave.ID && (h.Payload.Recipient != "dave@example.com" || h.Payload.Subject != dave.Subject) {
			t.Errorf("hook for dave: recipient %q, subject %q", h.Payload.Recipient, h.Payload.Subject)
		}
	}
}
