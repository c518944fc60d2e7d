package pgapi_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/pgapi"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/webapi"
)

// Each node serves the API over its own bstore database for its queue and
// over the shared suppression list and River queue: any node answers a
// client the same. (Not run: it needs a server.)
func Example() {
	ctx := context.Background()
	db, err := bstore.Open(ctx, "node.db", nil, queue.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	list, err := pgsuppression.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	hooks, err := riverhook.Open(ctx, pool, riverhook.Config{})
	if err != nil {
		log.Fatal(err)
	}

	srv := &webapi.Server{
		DB:              db,
		SuppressionList: list,
		HookHistory:     pgapi.Hooks{Queue: hooks},
		Auth: webapi.BasicAuth(func(ctx context.Context, username, password string) (webapi.Identity, error) {
			return webapi.Identity{}, webapi.ErrBadCredentials // The host's password check.
		}),
	}
	mux := http.NewServeMux()
	mux.Handle("/webapi/v0/", http.StripPrefix("/webapi/v0", srv))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
