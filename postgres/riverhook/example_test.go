package riverhook_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// A node's relay inserts the hooks its outbox holds, in a transaction of
// its own, and the node delivers until it is interrupted; every node of
// the group does the same against one database. Inserting a hook again
// (the relay repeating a batch after a crash) inserts nothing. (Not run:
// it needs a server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	q, err := riverhook.Open(ctx, pool, riverhook.Config{Node: "a"})
	if err != nil {
		log.Fatal(err)
	}

	// The relay, after node a's outbox committed hook 17.
	_, err = q.Insert(ctx, riverhook.Job{
		WebhookID: "a-17",
		Account:   "alice",
		URL:       "https://app.example.com/hooks/mail",
		Secrets:   []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		Payload:   webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: 42, Recipient: "bob@example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := q.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
