package queue_test

import (
	"context"
	"github.com/bouncekit/bouncekit/webhook"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// seenCount returns the number of IncomingSeen records.
func (e *inEnv) seenCount() int {
	e.t.Helper()
	var n int
	err := e.db.Read(context.Background(), func(tx *bstore.Tx) error {
		var err error
		n, err = bstore.QueryTx[queue.IncomingSeen](tx).Count()
		return err
	})
	icheck(e.t, err, "count seen")
	return n
}

func delayedRcpt(addr string) dsn.Recipient {
	return dsn.Recipient{FinalRecipient: addr, Action: dsn.ActionDelayed, Status: "4.2.2", RemoteMTA: "mx.example.com", DiagnosticCode: "smtp; 452 4.2.2 mailbox full"}
}

// TestIncomingKeyWhere checks where a report's idempotency key is kept: in
// the result it adds to a matched message kept at least a week longer,
// else as IncomingSeen; and that a copy of the report is a duplicate
// either way, also after a queued message retired in between.
func TestIncomingKeyWhere(t *testing.T) {
	tests := []struct {
		name   string
		keep   time.Duration
		queued bool // The report is about a message still in the queue; it is delivered before the copy comes.
		rcpt   string
		match  bool
		seen   int // IncomingSeen records after the report.
	}{
		{name: "retired, kept 30 days", keep: 30 * 24 * time.Hour, rcpt: "bob@example.com", match: true, seen: 0},
		{name: "retired, kept a week", keep: 7 * 24 * time.Hour, rcpt: "bob@example.com", match: true, seen: 0},
		{name: "retired, kept 2 days", keep: 2 * 24 * time.Hour, rcpt: "bob@example.com", match: true, seen: 1},
		{name: "queued, kept 30 days", keep: 30 * 24 * time.Hour, queued: true, rcpt: "bob@example.com", match: true, seen: 0},
		{name: "queued, kept 2 days", keep: 2 * 24 * time.Hour, queued: true, rcpt: "bob@example.com", match: true, seen: 1},
		{name: "unmatched", keep: 30 * 24 * time.Hour, rcpt: "carol@example.com", seen: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newInEnv(t)
			e.withKeep(tc.keep)
			var m queue.Msg
			if tc.queued {
				m = *e.add(nil, "bob@example.com")[0]
			} else {
				m = e.send("alice", nil, "bob@example.com")[0]
			}
			d := composeDSN(t, "<key@mx.example.com>", "", nil, failedRcpt(tc.rcpt, "4.2.2", "smtp; 452 4.2.2 mailbox full"))
			rcptTo := m.MailFrom("+")
			if !tc.match {
				rcptTo = "alice@example.org"
			}
			res := e.incoming("alice", rcptTo, d)
			o := res.Recipients[0]
			icompare(t, o.Duplicate, false, "first duplicate")
			icompare(t, o.MsgID != 0, tc.match, "matched")
			icompare(t, e.seenCount(), tc.seen, "seen records")
			if tc.queued {
				e.deliver(&m)
			}
			if tc.match {
				r := e.retired(m.ID)
				var keys int
				for _, x := range r.Results {
					if x.DSN && x.Report != "" {
						keys++
					}
				}
				icompare(t, keys, 1, "results with the report's key")
			}
			nhooks := len(e.hooks())

			e.clock.Advance(24 * time.Hour)
			res = e.incoming("alice", rcptTo, d)
			icompare(t, res.Recipients[0].Duplicate, true, "copy duplicate")
			icompare(t, len(e.hooks()), nhooks, "hooks after copy")
			icompare(t, e.seenCount(), tc.seen, "seen records after copy")
		})
	}
}

