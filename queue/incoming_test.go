package queue_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/report"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// inEnv is a Handler with the real suppression.Store and hookqueue.Queue on a
// fresh database, for ProcessIncoming scenarios.
type inEnv struct {
	t     testing.TB
	db    *bstore.DB
	path  string // Of the database file.
	h     *queue.Handler
	clock *queuetest.Clock
}

var inT0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newInEnv(t testing.TB) *inEnv {
	t.Helper()
	return newInEnvAt(t, filepath.Join(t.TempDir(), "in.db"))
}

// newInEnvAt is newInEnv on the database file at path.
func newInEnvAt(t testing.TB, path string) *inEnv {
	t.Helper()
	db, err := bstore.Open(context.Background(), path, &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	icheck(t, err, "open db")
	t.Cleanup(func() { db.Close() })
	clock := queuetest.NewClock(inT0)
	e := &inEnv{t: t, db: db, path: path, clock: clock}
	e.h = &queue.Handler{
		DB:                db,
		DSNComposer:       &queuetest.Composer{},
		Suppressions:      &suppression.Store{DB: db, Now: clock.Now},
		Hooks:             &hookqueue.Queue{DB: db, Now: clock.Now},
		Hostname:          "mail.example.org",
		GenerateFromIDs:   true,
		CatchallSeparator: "+",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			switch name {
			case "alice", "bobs":
				return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: 30 * 24 * time.Hour}, true
			case "quiet":
				return queue.AccountSettings{KeepRetired: 30 * 24 * time.Hour}, true
			}
			return queue.AccountSettings{}, false
		}),
		Now:   clock.Now,
		After: clock.After,
	}
	return e
}

func icheck(t testing.TB, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

func icompare(t testing.TB, got, want any, msg string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\ngot  %#v\nwant %#v", msg, got, want)
	}
}

// send queues messages from account to the recipients as one submission
// and reports them delivered, so they are retired and kept.
func (e *inEnv) send(account string, mod func(m *queue.Msg), rcpts ...string) []queue.Msg {
	e.t.Helper()
	var ptrs []*queue.Msg
	for _, r := range rcpts {
		m := &queue.Msg{SenderAccount: account, SenderAddress: account + "@example.org", RecipientAddress: r, MessageID: "m1@example.org", Subject: "hi"}
		if mod != nil {
			mod(m)
		}
		ptrs = append(ptrs, m)
	}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		if _, err := e.h.Add(tx, ptrs...); err != nil {
			return err
		}
		msgs := make([]queue.Msg, len(ptrs))
		for i, p := range ptrs {
			msgs[i] = *p
		}
		_, err := e.h.DeliveredMsgs(tx, msgs, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"})
		return err
	})
	icheck(e.t, err, "send")
	l := make([]queue.Msg, len(ptrs))
	for i, p := range ptrs {
		l[i] = *p
	}
	return l
}

func (e *inEnv) incoming(account, rcptTo string, msg []byte) queue.IncomingResult {
	e.t.Helper()
	var res queue.IncomingResult
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		var err error
		res, err = e.h.ProcessIncoming(tx, account, rcptTo, msg)
		return err
	})
	icheck(e.t, err, "process incoming")
	return res
}

func (e *inEnv) hooks() []hookqueue.Hook {
	e.t.Helper()
	var l []hookqueue.Hook
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		l, err = bstore.QueryTx[hookqueue.Hook](tx).SortAsc("ID").List()
		return err
	})
	icheck(e.t, err, "list hooks")
	return l
}

// incomingHooks returns the hooks queued after the deliveries: those not
// for the delivered event.
func (e *inEnv) incomingHooks() []hookqueue.Hook {
	var l []hookqueue.Hook
	for _, h := range e.hooks() {
		if !(h.Event == webhook.EventDelivered && !h.Payload.DSN) {
			l = append(l, h)
		}
	}
	return l
}

func (e *inEnv) retired(id int64) queue.MsgRetired {
	e.t.Helper()
	r := queue.MsgRetired{ID: id}
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error { return tx.Get(&r) })
	icheck(e.t, err, "get retired")
	return r
}

func (e *inEnv) entries() []suppression.Entry {
	e.t.Helper()
	var l []suppression.Entry
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		l, err = bstore.QueryTx[suppression.Entry](tx).List()
		return err
	})
	icheck(e.t, err, "list suppressions")
	return l
}

// composeDSN writes a DSN as a remote MTA would, with package dsn.
func composeDSN(t testing.TB, id, envID string, original []byte, rcpts ...dsn.Recipient) []byte {
	t.Helper()
	m := dsn.Message{
		From:               "MAILER-DAEMON@mx.example.com",
		To:                 "alice@example.org",
		Subject:            "Undelivered Mail Returned to Sender",
		MessageID:          id,
		Date:               inT0.Add(time.Hour),
		TextBody:           "Your message could not be delivered.\n",
		OriginalEnvelopeID: envID,
		ReportingMTA:       "mx.example.com",
		Recipients:         rcpts,
		Original:           original,
		Ret:                dsn.RetHeaders,
	}
	var b bytes.Buffer
	icheck(t, m.Compose(&b), "compose dsn")
	return b.Bytes()
}

