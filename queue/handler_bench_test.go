package queue_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

const benchBatch = 100

// benchEnv is a Handler with the real stores on an on-disk database.
func benchEnv(b *testing.B) (*bstore.DB, *queue.Handler) {
	db, err := bstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil, queue.DBTypes()...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := &queue.Handler{
		DB:           db,
		RetryPolicy:  queue.RetryPolicy{MaxAttempts: 1 << 40, Initial: time.Minute},
		Suppressions: &suppression.Store{},
		Hooks:        &hookqueue.Queue{DB: db},
		Hostname:     "mail.example.org",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://app.example.org/hook", KeepRetired: 24 * time.Hour}, true
		}),
	}
	return db, h
}

// addBench queues benchBatch fresh messages, outside the timer.
func addBench(b *testing.B, db *bstore.DB, h *queue.Handler, round int) []queue.Msg {
	b.StopTimer()
	defer b.StartTimer()
	ptrs := make([]*queue.Msg, benchBatch)
	for i := range ptrs {
		ptrs[i] = &queue.Msg{
			SenderAccount: "alice", SenderAddress: "alice@example.org",
			RecipientAddress: fmt.Sprintf("r%d-%d@example.com", round, i),
			MessageID:        "bench@example.org", Subject: "bench", Size: 2000,
		}
	}
	err := db.Write(context.Background(), func(tx *bstore.Tx) error {
		_, err := h.Add(tx, ptrs...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]queue.Msg, len(ptrs))
	for i, p := range ptrs {
		msgs[i] = *p
	}
	return msgs
}

func reportPerMsg(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/msg")
}

// BenchmarkBareUpdate is the baseline: one transaction with a tx.Update of
// each of 100 messages, as a failed attempt would record it.
func BenchmarkBareUpdate(b *testing.B) {
	db, h := benchEnv(b)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		msgs := addBench(b, db, h, n)
		err := db.Write(context.Background(), func(tx *bstore.Tx) error {
			for i := range msgs {
				m := &msgs[i]
				m.Attempts++
				m.LastAttempt = time.Now()
				m.NextAttempt = m.LastAttempt.Add(time.Minute)
				m.Results = append(m.Results, queue.MsgResult{Start: m.LastAttempt, Code: 451, EnhancedCode: "4.3.0", Reason: bounce.ReasonSystemError, Error: "451 4.3.0 try later"})
				if err := tx.Update(m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPerMsg(b)
}

// BenchmarkFailMsgsTemporary: 100 messages per transaction, one FailMsgs
// call each, a temporary failure: suppression lookup, result, retry
// decision, update, a "delayed" webhook.
func BenchmarkFailMsgsTemporary(b *testing.B) {
	benchFail(b, &bounce.SMTPError{Code: 451, EnhancedCode: bounce.EnhancedCode{4, 3, 0}, Stage: bounce.StageRcpt, Line: "try later"})
}

// BenchmarkFailMsgsPermanent: as above with a permanent failure: failure DSN
// composed with package dsn into the outbox, suppression decision with
// history and a new entry, retirement, a "failed" webhook.
func BenchmarkFailMsgsPermanent(b *testing.B) {
	benchFail(b, &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"})
}

func benchFail(b *testing.B, ferr error) {
	db, h := benchEnv(b)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		msgs := addBench(b, db, h, n)
		err := db.Write(context.Background(), func(tx *bstore.Tx) error {
			for i := range msgs {
				if _, err := h.FailMsgs(tx, msgs[i:i+1], ferr); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPerMsg(b)
}
