package relay_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestRiver hands hooks to the River queue: each becomes one job with
// the relay's webhook-id, a replay after a crash adds none, and a hook
// River refuses for good is dropped without holding up the others.
func TestRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	pool := s.pool
	q, err := riverhook.Open(ctx, pool, riverhook.Config{})
	tcheck(t, err, "open river queue")
	a := newNode(t, "a", s)
	a.r.Hooks = q

	for _, rcpt := range []string{"bob@example.com", "carol@example.com"} {
		m, _ := a.add(t, rcpt)
		a.fail(t, m, userUnknown(), false)
	}
	// A hook no delivery can make: written past the Handler's checks.
	bad := relay.HookIntent{Account: "alice", URL: "ftp://hooks.example.org/", Event: webhook.EventFailed}
	tcheck(t, a.db.Insert(ctx, &bad), "bad hook intent")
	hooks, err := bstore.QueryDB[relay.HookIntent](ctx, a.db).List()
	tcheck(t, err, "hook intents")

	jobs := func() []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT args->>'webhook_id' FROM river_job WHERE kind = $1 ORDER BY id`, riverhook.Kind)
		tcheck(t, err, "river jobs")
		var ids []string
		for rows.Next() {
			var id string
			tcheck(t, rows.Scan(&id), "scan")
			ids = append(ids, id)
		}
		tcheck(t, rows.Err(), "rows")
		return ids
	}
	if n := a.flush(t); n != 7 {
		t.Fatalf("flush moved %d, want 7 (3 hooks, one dropped; 2 suppression changes, 2 index records)", n)
	}
	want := []string{a.webhookID(t, 1), a.webhookID(t, 2)}
	if got := jobs(); !slices.Equal(got, want) {
		t.Fatalf("river jobs %v, want %v", got, want)
	}
	tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error {
		for i := range hooks {
			if err := tx.Insert(&hooks[i]); err != nil {
				return err
			}
		}
		return nil
	}), "putting hook intents back")
	if n := a.flush(t); n != 3 {
		t.Fatalf("replay moved %d, want 3", n)
	}
	if got := jobs(); !slices.Equal(got, want) {
		t.Fatalf("river jobs after replay %v, want %v", got, want)
	}
}