const origHeader = "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <m1@example.org>\r\n\r\n"

func failedRcpt(addr, status, diag string) dsn.Recipient {
	return dsn.Recipient{FinalRecipient: addr, Action: dsn.ActionFailed, Status: status, RemoteMTA: "mx.example.com", DiagnosticCode: diag}
}

func TestIncomingFromID(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	m := msgs[0]
	if m.FromID == "" {
		t.Fatalf("no fromid generated")
	}
	rcptTo := m.MailFrom("+")
	icompare(t, rcptTo, "alice+"+m.FromID+"@example.org", "mail from")

	// A DSN that names the recipient differently (after a forward) and has
	// neither ENVID nor the original: only the FromID can match it, and
	// only because bob was the submission's only recipient, which the
	// outcome says.
	d := composeDSN(t, "<dsn1@mx.example.com>", "", nil, failedRcpt("robert@forward.example", "5.1.1", "550 5.1.1 <robert@forward.example>: user unknown"))
	res := e.incoming("alice", rcptTo, d)
	icompare(t, res.Kind, queue.IncomingDSN, "kind")
	icompare(t, res.FromID, m.FromID, "fromid")
	icompare(t, len(res.Recipients), 1, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Match, queue.MatchSoleRecipient, "match")
	icompare(t, o.MsgID, m.ID, "msgid")
	icompare(t, o.Event, webhook.EventFailed, "event")
	icompare(t, o.Failure.Reason, bounce.ReasonUserUnknown, "reason")
	icompare(t, o.Suppressing, true, "suppressing")
	icompare(t, o.Hook, webhook.EventFailed, "hook")

	r := e.retired(m.ID)
	icompare(t, r.Event, webhook.EventFailed, "retired event")
	icompare(t, r.Success, false, "retired success")
	icompare(t, len(r.Results), 2, "results")
	lr := r.Results[1]
	icompare(t, lr.DSN, true, "result dsn")
	icompare(t, lr.Code, 550, "result code")
	icompare(t, lr.EnhancedCode, "5.1.1", "result enhanced code")
	icompare(t, lr.RemoteMTA, "mx.example.com", "result remote mta")
	icompare(t, r.LastActivity.Equal(inT0), true, "last activity")

	ents := e.entries()
	icompare(t, len(ents), 1, "suppression entries")
	icompare(t, ents[0].Source, suppression.SourceDSN, "source")
	icompare(t, ents[0].Category, suppression.CategoryHardBounce, "category")
	icompare(t, ents[0].OriginalAddress, "bob@example.com", "suppressed address")

	hooks := e.incomingHooks()
	icompare(t, len(hooks), 1, "hooks")
	p := hooks[0].Payload
	icompare(t, p.Event, webhook.EventFailed, "hook event")
	icompare(t, p.DSN, true, "hook dsn")
	icompare(t, p.Suppressing, true, "hook suppressing")
	icompare(t, p.QueueMsgID, m.ID, "hook msgid")
	icompare(t, p.FromID, m.FromID, "hook fromid")
	icompare(t, p.SMTPCode, int64(550), "hook code")
	icompare(t, p.Reason, "userunknown", "hook reason")
	icompare(t, p.Recipient, "bob@example.com", "hook recipient")
	icompare(t, p.MessageID, "<m1@example.org>", "hook message-id")
}

// TestIncomingDSNResultsBounded sends more distinct DSNs about one message
// than it keeps results for: the oldest report results go, the delivery
// attempt's result stays, and the newest report is last.
func TestIncomingDSNResultsBounded(t *testing.T) {
	e := newInEnv(t)
	m := e.send("alice", nil, "bob@example.com")[0]
	n := queue.MaxDSNResults + 5
	for i := range n {
		diag := fmt.Sprintf("452 4.2.2 mailbox full, report %d", i)
		d := composeDSN(t, fmt.Sprintf("<many%d@mx.example.com>", i), "", nil, failedRcpt("bob@example.com", "4.2.2", diag))
		e.incoming("alice", m.MailFrom("+"), d)
	}
	r := e.retired(m.ID)
	icompare(t, len(r.Results), 1+queue.MaxDSNResults, "results")
	icompare(t, r.Results[0].DSN, false, "first result is the delivery")
	icompare(t, r.Results[0].Success, true, "delivery result success")
	for i, res := range r.Results[1:] {
		want := fmt.Sprintf("report %d", n-queue.MaxDSNResults+i)
		if !res.DSN || !strings.Contains(res.Error, want) {
			t.Errorf("result %d: dsn %v, error %q, want DSN result with %q", i+1, res.DSN, res.Error, want)
		}
	}
}

