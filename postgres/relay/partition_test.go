package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// unreachable returns a pool on a server that is not there: a loopback
// port nothing listens on, or a unix socket directory without a socket.
func unreachable(t *testing.T, kind string) *pgxpool.Pool {
	t.Helper()
	var conn string
	switch kind {
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		tcheck(t, err, "listen")
		port := l.Addr().(*net.TCPAddr).Port
		tcheck(t, l.Close(), "close listener")
		conn = fmt.Sprintf("host=127.0.0.1 port=%d user=nobody dbname=nobody sslmode=disable", port)
	case "unix":
		conn = fmt.Sprintf("host=%s user=nobody dbname=nobody", filepath.Join(t.TempDir(), "nosocket"))
	}
	pool, err := pgxpool.New(context.Background(), conn)
	tcheck(t, err, "pool")
	t.Cleanup(pool.Close)
	return pool
}

// TestPartition: with PostgreSQL unreachable, Add fails closed (the
// default: an error, nothing queued) or open (queued); the node's pending
// intents suppress either way; failures and deliveries are still
// recorded as intents, and stay in the outbox until the relay succeeds.
func TestPartition(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"tcp", "unix"} {
		for _, failOpen := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s open=%v", kind, failOpen), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				pool := unreachable(t, kind)
				db := openDB(t)
				r := &relay.Relay{
					Node:         "a",
					DB:           db,
					Suppressions: &pgsuppression.Store{DB: pool},
					Sent:         &pgsent.Index{DB: pool},
					Hooks:        newRecorder(),
					FailOpen:     failOpen,
					Now:          func() time.Time { return t0 },
				}
				n := &node{db: db, r: r, h: handler(r)}

				m := &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "bob@example.com"}
				var o []queue.Outcome
				err := db.Write(ctx, func(tx *bstore.Tx) error {
					var err error
					o, err = n.h.Add(tx, m)
					return err
				})
				queued, cerr := bstore.QueryDB[queue.Msg](ctx, db).Count()
				tcheck(t, cerr, "count")
				if failOpen {
					tcheck(t, err, "add failing open")
					if o[0].Result != queue.ResultQueued || queued != 1 {
						t.Fatalf("add failing open: %s, %d queued", o[0].Result, queued)
					}
				} else if !errors.Is(err, relay.ErrUnavailable) || queued != 0 {
					t.Fatalf("add failing closed: %v, %d queued; want ErrUnavailable and nothing queued", err, queued)
				}

				// A final failure and a delivery are recorded without
				// PostgreSQL.
				hard := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown}
				err = db.Write(ctx, func(tx *bstore.Tx) error {
					d, added, err := r.ProcessTx(tx, suppression.Check{Account: "alice", Recipient: "carol@example.com", Failure: hard})
					if err != nil {
						return err
					} else if !d.Suppress || !added {
						return fmt.Errorf("process: %+v, added %v", d, added)
					}
					_, err = r.DeliveredTx(tx, "alice", "dave@example.com")
					return err
				})
				tcheck(t, err, "process and deliver during the partition")

				// The pending intent suppresses, in either mode.
				m = &queue.Msg{SenderAccount: "alice", SenderAddress: "alice@example.org", RecipientAddress: "carol@example.com"}
				err = db.Write(ctx, func(tx *bstore.Tx) error {
					var err error
					o, err = n.h.Add(tx, m)
					return err
				})
				tcheck(t, err, "add of a pending suppressed recipient")
				if o[0].Result != queue.ResultSuppressed {
					t.Fatalf("add of a pending suppressed recipient: %s", o[0].Result)
				}

				// Only the hook moves: this test's webhook delivery is
				// not behind the partition.
				moved, err := r.Flush(ctx)
				if err == nil || moved != 1 {
					t.Fatalf("flush during the partition: %d moved, %v; want 1 and an error", moved, err)
				}
				if got := n.outbox(t); got != [3]int{0, 3, 0} {
					t.Fatalf("outbox after a failed flush: %v, want the 3 suppression intents (add, delivered, hit)", got)
				}
			})
		}
	}
}
