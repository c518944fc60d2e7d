package pgsuppression_test

import (
	"context"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression"
)

// A node opens the shared list at start (creating or upgrading its table),
// sets the same Normalizer and Policy as every other node, and asks it
// before each send. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	list, err := pgsuppression.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	list.Normalizer = suppression.Normalizer{Separators: []string{"+", "-"}}

	// A recipient suppressed through any node stops the send here.
	if e, ok, err := list.Stop(ctx, "alice", "bob@example.com"); err != nil {
		log.Fatal(err)
	} else if ok {
		log.Printf("not sending to bob@example.com: %s (%s)", e.Category, e.Reason)
	}
}