// TestIncomingMetrics checks the counters of ProcessIncoming: reports by
// kind, outcomes by event, a repeated report as a duplicate.
func TestIncomingMetrics(t *testing.T) {
	e := newInEnv(t)
	reg := prometheus.NewRegistry()
	metrics, err := queue.NewMetrics(reg)
	icheck(t, err, "metrics")
	e.h.Metrics = metrics
	m := e.send("alice", nil, "bob@example.com")[0]
	d := composeDSN(t, "<metrics1@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 user unknown"))
	e.incoming("alice", m.MailFrom("+"), d)
	e.incoming("alice", m.MailFrom("+"), d)
	e.incoming("alice", "alice@example.org", []byte("From: x@example.com\r\nSubject: hello\r\n\r\nhi\r\n"))
	icompare(t, counter(t, reg, "bouncekit_queue_incoming_total", "dsn"), 2.0, "dsn reports")
	icompare(t, counter(t, reg, "bouncekit_queue_incoming_total", "other"), 1.0, "other reports")
	icompare(t, counter(t, reg, "bouncekit_queue_incoming_outcomes_total", "failed"), 1.0, "failed outcomes")
	icompare(t, counter(t, reg, "bouncekit_queue_incoming_outcomes_total", "duplicate"), 1.0, "duplicate outcomes")
}

func TestIncomingEnvIDMultiRecipient(t *testing.T) {
	e := newInEnv(t)
	e.h.GenerateFromIDs = false
	msgs := e.send("alice", func(m *queue.Msg) { m.EnvID = "env-42"; m.MessageID = "" }, "bob@example.com", "carol@example.com", "dave@example.com")

	d := composeDSN(t, "<dsn2@mx.example.com>", "env-42", nil,
		failedRcpt("bob@example.com", "5.2.2", "552 5.2.2 mailbox full"),
		dsn.Recipient{FinalRecipient: "carol@example.com", Action: dsn.ActionDelayed, Status: "4.4.1", DiagnosticCode: "421 4.4.1 connection timed out"},
		dsn.Recipient{FinalRecipient: "dave@example.com", Action: dsn.ActionRelayed, Status: "2.0.0"},
	)
	res := e.incoming("alice", "alice@example.org", d)
	icompare(t, len(res.Recipients), 3, "outcomes")
	want := []struct {
		event  webhook.OutgoingEvent
		reason bounce.Reason
	}{{"failed", bounce.ReasonMailboxFull}, {"delayed", bounce.ReasonNetworkError}, {"relayed", bounce.ReasonDelivered}}
	for i, o := range res.Recipients {
		icompare(t, o.Match, queue.MatchEnvID, "match")
		icompare(t, o.MsgID, msgs[i].ID, "msgid")
		icompare(t, o.Event, want[i].event, "event")
		icompare(t, o.Failure.Reason, want[i].reason, "reason")
		icompare(t, o.Suppressing, false, "suppressing")
	}
	// A mailbox full once is no reason to suppress.
	icompare(t, len(e.entries()), 0, "suppressions")

	icompare(t, e.retired(msgs[0].ID).Event, webhook.EventFailed, "bob")
	carol := e.retired(msgs[1].ID)
	icompare(t, carol.Event, webhook.EventDelivered, "carol stays delivered while delayed")
	icompare(t, len(carol.Results), 2, "carol results")
	icompare(t, carol.Results[1].Success, false, "carol delayed result")
	dave := e.retired(msgs[2].ID)
	icompare(t, dave.Event, webhook.EventRelayed, "dave")
	icompare(t, dave.Success, true, "dave success")

	var events []string
	for _, h := range e.incomingHooks() {
		events = append(events, fmt.Sprintf("%s:%s:%v", h.Payload.Event, h.Payload.Recipient, h.Payload.DSN))
	}
	icompare(t, events, []string{"failed:bob@example.com:true", "delayed:carol@example.com:true", "relayed:dave@example.com:true"}, "hooks")
}

