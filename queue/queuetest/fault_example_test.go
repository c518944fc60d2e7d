package queuetest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
)

// A host checks that its delivery loop rolls back when the webhook queue
// fails after it wrote its hooks in the transaction: the error names the
// boundary, wraps the injected error, and nothing of the call remains.
func ExampleFaultyHooks() {
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
	fault := &queuetest.Fault{Late: true, Times: 1}
	h := &queue.Handler{
		DB:    db,
		Hooks: queuetest.FaultyHooks{Next: &hookqueue.Queue{DB: db, Now: clock.Now}, Fault: fault},
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{WebhookURL: "https://app.example/hook", KeepRetired: -1}, true
		}),
		Now: clock.Now,
	}
	m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com"}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		_, err := h.Add(tx, m)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	delivered := func() error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			_, err := h.DeliveredMsgs(tx, []queue.Msg{*m}, queue.Delivery{Code: 250})
			return err
		})
	}
	count := func() (queued, hooks int) {
		queued, _ = bstore.QueryDB[queue.Msg](ctx, db).Count()
		hooks, _ = bstore.QueryDB[hookqueue.Hook](ctx, db).Count()
		return
	}

	err = delivered()
	fmt.Println(err)
	fmt.Println(errors.Is(err, queuetest.ErrInjected))
	fmt.Println(count())

	// The fault fired once; the retry goes through.
	fmt.Println(delivered())
	fmt.Println(count())
	// Output:
	// queue: queueing webhooks: queuetest: injected fault
	// true
	// 1 0
	// <nil>
	// 0 1
}
