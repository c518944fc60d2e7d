package relay_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsent"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// benchNode is a node on a schema of its own, with the shared stores
// opened.
func benchNode(b *testing.B) (*relay.Relay, *shared) {
	b.Helper()
	ctx := context.Background()
	s := &shared{hooks: newRecorder()}
	s.pool = pgtest.Pool(b)
	var err error
	s.sup, err = pgsuppression.Open(ctx, s.pool)
	tcheck(b, err, "open suppression list")
	s.sent, err = pgsent.Open(ctx, s.pool)
	tcheck(b, err, "open index")
	r := &relay.Relay{Node: "a", DB: openDB(b), Suppressions: s.sup, Sent: s.sent, Hooks: s.hooks}
	return r, s
}

// BenchmarkStopTx looks up an address inside a write transaction, as Add
// and Due do per recipient: one query on PostgreSQL and one index lookup
// of pending intents. The list holds 10,000 entries of the account.
func BenchmarkStopTx(b *testing.B) {
	r, s := benchNode(b)
	ctx := context.Background()
	for i := range 10_000 {
		_, _, err := s.sup.Add(ctx, suppression.Entry{Account: "alice", OriginalAddress: fmt.Sprintf("r%d@example.com", i)})
		tcheck(b, err, "add")
	}
	for _, tc := range []struct {
		name  string
		rcpt  func(i int) string
		wantS bool
	}{
		{"notlisted", func(i int) string { return fmt.Sprintf("n%d@example.com", i) }, false},
		{"listed", func(i int) string { return fmt.Sprintf("r%d@example.com", i%10_000) }, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			err := r.DB.Write(ctx, func(tx *bstore.Tx) error {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					_, ok, err := r.StopTx(tx, "alice", tc.rcpt(i), t0)
					if err != nil || ok != tc.wantS {
						return fmt.Errorf("stop %d: %v, %v", i, ok, err)
					}
				}
				b.StopTimer()
				return nil
			})
			tcheck(b, err, "write")
		})
	}
}

// BenchmarkFlush moves batches of 100 final failures (a suppression add,
// an index record and a hook each: 300 intents) from the outbox to
// PostgreSQL, the hooks to a recording fake or to the River queue.
func BenchmarkFlush(b *testing.B) {
	for _, name := range []string{"fake", "river"} {
		b.Run(name, func(b *testing.B) {
			r, s := benchNode(b)
			if name == "river" {
				q, err := riverhook.Open(context.Background(), s.pool, riverhook.Config{})
				tcheck(b, err, "open river queue")
				r.Hooks = q
			}
			benchFlush(b, r)
		})
	}
}

func benchFlush(b *testing.B, r *relay.Relay) {
	ctx := context.Background()
	const batch = 100
	hard := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown}
	var id int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		err := r.DB.Write(ctx, func(tx *bstore.Tx) error {
			for j := 0; j < batch; j++ {
				id++
				rcpt := fmt.Sprintf("r%d@example.com", id)
				if _, _, err := r.ProcessTx(tx, suppression.Check{Account: "alice", Recipient: rcpt, Failure: hard, Now: t0}); err != nil {
					return err
				}
				m := &queue.Msg{ID: id, BaseID: id, SenderAccount: "alice", RecipientAddress: rcpt, MessageID: fmt.Sprintf("m%d@example.org", id), Queued: t0}
				if err := r.IndexTx(tx, m); err != nil {
					return err
				}
				if err := r.Enqueue(tx, webhookFor(rcpt, id)); err != nil {
					return err
				}
			}
			return nil
		})
		tcheck(b, err, "write intents")
		b.StartTimer()
		n, err := r.Flush(ctx)
		if err != nil || n != 3*batch {
			b.Fatalf("flush: %d, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "failures/s")
}

func webhookFor(rcpt string, id int64) hookqueue.Hook {
	return hookqueue.Hook{
		Account: "alice", URL: "https://hooks.example.org/alice", Event: webhook.EventFailed, QueueMsgID: id,
		Payload: webhook.Outgoing{Event: webhook.EventFailed, QueueMsgID: id, Recipient: rcpt},
	}
}