func TestIncomingMessageIDAndUnmatched(t *testing.T) {
	e := newInEnv(t)
	e.h.GenerateFromIDs = false
	msgs := e.send("alice", nil, "bob@example.com", "carol@example.com")
	// Another account's message with the same Message-ID must not match.
	e.send("bobs", nil, "zed@example.com")

	d := composeDSN(t, "<dsn3@mx.example.com>", "", []byte(origHeader),
		failedRcpt("carol@example.com", "5.7.1", "550 5.7.1 message rejected as spam"),
		failedRcpt("zed@example.com", "5.1.1", "550 5.1.1 no such user"),
	)
	res := e.incoming("alice", "alice@example.org", d)
	icompare(t, len(res.Recipients), 2, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Match, queue.MatchMessageID, "match")
	icompare(t, o.MsgID, msgs[1].ID, "msgid")
	icompare(t, o.Event, webhook.EventFailed, "event")
	icompare(t, o.Failure.Reason, bounce.ReasonSpamDetected, "reason")

	u := res.Recipients[1]
	icompare(t, u.Match, queue.MatchNone, "unmatched")
	icompare(t, u.MsgID, int64(0), "unmatched msgid")
	icompare(t, u.Event, webhook.EventUnrecognized, "unmatched event")
	if !strings.Contains(u.Detail, "message-id <m1@example.org>") {
		t.Fatalf("detail %q does not say what was searched", u.Detail)
	}
	// No suppression for zed: the report is not about alice's message to zed.
	for _, en := range e.entries() {
		if en.OriginalAddress == "zed@example.com" {
			t.Fatalf("unmatched recipient suppressed: %+v", en)
		}
	}
	hooks := e.incomingHooks()
	icompare(t, len(hooks), 2, "hooks")
	icompare(t, hooks[1].Account, "alice", "unrecognized hook account")
	p := hooks[1].Payload
	icompare(t, p.Event, webhook.EventUnrecognized, "unrecognized event")
	icompare(t, p.QueueMsgID, int64(0), "unrecognized msgid")
	icompare(t, p.Recipient, "zed@example.com", "unrecognized recipient")
	icompare(t, p.SMTPCode, int64(550), "unrecognized code")
	icompare(t, p.MessageID, "<m1@example.org>", "unrecognized message-id")
	icompare(t, p.DSN, true, "unrecognized dsn")
	if !strings.Contains(p.Error, "no such user") {
		t.Fatalf("unrecognized error %q lacks the diagnostic", p.Error)
	}
}

func TestIncomingDuplicate(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	d := composeDSN(t, "<dsn4@mx.example.com>", "", []byte(origHeader), failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 user unknown"))
	res := e.incoming("alice", msgs[0].MailFrom("+"), d)
	icompare(t, res.Recipients[0].Duplicate, false, "first")
	nhooks := len(e.hooks())
	r1 := e.retired(msgs[0].ID)

	e.clock.Advance(time.Hour)
	res = e.incoming("alice", msgs[0].MailFrom("+"), d)
	icompare(t, len(res.Recipients), 1, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Duplicate, true, "duplicate")
	icompare(t, o.Hook, webhook.OutgoingEvent(""), "no hook")
	icompare(t, len(e.hooks()), nhooks, "hooks after duplicate")
	r2 := e.retired(msgs[0].ID)
	icompare(t, len(r2.Results), len(r1.Results), "results after duplicate")
	icompare(t, r2.LastActivity.Equal(r1.LastActivity), true, "last activity after duplicate")
	icompare(t, len(e.entries()), 1, "suppressions")

	// The same DSN without a Message-ID is recognized by its content.
	d2 := bytes.Replace(d, []byte("Message-ID: <dsn4@mx.example.com>\r\n"), nil, 1)
	if bytes.Equal(d2, d) {
		t.Fatalf("message-id not removed from dsn")
	}
	e.incoming("alice", "alice@example.org", d2)
	n := len(e.hooks())
	res = e.incoming("alice", "alice@example.org", d2)
	icompare(t, res.Recipients[0].Duplicate, true, "duplicate without message-id")
	icompare(t, len(e.hooks()), n, "hooks")
}

// arfReport builds an RFC 5965 feedback report (as in its appendix B).
func arfReport(id, feedbackType, rcptTo, returnedMsgID string) []byte {
	var fields string
	if rcptTo != "" {
		fields = "Original-Rcpt-To: <" + rcptTo + ">\r\n"
	}
	return []byte("From: <abusedesk@example.com>\r\n" +
		"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n" +
		"Subject: FW: Earn money\r\n" +
		"To: <abuse@example.org>\r\n" +
		"Message-ID: " + id + "\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"part1_13d.2e68ed54_boundary\"\r\n" +
		"\r\n" +
		"--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: text/plain; charset=\"US-ASCII\"\r\n" +
		"\r\n" +
		"This is an email abuse report for an email message received from IP\r\n192.0.2.1 on Thu, 26 Nov 2026 09:00:00 +0000.\r\n" +
		"\r\n" +
		"--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: message/feedback-report\r\n" +
		"\r\n" +
		"Feedback-Type: " + feedbackType + "\r\n" +
		"User-Agent: SomeGenerator/1.0\r\n" +
		"Version: 1\r\n" +
		"Original-Mail-From: <alice@example.org>\r\n" +
		fields +
		"Arrival-Date: Thu, 26 Nov 2026 09:00:00 +0000\r\n" +
		"Source-IP: 192.0.2.1\r\n" +
		"\r\n" +
		"--part1_13d.2e68ed54_boundary\r\n" +
		"Content-Type: text/rfc822-headers\r\n" +
		"\r\n" +
		"From: <alice@example.org>\r\n" +
		"To: <undisclosed@example.com>\r\n" +
		"Subject: Earn money\r\n" +
		"Message-ID: <" + returnedMsgID + ">\r\n" +
		"\r\n" +
		"--part1_13d.2e68ed54_boundary--\r\n")
}

func TestIncomingFeedback(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com", "carol@example.com")

	// Matched by Message-ID and Original-Rcpt-To.
	res := e.incoming("", "abuse@example.org", arfReport("<fbl1@example.com>", "abuse", "carol@example.com", "m1@example.org"))
	icompare(t, res.Kind, queue.IncomingFeedback, "kind")
	icompare(t, len(res.Recipients), 1, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Event, webhook.EventComplained, "event")
	icompare(t, o.Match, queue.MatchMessageID, "match")
	icompare(t, o.MsgID, msgs[1].ID, "msgid")
	icompare(t, o.Failure.Reason, bounce.ReasonFeedback, "reason")
	icompare(t, o.Suppressing, true, "suppressing")
	ents := e.entries()
	icompare(t, len(ents), 1, "entries")
	icompare(t, ents[0].Category, suppression.CategoryComplaint, "category")
	icompare(t, ents[0].Source, suppression.SourceARF, "source")
	icompare(t, ents[0].Account, "alice", "account")
	icompare(t, ents[0].OriginalAddress, "carol@example.com", "address")
	hooks := e.incomingHooks()
	icompare(t, len(hooks), 1, "hooks")
	icompare(t, hooks[0].Payload.Event, webhook.EventComplained, "hook event")
	icompare(t, hooks[0].Payload.QueueMsgID, msgs[1].ID, "hook msgid")
	icompare(t, hooks[0].Payload.DSN, false, "hook dsn")
	// The message's delivery outcome stays.
	icompare(t, e.retired(msgs[1].ID).Event, webhook.EventDelivered, "retired event")

	// Redacted recipient: the Message-ID matches two messages, so the
	// report cannot say whom to suppress.
	res = e.incoming("alice", "abuse@example.org", arfReport("<fbl2@example.com>", "abuse", "", "m1@example.org"))
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "ambiguous")
	icompare(t, len(e.entries()), 1, "entries after ambiguous")

	// Redacted recipient, unique Message-ID.
	one := e.send("alice", func(m *queue.Msg) { m.MessageID = "solo@example.org" }, "dan@example.com")
	res = e.incoming("", "abuse@example.org", arfReport("<fbl3@example.com>", "fraud", "", "solo@example.org"))
	o = res.Recipients[0]
	icompare(t, o.Event, webhook.EventComplained, "unique message-id")
	icompare(t, o.MsgID, one[0].ID, "unique msgid")
	icompare(t, o.Recipient, "dan@example.com", "recipient from message")

	// Original-Rcpt-To only: the newest message to the recipient.
	res = e.incoming("alice", "abuse@example.org", arfReport("<fbl4@example.com>", "abuse", "bob@example.com", "unknown@elsewhere"))
	o = res.Recipients[0]
	icompare(t, o.Match, queue.MatchRecipient, "match by recipient")
	icompare(t, o.MsgID, msgs[0].ID, "msgid by recipient")

	// not-spam is no complaint.
	res = e.incoming("alice", "abuse@example.org", arfReport("<fbl5@example.com>", "not-spam", "eve@example.com", "x@y"))
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "not-spam")
	icompare(t, len(e.entries()), 3, "entries")

	// Duplicate report.
	n := len(e.hooks())
	res = e.incoming("", "abuse@example.org", arfReport("<fbl1@example.com>", "abuse", "carol@example.com", "m1@example.org"))
	icompare(t, res.Recipients[0].Duplicate, true, "duplicate")
	icompare(t, len(e.hooks()), n, "hooks after duplicate")
}

