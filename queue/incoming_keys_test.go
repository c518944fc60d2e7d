package queue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

// TestIncomingKeysReadLazily: a bounce without a FromID is matched by its
// ENVID, then its returned Message-ID, each key's retired messages before
// its queued ones, and a table is read only when the recipient is not among
// the messages read before it. The match is the one reading every table
// first gave: a recipient still in the queue, or named only under the
// Message-ID, is found, and an unknown one matches nothing. Counted in
// queries of the transaction (a delay report: it adds a result and changes
// nothing else, so the reports differ only in what matching reads): the
// recipient among the ENVID's retired messages reads neither the queue nor
// the Message-ID's messages.
func TestIncomingKeysReadLazily(t *testing.T) {
	e := newInEnv(t)
	envid := func(id string) func(m *queue.Msg) { return func(m *queue.Msg) { m.EnvID = id } }
	// One submission with ENVID env1: bob's message delivered, carol's
	// still queued. Another with the same Message-ID and no ENVID, to dave.
	msgs := e.add(envid("env1"), "bob@example.com", "carol@example.com")
	e.deliver(msgs[0])
	e.failTemp(msgs[1])
	dave := e.send("alice", nil, "dave@example.com")[0]

	tests := []struct {
		name      string
		rcpt      string
		wantMsg   int64
		wantMatch queue.Match
		queued    bool
	}{
		{"retired, by envid", "bob@example.com", msgs[0].ID, queue.MatchEnvID, false},
		{"queued, by envid", "carol@example.com", msgs[1].ID, queue.MatchEnvID, true},
		{"by message-id", "dave@example.com", dave.ID, queue.MatchMessageID, false},
		{"unknown", "erin@example.com", 0, queue.MatchNone, false},
	}
	// The first report of a Handler also looks for expired records of
	// reports seen; the ones measured come within a minute after it.
	e.incoming("alice", "alice@example.org", composeDSN(t, "<keys-first@mx.example.com>", "", nil, delayedRcpt("nobody@example.com")))
	queries := map[string]uint{}
	for i, tc := range tests {
		d := composeDSN(t, fmt.Sprintf("<keys%d@mx.example.com>", i), "env1", []byte(origHeader), delayedRcpt(tc.rcpt))
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			res, err := e.h.ProcessIncoming(tx, "alice", "alice@example.org", d)
			if err != nil {
				return err
			}
			o := res.Recipients[0]
			if o.MsgID != tc.wantMsg || o.Match != tc.wantMatch || o.Queued != tc.queued {
				t.Fatalf("%s: matched %d by %q (queued %v), want %d by %q (queued %v)", tc.name, o.MsgID, o.Match, o.Queued, tc.wantMsg, tc.wantMatch, tc.queued)
			}
			queries[tc.name] = tx.Stats().Queries
			return nil
		})
		icheck(t, err, tc.name)
	}
	// Each table read is one query more: retired by envid, queued by
	// envid, retired by message-id, queued by message-id.
	base := queries["retired, by envid"]
	icompare(t, queries["queued, by envid"], base+1, "queries to find the queued message")
	icompare(t, queries["by message-id"], base+2, "queries to find the message by message-id")
	if queries["unknown"] < base+3 {
		t.Fatalf("unknown recipient: %d queries, want at least %d (every table)", queries["unknown"], base+3)
	}
}
