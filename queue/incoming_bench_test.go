package queue_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// BenchmarkProcessIncomingDSN measures parsing, matching by FromID and
// recording a one-recipient DSN with the real suppression and webhook
// stores, one write transaction per DSN, all about the same message: a
// soft failure, so the recipient's history is read, and the message keeps
// its MaxDSNResults newest report results, so its record is the largest a
// DSN rewrites.
func BenchmarkProcessIncomingDSN(b *testing.B) {
	e := newInEnv(b)
	benchIncoming(b, e, func(i int) []byte {
		return composeDSN(b, fmt.Sprintf("<bench%d@mx.example.com>", i), "", []byte(origHeader), failedRcpt("bob@example.com", "4.2.2", "452 4.2.2 mailbox full"))
	})
}

// BenchmarkProcessIncomingNewDSN is issue 13's case on a small database:
// each DSN a hard bounce (550 5.1.1) about another delivered
// one-recipient message, matched by FromID, one write transaction each;
// it suppresses the recipient and queues a webhook. scripts/scale
// measures the same on databases of up to 1,000,000 messages.
func BenchmarkProcessIncomingNewDSN(b *testing.B) {
	e := newInEnv(b)
	msgs := make([]*queue.Msg, b.N)
	err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
		for i := range msgs {
			msgs[i] = &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: fmt.Sprintf("r%d@example.com", i), MessageID: fmt.Sprintf("m%d@example.org", i), Subject: "hi"}
			if _, err := e.h.Add(tx, msgs[i]); err != nil {
				return err
			}
		}
		l := make([]queue.Msg, len(msgs))
		for i, m := range msgs {
			l[i] = *m
		}
		_, err := e.h.DeliveredMsgs(tx, l, queue.Delivery{Code: 250, EnhancedCode: bounce.EnhancedCode{2, 0, 0}, Line: "ok"})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	inputs := make([][]byte, b.N)
	for i, m := range msgs {
		inputs[i] = composeDSN(b, fmt.Sprintf("<new%d@mx.example.com>", i), "", nil, failedRcpt(m.RecipientAddress, "5.1.1", "550 5.1.1 user unknown"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			res, err := e.h.ProcessIncoming(tx, "alice", msgs[i].MailFrom("+"), inputs[i])
			if err == nil && (res.Recipients[0].MsgID != msgs[i].ID || !res.Recipients[0].Suppressing) {
				b.Fatalf("outcome %+v, want message %d matched and suppressed", res.Recipients[0], msgs[i].ID)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessIncomingTextBounce measures a qmail bounce from the
// corpus, read by package report; after the first, each is a duplicate.
func BenchmarkProcessIncomingTextBounce(b *testing.B) {
	data, err := os.ReadFile("../report/testdata/corpus/sisimai/bsd/lhost-qmail-03.eml")
	if err != nil {
		b.Fatal(err)
	}
	e := newInEnv(b)
	benchIncoming(b, e, func(int) []byte { return data })
}

func benchIncoming(b *testing.B, e *inEnv, msg func(i int) []byte) {
	msgs := e.send("alice", nil, "bob@example.com")
	rcptTo := msgs[0].MailFrom("+")
	inputs := make([][]byte, b.N)
	for i := range inputs {
		inputs[i] = msg(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			_, err := e.h.ProcessIncoming(tx, "alice", rcptTo, inputs[i])
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareUpdateOne is the baseline for BenchmarkProcessIncomingDSN:
// a transaction that updates one retired message (no indexed field) and
// commits, on the same kind of database.
func BenchmarkBareUpdateOne(b *testing.B) {
	e := newInEnv(b)
	m := queue.MsgRetired{ID: e.send("alice", nil, "bob@example.com")[0].ID}
	if err := e.db.Get(context.Background(), &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			m.Attempts++
			return tx.Update(&m)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessIncomingSharedFromID measures a DSN about one recipient
// of a submission to 100, sent back to the first message's FromID
// (Batch.MailFrom): the submission is read to find the recipient.
func BenchmarkProcessIncomingSharedFromID(b *testing.B) {
	e := newInEnv(b)
	var rcpts []string
	for i := range 100 {
		rcpts = append(rcpts, fmt.Sprintf("r%d@example.com", i))
	}
	msgs := e.send("alice", nil, rcpts...)
	rcptTo := msgs[0].MailFrom("+")
	inputs := make([][]byte, b.N)
	for i := range inputs {
		inputs[i] = composeDSN(b, fmt.Sprintf("<shared%d@mx.example.com>", i), "", []byte(origHeader), failedRcpt("r50@example.com", "4.2.2", "452 4.2.2 mailbox full"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := e.db.Write(context.Background(), func(tx *bstore.Tx) error {
			res, err := e.h.ProcessIncoming(tx, "alice", rcptTo, inputs[i])
			if err == nil && res.Recipients[0].MsgID != msgs[50].ID {
				b.Fatalf("matched %d, want %d", res.Recipients[0].MsgID, msgs[50].ID)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