// TestIncomingSESComplaint feeds Amazon SES's complaint notification (JSON
// in a mail from SNS, from the corpus): the same outcome as an ARF report,
// matched by the complained recipient.
func TestIncomingSESComplaint(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "complaint@simulator.amazonses.com")
	data, err := os.ReadFile("../report/testdata/corpus/sisimai/bsd/lhost-amazonses-11.eml")
	icheck(t, err, "read")
	res := e.incoming("alice", "ses-notifications@example.org", data)
	icompare(t, res.Kind, queue.IncomingFeedback, "kind")
	icompare(t, len(res.Recipients), 1, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Event, webhook.EventComplained, "event")
	icompare(t, o.Match, queue.MatchRecipient, "match")
	icompare(t, o.MsgID, msgs[0].ID, "msgid")
	ents := e.entries()
	icompare(t, len(ents), 1, "entries")
	icompare(t, ents[0].Category, suppression.CategoryComplaint, "category")
	icompare(t, ents[0].OriginalAddress, "complaint@simulator.amazonses.com", "address")
	hooks := e.incomingHooks()
	icompare(t, len(hooks), 1, "hooks")
	icompare(t, hooks[0].Payload.Event, webhook.EventComplained, "hook event")

	// The same notification again changes nothing.
	res = e.incoming("alice", "ses-notifications@example.org", data)
	icompare(t, res.Recipients[0].Duplicate, true, "duplicate")
	icompare(t, len(e.incomingHooks()), 1, "hooks after duplicate")
}

