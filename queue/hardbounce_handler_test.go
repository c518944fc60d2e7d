package queue_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// hbEnv is a Handler with the real suppression.Store on a fresh database.
type hbEnv struct {
	t     *testing.T
	db    *bstore.DB
	h     *queue.Handler
	clock *queuetest.Clock
}

var hbT0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newHBEnv(t *testing.T) *hbEnv {
	t.Helper()
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "hb.db"), &bstore.Options{Timeout: time.Second}, queue.DBTypes()...)
	if err != nil {
		t.Fatalf("open db: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clock := queuetest.NewClock(hbT0)
	h := &queue.Handler{
		DB:                db,
		Suppressions:      &suppression.Store{DB: db, Now: clock.Now},
		Hostname:          "mail.example.org",
		GenerateFromIDs:   true,
		CatchallSeparator: "+",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{KeepRetired: 30 * 24 * time.Hour}, name == "alice"
		}),
		Now:   clock.Now,
		After: clock.After,
	}
	return &hbEnv{t, db, h, clock}
}

func (e *hbEnv) write(fn func(tx *bstore.Tx) error) {
	e.t.Helper()
	if err := e.db.Write(context.Background(), fn); err != nil {
		e.t.Fatalf("write: %v", err)
	}
}

// add queues one message from alice to rcpt and returns it with the
// outcome of Add.
func (e *hbEnv) add(rcpt string) (queue.Msg, queue.Result) {
	e.t.Helper()
	m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt, MessageID: "m1@example.org", Subject: "hi"}
	var out []queue.Outcome
	e.write(func(tx *bstore.Tx) error {
		var err error
		out, err = e.h.Add(tx, m)
		return err
	})
	return *m, out[0].Result
}

// entries returns the suppression entries.
func (e *hbEnv) entries() []suppression.Entry {
	e.t.Helper()
	var l []suppression.Entry
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		l, err = bstore.QueryTx[suppression.Entry](tx).List()
		return err
	})
	if err != nil {
		e.t.Fatalf("list entries: %v", err)
	}
	return l
}

// TestFailMsgsNoReplyExpires runs FailMsgs with the failures of issue 12 and
// checks the suppression entry each leaves: a DNS answer suppresses for
// suppression.DefaultNoReplyExpiry only, a null MX and a reply for good, a
// disabled mailbox not at once.
func TestFailMsgsNoReplyExpires(t *testing.T) {
	brief := hbT0.Add(suppression.DefaultNoReplyExpiry)
	tests := []struct {
		name    string
		err     error
		entry   bool
		expires time.Time
	}{
		{"nxdomain", fmt.Errorf("looking up mx of example.invalid: %w", &net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true}), true, brief},
		{"null mx", &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 1, 10}, Stage: bounce.StageDial, Line: "example.com publishes a null MX"}, true, time.Time{}},
		{"user unknown", &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}, true, time.Time{}},
		{"mailbox disabled", &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 2, 1}, Stage: bounce.StageRcpt, Line: "mailbox disabled, not accepting messages"}, false, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newHBEnv(t)
			m, _ := e.add("bob@example.com")
			var out []queue.Outcome
			e.write(func(tx *bstore.Tx) error {
				var err error
				out, err = e.h.FailMsgs(tx, []queue.Msg{m}, tc.err)
				return err
			})
			if out[0].Result != queue.ResultFailed || out[0].Suppressing != tc.entry {
				t.Fatalf("outcome %+v, want failed, suppressing %v", out[0], tc.entry)
			}
			ents := e.entries()
			if !tc.entry {
				if len(ents) != 0 {
					t.Fatalf("entries %+v, want none", ents)
				}
				return
			}
			if len(ents) != 1 || ents[0].Category != suppression.CategoryHardBounce || !ents[0].ExpiresAt.Equal(tc.expires) {
				t.Fatalf("entries %+v, want one hard bounce expiring at %v", ents, tc.expires)
			}

			// A message queued before the expiry is suppressed; after
			// it, an expiring entry lets the address be tried again.
			e.clock.Set(hbT0.Add(suppression.DefaultNoReplyExpiry - time.Minute))
			if _, r := e.add("bob@example.com"); r != queue.ResultSuppressed {
				t.Fatalf("before expiry: %s, want suppressed", r)
			}
			e.clock.Set(brief.Add(time.Minute))
			want := queue.ResultSuppressed
			if !tc.expires.IsZero() {
				want = queue.ResultQueued
			}
			if _, r := e.add("bob@example.com"); r != want {
				t.Fatalf("after a week: %s, want %s", r, want)
			}
		})
	}
}

// TestIncomingNoReplyExpires hands ProcessIncoming a DSN in which a relay
// reports its own failed DNS lookup (Postfix's "Host or domain name not
// found", status 5.4.4, no SMTP reply): an expiring entry, not a permanent
// one.
func TestIncomingNoReplyExpires(t *testing.T) {
	e := newHBEnv(t)
	m, _ := e.add("bob@example.com")
	e.write(func(tx *bstore.Tx) error {
		_, err := e.h.DeliveredMsgs(tx, []queue.Msg{m}, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"})
		return err
	})

	d := dsn.Message{
		From:         "MAILER-DAEMON@relay.example.com",
		To:           "alice@example.org",
		Subject:      "Undelivered Mail Returned to Sender",
		MessageID:    "<dsn1@relay.example.com>",
		Date:         hbT0.Add(time.Hour),
		TextBody:     "Your message could not be delivered.\n",
		ReportingMTA: "relay.example.com",
		Recipients: []dsn.Recipient{{
			FinalRecipient: "bob@example.com",
			Action:         dsn.ActionFailed,
			Status:         "5.4.4",
			DiagnosticCode: "Host or domain name not found. Name service error for name=example.com type=A: Host not found",
		}},
		Ret: dsn.RetHeaders,
	}
	var b bytes.Buffer
	if err := d.Compose(&b); err != nil {
		t.Fatalf("compose dsn: %v", err)
	}
	var res queue.IncomingResult
	e.write(func(tx *bstore.Tx) error {
		var err error
		res, err = e.h.ProcessIncoming(tx, "alice", m.MailFrom("+"), b.Bytes())
		return err
	})
	if len(res.Recipients) != 1 || res.Recipients[0].Failure.Reason != bounce.ReasonHostUnknown || !res.Recipients[0].Suppressing {
		t.Fatalf("result %+v, want one hostunknown failure, suppressing", res)
	}
	ents := e.entries()
	want := hbT0.Add(suppression.DefaultNoReplyExpiry)
	if len(ents) != 1 || ents[0].Category != suppression.CategoryHardBounce || ents[0].Source != suppression.SourceDSN || !ents[0].ExpiresAt.Equal(want) {
		t.Fatalf("entries %+v, want one hard bounce from a dsn expiring at %v", ents, want)
	}
}
