package relay_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/suppression"
)

// wait is one timer Run asked for.
type wait struct {
	d time.Duration
	c chan time.Time
}

// TestRun drives Run with a fake clock: it moves what is in the outbox
// at start, backs off after failed rounds (RetryMin doubling, kicks
// ignored), and moves new intents after a Kick.
func TestRun(t *testing.T) {
	t.Parallel()
	s := newShared(t)
	a := newNode(t, "a", s)
	waits := make(chan wait, 4) // Run never blocks on a timer.
	a.r.After = func(d time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		waits <- wait{d, c}
		return c
	}
	a.r.RetryMin = time.Second
	a.r.Interval = time.Minute
	s.hooks.inserted = make(chan int, 1)
	s.hooks.fail = []error{errors.New("down"), errors.New("still down")}

	m, _ := a.add(t, "bob@example.com")
	a.fail(t, m, userUnknown(), false)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	next := func(want time.Duration) wait {
		t.Helper()
		w := <-waits
		if w.d != want {
			t.Fatalf("run waits %v, want %v", w.d, want)
		}
		return w
	}
	w := next(time.Second) // First round: the hook failed.
	a.h.Kick()             // Ignored while backing off.
	w.c <- t0
	w = next(2 * time.Second)
	w.c <- t0
	if n := <-s.hooks.inserted; n != 1 {
		t.Fatalf("third round inserted %d hooks, want 1", n)
	}
	next(time.Minute) // Idle until a Kick.
	if got := a.outbox(t); got != [3]int{} {
		t.Fatalf("outbox after run: %v", got)
	}

	m, _ = a.add(t, "carol@example.com")
	a.fail(t, m, userUnknown(), false)
	a.h.Kick()
	if n := <-s.hooks.inserted; n != 1 {
		t.Fatalf("round after kick inserted %d hooks, want 1", n)
	}
	next(time.Minute)
	if _, ok, err := s.sup.Lookup(context.Background(), "alice", "carol@example.com"); err != nil || !ok {
		t.Fatalf("carol not suppressed on postgresql after the kick: %v", err)
	}
}

// TestCrashReplay puts back every intent of a flushed outbox, as after a
// crash between applying and deleting, and flushes again: PostgreSQL and
// the webhook delivery end as they were, with every hook handed over
// twice under the same webhook-id.
func TestCrashReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	for _, rcpt := range []string{"bob@example.com", "carol@example.com"} {
		m, _ := a.add(t, rcpt)
		a.fail(t, m, userUnknown(), false)
	}
	hooks, err := bstore.QueryDB[relay.HookIntent](ctx, a.db).List()
	tcheck(t, err, "hook intents")
	sups, err := bstore.QueryDB[relay.SuppressionIntent](ctx, a.db).List()
	tcheck(t, err, "suppression intents")
	sent, err := bstore.QueryDB[relay.SentIntent](ctx, a.db).List()
	tcheck(t, err, "index intents")
	if len(hooks) != 2 || len(sups) != 2 || len(sent) != 2 {
		t.Fatalf("intents %d, %d, %d; want 2 of each", len(hooks), len(sups), len(sent))
	}

	state := func() (string, error) {
		entries, _, err := s.sup.List(ctx, suppression.Filter{Account: "alice"}, paging.Page{})
		if err != nil {
			return "", err
		}
		records, err := s.sent.ByMessageID(ctx, "alice", "m-bob@example.com")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%+v %+v %v", entries, records, s.hooks.ids()), nil
	}
	a.flush(t)
	before, err := state()
	tcheck(t, err, "state")

	tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error {
		for _, l := range []any{hooks, sups, sent} {
			switch l := l.(type) {
			case []relay.HookIntent:
				for i := range l {
					if err := tx.Insert(&l[i]); err != nil {
						return err
					}
				}
			case []relay.SuppressionIntent:
				for i := range l {
					if err := tx.Insert(&l[i]); err != nil {
						return err
					}
				}
			case []relay.SentIntent:
				for i := range l {
					if err := tx.Insert(&l[i]); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}), "putting intents back")
	if n := a.flush(t); n != 6 {
		t.Fatalf("replay moved %d, want 6", n)
	}
	after, err := state()
	tcheck(t, err, "state")
	if after != before {
		t.Fatalf("state after replay:\n%s\nwant\n%s", after, before)
	}
	for _, id := range s.hooks.ids() {
		if n := s.hooks.handed[id]; n != 2 {
			t.Fatalf("hook %s handed over %d times, want 2", id, n)
		}
	}
}
