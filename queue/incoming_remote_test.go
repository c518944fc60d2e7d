package queue_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// remoteIndex is a recording fake of the index of other nodes' messages.
type remoteIndex struct {
	sent  []queue.RemoteSent
	err   error
	calls []queue.RemoteKey
}

func (x *remoteIndex) RemoteSent(tx *bstore.Tx, account string, key queue.RemoteKey) ([]queue.RemoteSent, error) {
	x.calls = append(x.calls, key)
	return x.sent, x.err
}

// TestIncomingRemote: a DSN recipient no local message matches is
// matched among the messages the Remote index has, by recipient; the
// local queue is searched first, and the index is asked once per report.
func TestIncomingRemote(t *testing.T) {
	e := newInEnv(t)
	x := &remoteIndex{sent: []queue.RemoteSent{
		{Node: "a", FoundBy: queue.MatchEnvID, ID: 7, BaseID: 7, SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "carol@example.com", EnvID: "env9", MessageID: "m9@example.org", Subject: "hi"},
		{Node: "a", FoundBy: queue.MatchEnvID, ID: 8, BaseID: 7, SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "dave@example.com", EnvID: "env9", MessageID: "m9@example.org", Subject: "hi"},
	}}
	e.h.Remote = x
	local := e.send("alice", func(m *queue.Msg) { m.EnvID = "env9" }, "bob@example.com")[0]

	// Bob is local, carol and dave are node a's, erin nobody's.
	msg := composeDSN(t, "r1@mx.example.com", "env9", nil,
		failedRcpt("bob@example.com", "5.1.1", "smtp; 550 5.1.1 no"),
		failedRcpt("carol@example.com", "5.1.1", "smtp; 550 5.1.1 no"),
		dsn.Recipient{FinalRecipient: "dave@example.com", Action: dsn.ActionDelivered, Status: "2.0.0"},
		failedRcpt("erin@example.com", "5.1.1", "smtp; 550 5.1.1 no"))
	res := e.incoming("alice", "alice@example.org", msg)
	type got struct {
		rcpt  string
		match queue.Match
		msgID int64
		event webhook.OutgoingEvent
		supp  bool
	}
	var l []got
	for _, o := range res.Recipients {
		l = append(l, got{o.Recipient, o.Match, o.MsgID, o.Event, o.Suppressing})
	}
	want := []got{
		{"bob@example.com", queue.MatchEnvID, local.ID, webhook.EventFailed, true},
		{"carol@example.com", queue.MatchRemote, 0, webhook.EventFailed, true},
		{"dave@example.com", queue.MatchRemote, 0, webhook.EventDelivered, false},
		{"erin@example.com", queue.MatchNone, 0, webhook.EventUnrecognized, false},
	}
	if !slices.Equal(l, want) {
		t.Fatalf("outcomes\n%+v\nwant\n%+v", l, want)
	}
	if len(x.calls) != 1 || x.calls[0].EnvID != "env9" || len(x.calls[0].FromIDs) != 0 {
		t.Fatalf("index asked %+v, want once with the envid", x.calls)
	}
	var entries []string
	for _, en := range e.entries() {
		if en.Source != suppression.SourceDSN {
			t.Errorf("entry %s has source %s", en.BaseAddress, en.Source)
		}
		entries = append(entries, en.BaseAddress)
	}
	if !slices.Equal(entries, []string{"bob@example.com", "carol@example.com"}) {
		t.Fatalf("entries %v", entries)
	}
	var hooks []int64
	for _, h := range e.incomingHooks() {
		if h.Event == webhook.EventFailed || h.Event == webhook.EventDelivered {
			hooks = append(hooks, h.QueueMsgID)
		}
	}
	if !slices.Equal(hooks, []int64{local.ID, 7, 8}) {
		t.Fatalf("hooks for messages %v, want the local one and node a's 7 and 8", hooks)
	}

	// The same report again: duplicates, nothing new.
	res = e.incoming("alice", "alice@example.org", msg)
	for _, o := range res.Recipients[:3] {
		if !o.Duplicate {
			t.Errorf("repeated report, %s: not a duplicate", o.Recipient)
		}
	}

	// An index that fails fails the call: nothing is written.
	x.err = errors.New("unreachable")
	before := len(e.hooks())
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.ProcessIncoming(tx, "alice", "alice@example.org", composeDSN(t, "r2@mx.example.com", "env10", nil, failedRcpt("frank@example.com", "5.1.1", "")))
		return err
	})
	if !errors.Is(err, x.err) {
		t.Fatalf("process with a failing index: %v", err)
	}
	if n := len(e.hooks()); n != before {
		t.Fatalf("hooks %d after the failed call, want %d", n, before)
	}
}

