package queue_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// BenchmarkAttempted applies one transaction of benchBatch recipients of
// one submission, half refused at RCPT TO and half delivered: one call,
// one failure DSN for the refused half, one Enqueue of the webhooks.
func BenchmarkAttempted(b *testing.B) {
	benchAttempted(b, func(h *queue.Handler, tx *bstore.Tx, results []queue.AttemptResult) error {
		_, err := h.Attempted(tx, results)
		return err
	})
}

// BenchmarkAttemptedPerRecipient is the same transaction reported the way
// a host had to before Attempted: FailMsgs or DeliveredMsgs per recipient,
// in one database transaction, with a failure DSN per refused recipient.
func BenchmarkAttemptedPerRecipient(b *testing.B) {
	benchAttempted(b, func(h *queue.Handler, tx *bstore.Tx, results []queue.AttemptResult) error {
		for _, r := range results {
			var err error
			if r.Status == queue.AttemptFailed {
				_, err = h.FailMsgs(tx, []queue.Msg{r.Msg}, r.Err)
			} else {
				_, err = h.DeliveredMsgs(tx, []queue.Msg{r.Msg}, r.Delivery)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func benchAttempted(b *testing.B, apply func(h *queue.Handler, tx *bstore.Tx, results []queue.AttemptResult) error) {
	db, h := benchEnv(b)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		msgs := addBench(b, db, h, n)
		results := make([]queue.AttemptResult, len(msgs))
		for i, m := range msgs {
			if i%2 == 0 {
				err := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: fmt.Sprintf("<%s>: user unknown", m.RecipientAddress)}
				results[i] = queue.AttemptResult{Msg: m, Status: queue.AttemptFailed, Err: err}
			} else {
				results[i] = queue.AttemptResult{Msg: m, Status: queue.AttemptDelivered, Delivery: queue.Delivery{Code: 250}}
			}
		}
		err := db.Write(context.Background(), func(tx *bstore.Tx) error { return apply(h, tx, results) })
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPerMsg(b)
}
