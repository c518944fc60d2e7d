package pgsent_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
)

// Node A records a message it sent; node C, receiving a DSN that quotes
// the message's Message-ID, learns who sent it. (Not run: it needs a
// server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	index, err := pgsent.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}

	// On node A, after its queue committed the message.
	err = index.Put(ctx, pgsent.Sent{
		Node: "a", MsgID: 123, BaseID: 123, Account: "alice",
		SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com",
		MessageID: "m1@example.org", Queued: time.Now(),
	})
	if err != nil {
		log.Fatal(err)
	}

	// On node C, for a DSN whose returned headers have that Message-ID.
	sent, err := index.ByMessageID(ctx, "", "m1@example.org")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sent {
		if s.RecipientAddress == "bob@example.com" {
			log.Printf("sent by node %s as message %d of account %s", s.Node, s.MsgID, s.Account)
		}
	}
}
