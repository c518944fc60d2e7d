package queue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mjl-/bstore"
)

var errRollback = errors.New("rollback")

func BenchmarkZZIncomingCPU(b *testing.B) {
	e := newInEnv(b)
	msgs := e.send("alice", nil, "bob@example.com")
	rcptTo := msgs[0].MailFrom("+")
	data := composeDSN(b, "<bench1@mx.example.com>", "", []byte(origHeader), failedRcpt("bob@example.com", "5.1.1", "550 5.1.1 user unknown"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			if _, err := e.h.ProcessIncoming(tx, "alice", rcptTo, data); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			b.Fatal(err)
		}
	}
}
