package queue_test

import (
	"context"
	"errors"
	"slices"
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
