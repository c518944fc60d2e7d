package relay_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/queue"
)

// A node "mx1" keeps its queue in its own bstore file and shares the
// suppression list, the index of sent messages and webhook delivery with
// the other nodes on PostgreSQL. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	sup, err := pgsuppression.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	index, err := pgsent.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	hooks, err := riverhook.Open(ctx, pool, riverhook.Config{Node: "mx1"})
	if err != nil {
		log.Fatal(err)
	}
	db, err := bstore.Open(ctx, "queue.db", nil, append(queue.DBTypes(), relay.DBTypes()...)...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	r := &relay.Relay{Node: "mx1", DB: db, Suppressions: sup, Sent: index, Hooks: hooks}
	h := &queue.Handler{DB: db, Suppressions: r, Hooks: r, Remote: r}
	go r.Run(ctx)
	go h.Run(ctx)

	// Queue a message: it is indexed for the other nodes in the same
	// transaction, and a recipient another node suppressed is refused.
	msgs := []*queue.Msg{{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com"}}
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		if _, err := h.Add(tx, msgs...); err != nil {
			return err
		}
		return r.IndexTx(tx, msgs...)
	})
	if err != nil {
		log.Fatal(err)
	}
	h.Kick() // Wakes the relay too: the index record goes to PostgreSQL now.
}