func TestIncomingAutoReplyAndOther(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	rcptTo := msgs[0].MailFrom("+")

	vacation := []byte("From: Bob <bob@example.com>\r\nTo: " + rcptTo + "\r\nSubject: Out of office: hi\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <vac1@example.com>\r\n\r\nI am away until Monday.\r\n")
	res := e.incoming("alice", rcptTo, vacation)
	icompare(t, res.Kind, queue.IncomingAutoReply, "kind")
	icompare(t, len(res.Recipients), 1, "outcomes")
	o := res.Recipients[0]
	icompare(t, o.Event, webhook.EventUnrecognized, "event")
	icompare(t, o.Failure.Reason, bounce.ReasonVacation, "reason")
	icompare(t, o.MsgID, msgs[0].ID, "msgid")
	r := e.retired(msgs[0].ID)
	icompare(t, r.Event, webhook.EventDelivered, "still delivered")
	icompare(t, len(r.Results), 1, "no result added")
	icompare(t, len(e.entries()), 0, "no suppression")
	hooks := e.incomingHooks()
	icompare(t, len(hooks), 1, "hooks")
	icompare(t, hooks[0].Payload.Reason, "vacation", "hook reason")
	icompare(t, hooks[0].Payload.Event, webhook.EventUnrecognized, "hook event")

	// Ordinary mail to the FromID address.
	other := []byte("From: bob@example.com\r\nTo: " + rcptTo + "\r\nSubject: question\r\nMessage-ID: <q1@example.com>\r\n\r\nHow are you?\r\n")
	res = e.incoming("alice", rcptTo, other)
	icompare(t, res.Kind, queue.IncomingOther, "kind")
	icompare(t, res.Recipients[0].Event, webhook.EventUnrecognized, "event")
	if !strings.Contains(res.Recipients[0].Detail, `subject "question"`) {
		t.Fatalf("detail %q", res.Recipients[0].Detail)
	}
	icompare(t, len(e.incomingHooks()), 2, "hooks")

	// Ordinary mail to a plain address: nothing at all.
	res = e.incoming("alice", "alice@example.org", other)
	icompare(t, res.Kind, queue.IncomingOther, "kind")
	icompare(t, len(res.Recipients), 0, "outcomes")
	icompare(t, len(e.incomingHooks()), 2, "hooks")

	// An auto-reply to a plain address: recognized, nothing done.
	res = e.incoming("alice", "alice@example.org", vacation)
	icompare(t, res.Kind, queue.IncomingAutoReply, "kind")
	icompare(t, len(res.Recipients), 0, "outcomes")
}

func TestIncomingQueuedMessage(t *testing.T) {
	e := newInEnv(t)
	m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com", MessageID: "q@example.org"}
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.Add(tx, m)
		return err
	})
	icheck(t, err, "add")
	d := composeDSN(t, "<dsn5@mx.example.com>", "", nil, dsn.Recipient{FinalRecipient: "bob@example.com", Action: dsn.ActionDelayed, Status: "4.2.2", DiagnosticCode: "452 4.2.2 over quota"})
	res := e.incoming("alice", m.MailFrom("+"), d)
	o := res.Recipients[0]
	icompare(t, o.Queued, true, "queued")
	icompare(t, o.Event, webhook.EventDelayed, "event")
	var cur queue.Msg
	err = e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		cur = queue.Msg{ID: m.ID}
		return tx.Get(&cur)
	})
	icheck(t, err, "get msg")
	icompare(t, len(cur.Results), 1, "results")
	icompare(t, cur.Results[0].DSN, true, "dsn result")
	icompare(t, cur.NextAttempt.Equal(m.NextAttempt), true, "retry state untouched")
}

func TestIncomingNoHistoryAccountAndQuiet(t *testing.T) {
	e := newInEnv(t)
	// An account without webhooks: outcomes and suppression, no hooks.
	msgs := e.send("quiet", nil, "bob@example.com")
	d := composeDSN(t, "<dsn6@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown"))
	res := e.incoming("quiet", msgs[0].MailFrom("+"), d)
	icompare(t, res.Recipients[0].Event, webhook.EventFailed, "event")
	icompare(t, res.Recipients[0].Hook, webhook.OutgoingEvent(""), "hook")
	icompare(t, len(e.entries()), 1, "suppressed")
	icompare(t, len(e.incomingHooks()), 0, "hooks")

	// A FromID of another account does not match when account is given.
	res = e.incoming("alice", msgs[0].MailFrom("+"), composeDSN(t, "<dsn7@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown")))
	icompare(t, res.Recipients[0].Match, queue.MatchNone, "other account")
}

func TestIncomingBadInput(t *testing.T) {
	e := newInEnv(t)
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.ProcessIncoming(tx, "alice", "alice@example.org", nil)
		return err
	})
	if !errors.Is(err, queue.ErrEmptyMessage) {
		t.Fatalf("empty message: got %v", err)
	}
	_, err = e.h.ProcessIncoming(nil, "alice", "alice@example.org", []byte("x"))
	if err == nil {
		t.Fatalf("nil tx: no error")
	}
}