// TestIncomingRecordTimes checks that a DSN moves LastActivity only when it
// changes the message's outcome, and extends KeepUntil only once less than
// nine tenths of the keep period remain.
func TestIncomingRecordTimes(t *testing.T) {
	const keep = 30 * 24 * time.Hour
	e := newInEnv(t)
	e.withKeep(keep)
	m := e.send("alice", nil, "bob@example.com")[0]
	r := e.retired(m.ID)
	icompare(t, r.LastActivity.Equal(inT0), true, "last activity at delivery")
	icompare(t, r.KeepUntil.Equal(inT0.Add(keep)), true, "keep until at delivery")

	steps := []struct {
		name         string
		advance      time.Duration
		rcpt         dsn.Recipient
		event        webhook.OutgoingEvent
		lastActivity time.Time
		keepUntil    time.Time
	}{
		{"delayed: outcome kept", time.Hour, delayedRcpt("bob@example.com"), "delivered", inT0, inT0.Add(keep)},
		{"failed: outcome changed, keep period fresh", 2 * time.Hour, failedRcpt("bob@example.com", "4.2.2", "smtp; 452 4.2.2 mailbox full"), "failed", inT0.Add(3 * time.Hour), inT0.Add(keep)},
		{"failed again, after a tenth of the keep period", 4 * 24 * time.Hour, failedRcpt("bob@example.com", "4.2.2", "smtp; 452 4.2.2 mailbox full"), "failed", inT0.Add(3 * time.Hour), inT0.Add(4*24*time.Hour + 3*time.Hour + keep)},
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		d := composeDSN(t, "<times"+string(rune('a'+i))+"@mx.example.com>", "", nil, s.rcpt)
		res := e.incoming("alice", m.MailFrom("+"), d)
		icompare(t, res.Recipients[0].MsgID, m.ID, s.name+": matched")
		r := e.retired(m.ID)
		icompare(t, r.Event, s.event, s.name+": event")
		if !r.LastActivity.Equal(s.lastActivity) {
			t.Fatalf("%s: last activity %v, want %v", s.name, r.LastActivity, s.lastActivity)
		}
		if !r.KeepUntil.Equal(s.keepUntil) {
			t.Fatalf("%s: keep until %v, want %v", s.name, r.KeepUntil, s.keepUntil)
		}
	}
}

// TestIncomingWrites pins what the transaction of a one-recipient DSN
// matched by FromID writes, through bstore's statistics: the message's
// record and the webhook (a record and its two index entries), no
// IncomingSeen record, and none of the message's index entries, also when
// the outcome (and so LastActivity) changes. Each record type and index a
// commit touches adds pages to write.
func TestIncomingWrites(t *testing.T) {
	tests := []struct {
		name                    string
		rcpt                    dsn.Recipient
		indexPuts, indexDeletes uint
	}{
		{"failed, outcome changed", failedRcpt("bob@example.com", "4.2.2", "smtp; 452 4.2.2 mailbox full"), 2, 0},
		{"delayed, outcome kept", delayedRcpt("bob@example.com"), 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newInEnv(t)
			m := e.send("alice", nil, "bob@example.com")[0]
			e.clock.Advance(time.Minute)
			d := composeDSN(t, "<writes@mx.example.com>", "", nil, tc.rcpt)
			var st bstore.Stats
			err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
				res, err := e.h.ProcessIncoming(tx, "alice", m.MailFrom("+"), d)
				if err == nil && (res.Recipients[0].MsgID != m.ID || res.Recipients[0].Hook == "") {
					t.Fatalf("outcome %+v, want a match with a hook", res.Recipients[0])
				}
				st = tx.Stats()
				return err
			})
			icheck(t, err, "process")
			icompare(t, [4]uint{st.Insert, st.Update, st.Delete, st.Records.Put}, [4]uint{1, 1, 0, 2}, "inserts, updates, deletes, record puts")
			icompare(t, [2]uint{st.Index.Put, st.Index.Delete}, [2]uint{tc.indexPuts, tc.indexDeletes}, "index puts, deletes")
			icompare(t, e.seenCount(), 0, "seen records")
		})
	}
}