// TestIncomingRemoteComplaint: a feedback report whose keys find no
// message of the local queue is matched among the Remote index's
// messages, as a DSN is: by the named recipient, or, when the report
// redacts it, the one message found if it was alone in its submission.
// The complaint suppresses the recipient for the sending account and the
// complained webhook carries the other node's message.
func TestIncomingRemoteComplaint(t *testing.T) {
	sent := func(id, baseID int64, rcpt string) queue.RemoteSent {
		return queue.RemoteSent{Node: "a", FoundBy: queue.MatchMessageID, ID: id, BaseID: baseID, SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt, MessageID: "r1@example.org", Subject: "remote"}
	}
	type want struct {
		match queue.Match
		msgID int64
		rcpt  string
		event webhook.OutgoingEvent
		supp  bool
	}
	for _, c := range []struct {
		name     string
		local    string // Message-ID of a local message to carol, if set.
		sent     []queue.RemoteSent
		rcpt     string // Original-Rcpt-To, or redacted.
		want     want
		hookMsg  int64 // QueueMsgID of the complained hook; 0: unmatched.
		askIndex bool
	}{
		{"named", "", []queue.RemoteSent{sent(7, 7, "dave@example.com"), sent(8, 7, "carol@example.com")}, "carol@example.com",
			want{queue.MatchRemote, 0, "carol@example.com", webhook.EventComplained, true}, 8, true},
		{"redacted sole recipient", "", []queue.RemoteSent{sent(7, 7, "carol@example.com")}, "",
			want{queue.MatchRemote, 0, "carol@example.com", webhook.EventComplained, true}, 7, true},
		{"redacted, submission of two", "", []queue.RemoteSent{sent(7, 7, "dave@example.com"), sent(8, 7, "carol@example.com")}, "",
			want{queue.MatchNone, 0, "", webhook.EventUnrecognized, false}, 0, true},
		{"redacted, not the first of its submission", "", []queue.RemoteSent{sent(8, 7, "carol@example.com")}, "",
			want{queue.MatchNone, 0, "", webhook.EventUnrecognized, false}, 0, true},
		{"named, not in the index", "", []queue.RemoteSent{sent(7, 7, "dave@example.com")}, "carol@example.com",
			want{queue.MatchNone, 0, "carol@example.com", webhook.EventComplained, true}, 0, true},
		// The report's Message-ID names node a's message: better evidence
		// than the latest local message to the recipient.
		{"named, local message with another Message-ID", "other@example.org", []queue.RemoteSent{sent(7, 7, "carol@example.com")}, "carol@example.com",
			want{queue.MatchRemote, 0, "carol@example.com", webhook.EventComplained, true}, 7, true},
		{"local message with the Message-ID", "r1@example.org", []queue.RemoteSent{sent(7, 7, "carol@example.com")}, "carol@example.com",
			want{queue.MatchMessageID, -1, "carol@example.com", webhook.EventComplained, true}, -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newInEnv(t)
			x := &remoteIndex{sent: c.sent}
			e.h.Remote = x
			var localID int64
			if c.local != "" {
				localID = e.send("alice", func(m *queue.Msg) { m.MessageID = c.local }, "carol@example.com")[0].ID
			}
			w := c.want
			if w.msgID < 0 {
				w.msgID = localID
			}
			hookMsg := c.hookMsg
			if hookMsg < 0 {
				hookMsg = localID
			}

			res := e.incoming("alice", "abuse@example.org", arfReport("<fbl1@example.com>", "abuse", c.rcpt, "r1@example.org"))
			icompare(t, len(res.Recipients), 1, "outcomes")
			o := res.Recipients[0]
			icompare(t, want{o.Match, o.MsgID, o.Recipient, o.Event, o.Suppressing}, w, "outcome")
			if w.match == queue.MatchRemote && !strings.Contains(o.Detail, "node a as message") {
				t.Errorf("detail %q does not name the node", o.Detail)
			}
			icompare(t, len(x.calls) == 1, c.askIndex, "index asked")
			if c.askIndex {
				icompare(t, x.calls[0].MessageID, "r1@example.org", "message-id asked")
			}

			hooks := e.incomingHooks()
			icompare(t, len(hooks), 1, "hooks")
			h := hooks[0]
			icompare(t, h.Account, "alice", "hook account")
			icompare(t, h.Event, w.event, "hook event")
			icompare(t, h.QueueMsgID, hookMsg, "hook message")
			if hookMsg > 0 && hookMsg != localID {
				icompare(t, h.Payload.Subject, "remote", "hook subject (the index's summary)")
				icompare(t, h.Payload.Recipient, "carol@example.com", "hook recipient")
			}
			var entries []string
			for _, en := range e.entries() {
				icompare(t, en.Source, suppression.SourceARF, "entry source")
				entries = append(entries, en.Account+" "+en.BaseAddress)
			}
			if w.supp {
				icompare(t, entries, []string{"alice carol@example.com"}, "entries")
			} else {
				icompare(t, len(entries), 0, "entries")
			}

			// The same report again: a duplicate, no new hook.
			res = e.incoming("alice", "abuse@example.org", arfReport("<fbl1@example.com>", "abuse", c.rcpt, "r1@example.org"))
			icompare(t, res.Recipients[0].Duplicate, true, "repeated report is a duplicate")
			icompare(t, len(e.incomingHooks()), 1, "hooks after the repeat")
		})
	}

	// An index that fails fails the call, as for a DSN.
	e := newInEnv(t)
	x := &remoteIndex{err: errors.New("unreachable")}
	e.h.Remote = x
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := e.h.ProcessIncoming(tx, "alice", "abuse@example.org", arfReport("<fbl2@example.com>", "abuse", "carol@example.com", "r1@example.org"))
		return err
	})
	if !errors.Is(err, x.err) {
		t.Fatalf("complaint with a failing index: %v", err)
	}
	icompare(t, len(e.entries()), 0, "entries after the failed call")
}