func TestIncomingRollback(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	d := composeDSN(t, "<dsn8@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown"))
	errAbort := errors.New("abort")
	n := len(e.hooks())
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		if _, err := e.h.ProcessIncoming(tx, "alice", msgs[0].MailFrom("+"), d); err != nil {
			return err
		}
		return errAbort
	})
	icompare(t, err, errAbort, "write")
	icompare(t, len(e.hooks()), n, "hooks after rollback")
	icompare(t, len(e.entries()), 0, "suppressions after rollback")
	icompare(t, e.retired(msgs[0].ID).Event, webhook.EventDelivered, "retired after rollback")
	// Not recorded as seen either: processing again works.
	res := e.incoming("alice", msgs[0].MailFrom("+"), d)
	icompare(t, res.Recipients[0].Duplicate, false, "not a duplicate")
	icompare(t, res.Recipients[0].Event, webhook.EventFailed, "event")
}

func TestIncomingStoreErrors(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	supp := &queuetest.Suppressions{FailAfter: 1}
	e.h.Suppressions = supp
	d := composeDSN(t, "<dsn9@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown"))
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.ProcessIncoming(tx, "alice", msgs[0].MailFrom("+"), d)
		return err
	})
	if err == nil {
		t.Fatalf("no error from failing suppression store")
	}
}

func TestIncomingMalformed(t *testing.T) {
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")
	rcptTo := msgs[0].MailFrom("+")
	d := composeDSN(t, "<dsn10@mx.example.com>", "", []byte(origHeader), failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown"))

	// Truncated at every 97th byte: never an error or panic, and whatever
	// it is, the FromID still finds the message.
	for n := 1; n < len(d); n += 97 {
		res := e.incoming("alice", rcptTo, d[:n])
		if len(res.Recipients) > 1 {
			t.Fatalf("truncated at %d: %d outcomes", n, len(res.Recipients))
		}
		for _, o := range res.Recipients {
			if o.MsgID != msgs[0].ID && o.MsgID != 0 {
				t.Fatalf("truncated at %d: matched message %d", n, o.MsgID)
			}
		}
	}

	// Garbage and header-only input.
	for _, in := range []string{"\x00\xff\xfe", "Subject: x", "Content-Type: multipart/report; boundary=\"\"\r\n\r\n--\r\n", strings.Repeat("a", 100000)} {
		res := e.incoming("alice", "alice@example.org", []byte(in))
		icompare(t, len(res.Recipients), 0, "outcomes for garbage")
	}
}

func TestIncomingLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	e := newInEnv(t)
	msgs := e.send("alice", nil, "bob@example.com")

	// A DSN returning a 30 MB original.
	body := bytes.Repeat([]byte(strings.Repeat("x", 76)+"\r\n"), 30<<20/78)
	orig := append([]byte(origHeader), body...)
	d := composeDSN(t, "<big@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown"))
	d = bytes.Replace(d, []byte("Content-Type: text/rfc822-headers"), []byte("Content-Type: message/rfc822"), 1)
	i := bytes.LastIndex(d, []byte("\r\n--"))
	big := append(append(append([]byte{}, d[:i]...), "\r\n"...), orig...)
	big = append(big, d[i:]...)
	if len(big) < 30<<20 {
		t.Fatalf("message only %d bytes", len(big))
	}
	res := e.incoming("alice", msgs[0].MailFrom("+"), big)
	icompare(t, len(res.Recipients), 1, "outcomes")
	icompare(t, res.Recipients[0].Event, webhook.EventFailed, "event")

	// A DSN with 10,000 recipients: package dsn refuses more than its limit,
	// the text parser keeps MaxIncomingRecipients, so work is bounded.
	var rcpts []dsn.Recipient
	for i := range 10000 {
		rcpts = append(rcpts, failedRcpt(fmt.Sprintf("r%d@example.com", i), "5.1.1", "550 5.1.1 unknown"))
	}
	many := composeDSN(t, "<many@mx.example.com>", "", nil, rcpts...)
	res = e.incoming("alice", "alice@example.org", many)
	if len(res.Recipients) > queue.MaxIncomingRecipients {
		t.Fatalf("%d outcomes, more than %d", len(res.Recipients), queue.MaxIncomingRecipients)
	}
	t.Logf("dsn with 10000 recipients: kind %s, %d outcomes, truncated %v", res.Kind, len(res.Recipients), res.Truncated)
	if len(res.Recipients) > 0 && !res.Truncated {
		t.Fatalf("%d outcomes, not marked truncated", len(res.Recipients))
	}
	for _, o := range res.Recipients {
		if o.Event != "unrecognized" || o.MsgID != 0 {
			t.Fatalf("outcome %+v", o)
		}
	}
}

