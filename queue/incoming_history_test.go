package queue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// hiddenHistoryUse is a SuppressionStore that does not say whether its
// policy reads the history, so the queue always reads it.
type hiddenHistoryUse struct{ queue.SuppressionStore }

// TestHistoryReadOnlyWhenUsed checks that ProcessIncoming reads the
// recipient's history (one query of MsgRetired) only when the store's
// policy uses it: a hard bounce is decided on itself, a soft failure
// counts toward a soft suppression. A store that cannot tell always gets
// the history. The decision is the same either way.
func TestHistoryReadOnlyWhenUsed(t *testing.T) {
	tests := []struct {
		name     string
		rcpt     dsn.Recipient
		readHist bool // With *suppression.Store.
	}{
		{"hard bounce", failedRcpt("bob@example.com", "5.1.1", "smtp; 550 5.1.1 user unknown"), false},
		{"soft failure", failedRcpt("bob@example.com", "4.2.2", "smtp; 452 4.2.2 mailbox full"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			queries := map[bool]uint{}
			suppressing := map[bool]bool{}
			for _, hide := range []bool{false, true} {
				e := newInEnv(t)
				if hide {
					e.h.Suppressions = hiddenHistoryUse{e.h.Suppressions}
				}
				m := e.send("alice", nil, "bob@example.com")[0]
				d := composeDSN(t, fmt.Sprintf("<hist-%v@mx.example.com>", hide), "", nil, tc.rcpt)
				err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
					res, err := e.h.ProcessIncoming(tx, "alice", m.MailFrom("+"), d)
					if err == nil && res.Recipients[0].MsgID != m.ID {
						t.Fatalf("outcome %+v, want a match", res.Recipients[0])
					}
					queries[hide] = tx.Stats().Queries
					return err
				})
				icheck(t, err, "process")
				suppressing[hide] = len(e.entries()) > 0
			}
			want := queries[true]
			if !tc.readHist {
				want--
			}
			icompare(t, queries[false], want, "queries with the store's own policy (the other: a store that cannot tell)")
			icompare(t, suppressing[false], suppressing[true], "suppressed, with and without the history read")
		})
	}
}
