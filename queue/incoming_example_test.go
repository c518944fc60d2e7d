package queue_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/queue"
)

// ExampleHandler_ProcessIncoming shows the loop closed: a message sent with
// a FromID MAIL FROM, and the bounce that comes back to that address.
func ExampleHandler_ProcessIncoming() {
	dir, err := os.MkdirTemp("", "bouncekit-example")
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

	h := &queue.Handler{
		GenerateFromIDs:   true,
		CatchallSeparator: "+",
		Accounts: queue.AccountsFunc(func(name string) (queue.AccountSettings, bool) {
			return queue.AccountSettings{KeepRetired: 14 * 24 * time.Hour}, true
		}),
	}

	// Queue and deliver a message; the next hop accepts it.
	m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com", MessageID: "m1@example.org"}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		if _, err := h.Add(tx, m); err != nil {
			return err
		}
		_, err := h.DeliveredMsgs(tx, []queue.Msg{*m}, queue.Delivery{Code: 250})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	// Later, a qmail bounce arrives for the MAIL FROM used for the message.
	bounce := "From: MAILER-DAEMON@mx.example.com\r\n" +
		"To: " + m.MailFrom("+") + "\r\n" +
		"Subject: failure notice\r\n" +
		"Message-ID: <bounce1@mx.example.com>\r\n\r\n" +
		"Hi. This is the qmail-send program at mx.example.com.\r\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n" +
		"<bob@example.com>:\r\n" +
		"192.0.2.1 does not like recipient.\r\n" +
		"Remote host said: 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown\r\n" +
		"Giving up on 192.0.2.1.\r\n"
	var res queue.IncomingResult
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		res, err = h.ProcessIncoming(tx, "alice", m.MailFrom("+"), []byte(bounce))
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	o := res.Recipients[0]
	fmt.Println(res.Kind, res.Format, o.Recipient, o.Match, o.Event, o.Failure.Code, o.Failure.EnhancedCode, o.Failure.Reason)
	// Output: bounce qmail bob@example.com fromid failed 550 5.1.1 userunknown
}
