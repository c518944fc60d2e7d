package queuetest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
)

// A host tests its delivery loop with the fakes: a settable clock, a
// recording DSN composer and deliverer, suppression list and webhook queue.
func Example() {
	dir, err := os.MkdirTemp("", "queuetest")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := bstore.Open(ctx, filepath.Join(dir, "queue.db"), nil, queue.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	clock := queuetest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	hooks := &queuetest.Hooks{}
	composer := &queuetest.Composer{}
	h := &queue.Handler{
		DB:           db,
		RetryPolicy:  queue.MoxPolicy(),
		DSNComposer:  composer,
		DSNDeliverer: &queuetest.Deliverer{},
		Suppressions: &queuetest.Suppressions{},
		Hooks:        hooks,
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://app.example/hook"}, true
		}),
		Now:   clock.Now,
		After: clock.After,
	}

	// The host's delivery loop, one round: every due batch fails with a
	// user-unknown reply.
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		if _, err := h.Add(tx, &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "nobody@example.com"}); err != nil {
			return err
		}
		batches, err := h.Due(tx, clock.Now(), 10)
		if err != nil {
			return err
		}
		for _, b := range batches {
			reply := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "no such user"}
			outcomes, err := h.FailMsgs(tx, b.Msgs, reply)
			if err != nil {
				return err
			}
			for _, o := range outcomes {
				fmt.Println(o.Recipient, o.Result, o.Failure.Reason, "dsn:", o.DSN, "suppressing:", o.Suppressing)
			}
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	h.Kick()
	fmt.Println("webhooks:", hooks.Events())
	fmt.Println("dsns composed:", len(composer.Requests))
	// Output:
	// nobody@example.com failed userunknown dsn: failed suppressing: true
	// webhooks: [failed:nobody@example.com]
	// dsns composed: 1
}
