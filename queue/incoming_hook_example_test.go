package queue_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/queue/queuetest"
)

// ExampleHandler_IncomingDelivered shows the one call a host makes after it
// delivered a message to a local account, in its delivery transaction.
func ExampleHandler_IncomingDelivered() {
	dir, err := os.MkdirTemp("", "bouncekit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := bstore.Open(ctx, filepath.Join(dir, "mail.db"), nil, queue.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	hooks := &queuetest.Hooks{} // A host uses a *hookqueue.Queue.
	h := &queue.Handler{
		Hooks: hooks,
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{IncomingWebhookURL: "https://app.example.com/incoming"}, name == "support"
		}),
	}

	msg := "From: Customer <customer@example.org>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: =?utf-8?q?Bestellung_f=C3=BCr_M=C3=BCnchen?=\r\n" +
		"Message-ID: <c1@example.org>\r\n" +
		"\r\n" +
		"Where is my order?\r\n"
	meta := queue.IncomingMeta{
		MsgID:             17,
		MailFrom:          "customer@example.org",
		RcptTo:            "support@example.com",
		RemoteIP:          netip.MustParseAddr("192.0.2.10"),
		MailFromValidated: true,
		Received:          time.Date(2024, 3, 27, 9, 0, 0, 0, time.UTC),
	}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		// ... the host stores the message in the mailbox ...
		return h.IncomingDelivered(tx, "support", strings.NewReader(msg), int64(len(msg)), meta)
	})
	if err != nil {
		log.Fatal(err)
	}
	h.Kick() // After the commit: wakes the webhook worker.

	hk := hooks.Queued[0]
	in := hk.Incoming
	fmt.Println(hk.URL)
	fmt.Println(in.From[0].Name, in.From[0].Address, in.Subject)
	fmt.Printf("%q\n", in.Text)
	fmt.Println(in.Meta.MsgID, in.Meta.RemoteIP, in.Meta.MailboxName, in.Meta.Automated)
	// Output:
	// https://app.example.com/incoming
	// Customer customer@example.org Bestellung für München
	// "Where is my order?\n"
	// 17 192.0.2.10 Inbox false
}