func TestMailFrom(t *testing.T) {
	cases := []struct {
		sender, fromID, sep, want string
	}{
		{"alice@example.org", "abc", "+", "alice+abc@example.org"},
		{"alice@example.org", "a-b_c", "-", "alice-a-b_c@example.org"},
		{"alice@example.org", "", "+", "alice@example.org"},
		{"alice@example.org", "abc", "", "alice@example.org"},
		{"", "abc", "+", ""},
		{`"a b"@example.org`, "abc", "+", `"a b"@example.org`},
	}
	for _, c := range cases {
		got := queue.Msg{SenderAddress: c.sender, FromID: c.fromID}.MailFrom(c.sep)
		icompare(t, got, c.want, "mailfrom "+c.sender)
		if got == c.sender {
			continue
		}
		base, id, ok := queue.ParseMailFrom(got, c.sep)
		icompare(t, []any{base, id, ok}, []any{c.sender, c.fromID, true}, "parse "+got)
	}
	_, _, ok := queue.ParseMailFrom("alice@example.org", "+")
	icompare(t, ok, false, "no separator")
	_, _, ok = queue.ParseMailFrom("alice+@example.org", "+")
	icompare(t, ok, false, "empty fromid")
}

// TestIncomingFromIDSeparatorInLocalpart checks that a FromID is found when
// the sender's localpart and the FromID contain the separator.
func TestIncomingFromIDSeparatorInLocalpart(t *testing.T) {
	e := newInEnv(t)
	e.h.CatchallSeparator = "-"
	msgs := e.send("alice", func(m *queue.Msg) {
		m.SenderAddress = "alice-news@example.org"
		m.FromID = "x-y_z"
	}, "bob@example.com")
	rcptTo := msgs[0].MailFrom("-")
	icompare(t, rcptTo, "alice-news-x-y_z@example.org", "mail from")
	res := e.incoming("alice", rcptTo, composeDSN(t, "<sep@mx.example.com>", "", nil, failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 unknown")))
	icompare(t, res.Recipients[0].Match, queue.MatchFromID, "match")
	icompare(t, res.FromID, "x-y_z", "fromid")
}

// TestIncomingCorpusSamples sends a message to the recipient a real bounce
// names, then feeds the bounce: by FromID, and by the returned Message-ID
// where the bounce has one.
func TestIncomingCorpusSamples(t *testing.T) {
	samples := []struct {
		file   string
		reason bounce.Reason
	}{
		{"sisimai/bsd/lhost-qmail-03.eml", bounce.ReasonRejected},
		{"sisimai/bsd/lhost-exim-05.eml", bounce.ReasonUserUnknown},
		{"sisimai/bsd/lhost-exchange2007-01.eml", bounce.ReasonUserUnknown},
		{"sisimai/bsd/lhost-exchange2003-01.eml", bounce.ReasonUserUnknown},
		{"sisimai/bsd/lhost-gmail-01.eml", bounce.ReasonUserUnknown},
		{"sisimai/bsd/lhost-courier-01.eml", bounce.ReasonUserUnknown},
		{"sisimai/bsd/rhost-microsoft-01.eml", bounce.ReasonBlocked},
	}
	for _, s := range samples {
		t.Run(filepath.Base(s.file), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../report/testdata/corpus", s.file))
			icheck(t, err, "read")
			r := report.Read(data)
			if len(r.Recipients) == 0 {
				t.Fatalf("no recipient in sample")
			}
			addr := r.Recipients[0].Address

			for _, byFromID := range []bool{true, false} {
				if !byFromID && r.OriginalMessageID == "" {
					continue
				}
				e := newInEnv(t)
				e.h.GenerateFromIDs = byFromID
				msgs := e.send("alice", func(m *queue.Msg) { m.MessageID = strings.Trim(r.OriginalMessageID, "<>") }, addr)
				rcptTo := "alice@example.org"
				want := queue.MatchMessageID
				if byFromID {
					rcptTo = msgs[0].MailFrom("+")
					want = queue.MatchFromID
				}
				res := e.incoming("alice", rcptTo, data)
				if len(res.Recipients) == 0 {
					t.Fatalf("no outcomes")
				}
				o := res.Recipients[0]
				icompare(t, o.Match, want, "match")
				icompare(t, o.MsgID, msgs[0].ID, "msgid")
				icompare(t, o.Event, webhook.EventFailed, "event")
				if s.reason != "" {
					icompare(t, o.Failure.Reason, s.reason, "reason")
				}
				ret := e.retired(msgs[0].ID)
				icompare(t, ret.Event, webhook.EventFailed, "retired event")
				icompare(t, ret.Results[len(ret.Results)-1].DSN, true, "dsn result")
				hooks := e.incomingHooks()
				if len(hooks) == 0 || hooks[0].Payload.Event != webhook.EventFailed || !hooks[0].Payload.DSN {
					t.Fatalf("hooks %+v", hooks)
				}
			}
		})
	}
}
