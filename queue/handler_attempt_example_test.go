package queue_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
)

// ExampleHandler_Attempted applies one SMTP transaction to a submission of
// four recipients: two refused at RCPT TO, one accepted and delivered, one
// left for another transaction. The sender gets one DSN for both refused
// recipients.
func ExampleHandler_Attempted() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bouncekit-example")
	defer os.RemoveAll(dir)
	db, err := bstore.Open(ctx, filepath.Join(dir, "queue.db"), nil, queue.DBTypes()...)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := &queue.Handler{DB: db, Hostname: "mail.example.org", Now: func() time.Time { return now }}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		var msgs []*queue.Msg
		for _, rcpt := range []string{"ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com"} {
			msgs = append(msgs, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: rcpt})
		}
		_, err := h.Add(tx, msgs...)
		return err
	})
	if err != nil {
		panic(err)
	}

	err = db.Write(ctx, func(tx *bstore.Tx) error {
		batches, err := h.Due(tx, now, 100)
		if err != nil {
			return err
		}
		m := batches[0].Msgs
		// What a delivery client returns for the transaction: the reply to
		// each RCPT TO, and the reply to the end of data for the accepted
		// ones.
		unknown := func(addr string) error {
			return &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "<" + addr + ">: user unknown"}
		}
		results := []queue.AttemptResult{
			{Msg: m[0], Status: queue.AttemptFailed, Err: unknown(m[0].RecipientAddress)},
			{Msg: m[1], Status: queue.AttemptDelivered, Delivery: queue.Delivery{Code: 250, Line: "queued as 4XyZ"}},
			{Msg: m[2], Status: queue.AttemptFailed, Err: unknown(m[2].RecipientAddress)},
			{Msg: m[3], Status: queue.AttemptNotTried},
		}
		outcomes, err := h.Attempted(tx, results)
		for _, o := range outcomes {
			fmt.Printf("%s: %s", o.Recipient, o.Result)
			if o.DSN != "" {
				fmt.Printf(" (%s, %s dsn)", o.Failure.Reason, o.DSN)
			}
			fmt.Println()
		}
		if err != nil {
			return err
		}
		n, err := bstore.QueryTx[queue.OutboxDSN](tx).Count()
		fmt.Println("dsns:", n)
		return err
	})
	if err != nil {
		panic(err)
	}
	h.Kick() // Committed: Run delivers the DSN.
	// Output:
	// ann@example.com: failed (userunknown, failed dsn)
	// bob@example.com: delivered
	// cat@example.com: failed (userunknown, failed dsn)
	// dan@example.com: queued
	// dsns: 1
}
