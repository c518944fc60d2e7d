package queue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

// TestIncomingFromIDReadsFew checks that matching a DSN by FromID reads
// the matched message, not the account's other messages: bstore chooses
// at random among equally good indexes, and an account filter beside the
// FromID once made half the lookups scan the whole account (found by the
// soak, internal/soak). Several DSNs, so a scan that happens half the
// time is seen.
func TestIncomingFromIDReadsFew(t *testing.T) {
	e := newInEnv(t)
	const n = 300
	msgs := make([]queue.Msg, n)
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		for i := range msgs {
			m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: fmt.Sprintf("r%d@example.com", i), MessageID: fmt.Sprintf("m%d@example.org", i), Subject: "hi"}
			if _, err := e.h.Add(tx, m); err != nil {
				return err
			}
			msgs[i] = *m
		}
		return nil
	})
	icheck(t, err, "add")
	for _, i := range []int{0, 37, 74, 111, 148, 185, 222, 259, 296} {
		m := msgs[i]
		data := composeDSN(t, fmt.Sprintf("<scale%d@mx.example.com>", i), "", nil, failedRcpt(m.RecipientAddress, "5.1.1", "550 5.1.1 user unknown"))
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			before := tx.Stats()
			res, err := e.h.ProcessIncoming(tx, "alice", m.MailFrom("+"), data)
			if err != nil {
				return err
			}
			after := tx.Stats()
			if len(res.Recipients) != 1 || res.Recipients[0].MsgID != m.ID {
				t.Errorf("dsn %d: matched %+v, want message %d", i, res.Recipients, m.ID)
			}
			if reads := after.Records.Get - before.Records.Get; reads > 20 {
				t.Errorf("dsn %d: %d records read to match by fromid, want a few (not the account's %d)", i, reads, n)
			}
			return nil
		})
		icheck(t, err, "process incoming")
	}
}
