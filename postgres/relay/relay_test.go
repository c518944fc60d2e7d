package relay_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/postgres/relay"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// TestRollback: a rolled-back FailMsgs leaves no intent, and so nothing
// on PostgreSQL after the relay ran.
func TestRollback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	m, _ := a.add(t, "bob@example.com")
	a.flush(t) // The index record of the Add.

	o := a.fail(t, m, userUnknown(), true)
	if o.Result != queue.ResultFailed || !o.Suppressing || o.Hook != webhook.EventFailed {
		t.Fatalf("outcome in the rolled-back transaction: %+v", o)
	}
	if got := a.outbox(t); got != [3]int{} {
		t.Fatalf("outbox after rollback: %v intents (hooks, suppression, index), want none", got)
	}
	if n := a.flush(t); n != 0 {
		t.Fatalf("flush after rollback moved %d intents", n)
	}
	if _, ok, err := s.sup.Lookup(ctx, "alice", "bob@example.com"); err != nil || ok {
		t.Fatalf("suppressed on postgresql after rollback: %v, %v", ok, err)
	}
	if ids := s.hooks.ids(); len(ids) != 0 {
		t.Fatalf("hooks inserted after rollback: %v", ids)
	}
}

// TestCommitThenRelay: a committed FailMsgs suppresses the recipient on
// its node at once (pending intents), and on PostgreSQL, with its
// webhook, after the relay ran.
func TestCommitThenRelay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	m, _ := a.add(t, "bob@example.com")
	o := a.fail(t, m, userUnknown(), false)
	if o.Result != queue.ResultFailed || !o.Suppressing {
		t.Fatalf("outcome: %+v", o)
	}
	if got := a.outbox(t); got != [3]int{1, 1, 1} {
		t.Fatalf("outbox after commit: %v, want one hook, one suppression, one index intent", got)
	}
	if _, ok, err := s.sup.Lookup(ctx, "alice", "bob@example.com"); err != nil || ok {
		t.Fatalf("on postgresql before the relay ran: %v, %v", ok, err)
	}

	// The node sees its own pending suppression before the relay runs.
	_, o2 := a.add(t, "Bob@example.com")
	if o2.Result != queue.ResultSuppressed {
		t.Fatalf("add on the same node before the relay ran: %s, want suppressed", o2.Result)
	}

	if n := a.flush(t); n != 6 {
		t.Fatalf("flush moved %d intents, want 6 (2 index records, 1 suppression, 1 hit, 2 hooks)", n)
	}
	if got := a.outbox(t); got != [3]int{} {
		t.Fatalf("outbox after flush: %v", got)
	}
	e, ok, err := s.sup.Lookup(ctx, "alice", "bob@example.com")
	tcheck(t, err, "lookup")
	if !ok || e.Category != suppression.CategoryHardBounce || e.Source != suppression.SourceQueue || e.Code != 550 || e.EnhancedCode != "5.1.1" {
		t.Fatalf("entry on postgresql: %v %+v", ok, e)
	}

	ids := s.hooks.ids()
	if want := []string{a.webhookID(t, 1), a.webhookID(t, 2)}; !slices.Equal(ids, want) {
		t.Fatalf("webhook ids %v, want %v", ids, want)
	}
	h, _ := s.hooks.hook(ids[0])
	if h.Event != webhook.EventFailed || !h.Payload.Suppressing || h.QueueMsgID != m.ID || h.URL != "https://hooks.example.org/alice" || h.Payload.Recipient != "bob@example.com" {
		t.Fatalf("first hook: %+v", h)
	}
	h, _ = s.hooks.hook(ids[1])
	if h.Event != webhook.EventSuppressed {
		t.Fatalf("second hook: %s, want suppressed", h.Event)
	}

	l, err := s.sent.ByMessageID(ctx, "alice", "m-bob@example.com")
	tcheck(t, err, "index lookup")
	if len(l) != 1 || l[0].Node != "a" || l[0].MsgID != m.ID || l[0].RecipientAddress != "bob@example.com" || !l[0].KeepUntil.Equal(t0.Add(relay.DefaultSentKeep)) {
		t.Fatalf("index records: %+v", l)
	}

	if e.Hits != 1 || !e.LastHit.Equal(t0) {
		t.Fatalf("hits %d at %v, want the stop of the pending entry", e.Hits, e.LastHit)
	}

	// A stop by the entry on PostgreSQL counts a hit after commit; a
	// rolled-back one counts none.
	_, o3 := a.add(t, "bob@example.com")
	if o3.Result != queue.ResultSuppressed {
		t.Fatalf("add after the relay ran: %s", o3.Result)
	}
	errRollback := errors.New("rollback")
	err = a.db.Write(ctx, func(tx *bstore.Tx) error {
		if _, err := a.h.Add(tx, &queue.Msg{SenderAccount: "alice", RecipientAddress: "bob@example.com"}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back add: %v", err)
	}
	a.flush(t)
	e, _, err = s.sup.Lookup(ctx, "alice", "bob@example.com")
	tcheck(t, err, "lookup")
	if e.Hits != 2 {
		t.Fatalf("hits %d, want 2", e.Hits)
	}
}

// TestTwoNodes: a recipient suppressed through node A is refused on node
// B at its next Add; B's delivery of another address removes a soft
// suppression A made.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newShared(t)
	a := newNode(t, "a", s)
	b := newNode(t, "b", s)

	m, _ := a.add(t, "bob@example.com")
	a.fail(t, m, userUnknown(), false)

	// Before A's relay ran, B does not know.
	_, o := b.add(t, "bob@example.com")
	if o.Result != queue.ResultQueued {
		t.Fatalf("add on b before a's relay ran: %s", o.Result)
	}
	a.flush(t)
	_, o = b.add(t, "bob@example.com")
	if o.Result != queue.ResultSuppressed || o.Hook != webhook.EventSuppressed {
		t.Fatalf("add on b after a's relay ran: %+v", o)
	}
	b.flush(t)
	e, _, err := s.sup.Lookup(ctx, "alice", "bob@example.com")
	tcheck(t, err, "lookup")
	if e.Hits != 1 {
		t.Fatalf("hits %d, want 1", e.Hits)
	}
	// Hook IDs of both nodes never collide.
	ids := s.hooks.ids()
	if want := []string{a.webhookID(t, 1), b.webhookID(t, 1)}; !slices.Equal(ids, want) {
		t.Fatalf("webhook ids %v, want %v", ids, want)
	}
	// Both nodes' messages are in the index.
	l, err := s.sent.ByMessageID(ctx, "alice", "m-bob@example.com")
	tcheck(t, err, "index")
	if len(l) != 3 {
		t.Fatalf("index records %d, want 3 (1 of a, 2 of b)", len(l))
	}
}

// step is one change of the shared list written by a node.
type step struct {
	op   relay.SuppressionOp
	soft bool // For OpAdd: a soft bounce, else a hard one.
}

// TestOrderAndReplay writes sequences of changes of one address, moves
// them, and then replays every suffix as the relay does after a crash
// between applying and deleting: the end state on PostgreSQL is the one
// the bstore suppression store reaches with the same calls, each time.
func TestOrderAndReplay(t *testing.T) {
	t.Parallel()
	add := func(soft bool) step { return step{relay.OpAdd, soft} }
	delivered := step{op: relay.OpDelivered}
	tests := []struct {
		name  string
		steps []step
		want  suppression.Category // Empty: no entry.
	}{
		{"soft", []step{add(true)}, suppression.CategorySoftBounce},
		{"soft delivered", []step{add(true), delivered}, ""},
		{"delivered soft", []step{delivered, add(true)}, suppression.CategorySoftBounce},
		{"soft delivered hard", []step{add(true), delivered, add(false)}, suppression.CategoryHardBounce},
		{"hard delivered", []step{add(false), delivered}, suppression.CategoryHardBounce},
		{"soft hard delivered", []step{add(true), add(false), delivered}, suppression.CategoryHardBounce},
		{"hard soft", []step{add(false), add(true)}, suppression.CategoryHardBounce},
		{"soft soft delivered soft", []step{add(true), add(true), delivered, add(true)}, suppression.CategorySoftBounce},
	}
	s := newShared(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			// Every subtest is a new database under the same node name:
			// its outbox token keeps its intents apart from the earlier
			// ones' on PostgreSQL.
			a := newNode(t, "a", s)
			rcpt := "r" + string(rune('a'+i)) + "@example.com"
			// The reference: the bstore store with the same policy.
			ref := &suppression.Store{DB: openDB(t), Policy: suppression.Policy{SoftFailures: 1}, Now: func() time.Time { return t0.Add(24 * time.Hour) }}
			a.r.Suppressions.Policy = ref.Policy

			for j, st := range tc.steps {
				now := t0.Add(time.Duration(j) * time.Hour)
				run := func(s queue.SuppressionStore, tx *bstore.Tx) error {
					if st.op == relay.OpDelivered {
						_, err := s.DeliveredTx(tx, "alice", rcpt)
						return err
					}
					f := bounce.Failure{Reason: bounce.ReasonMailboxFull}
					if !st.soft {
						f = bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown}
					}
					_, _, err := s.ProcessTx(tx, suppression.Check{Account: "alice", Recipient: rcpt, Failure: f, Now: now})
					return err
				}
				a.r.Now = func() time.Time { return now }
				tcheck(t, a.db.Write(ctx, func(tx *bstore.Tx) error { return run(a.r, tx) }), "write intent")
				tcheck(t, ref.DB.Write(ctx, func(tx *bstore.Tx) error { return run(ref, tx) }), "reference")
			}
			intents, err := bstore.QueryDB[relay.SuppressionIntent](ctx, a.db).List()
			tcheck(t, err, "list intents")
			if len(intents) != len(tc.steps) {
				t.Fatalf("%d intents, want %d", len(intents), len(tc.steps))
			}
			want, wantOK, err := ref.Lookup(ctx, "alice", rcpt)
			tcheck(t, err, "reference lookup")
			if wantOK != (tc.want != "") || want.Category != tc.want {
				t.Fatalf("reference store: %v %s, want %q", wantOK, want.Category, tc.want)
			}
			check := func(when string) {
				t.Helper()
				got, ok, err := s.sup.Lookup(ctx, "alice", rcpt)
				tcheck(t, err, "lookup")
				got.ID, want.ID = 0, 0
				if ok != wantOK || got != want {
					t.Fatalf("%s: on postgresql %v %+v\nwant %v %+v", when, ok, got, wantOK, want)
				}
			}
			a.flush(t)
			check("after the relay")
			for k := range intents {
				for _, si := range intents[k:] {
					tcheck(t, a.db.Insert(ctx, &si), "put intent back")
				}
				a.flush(t)
				check(fmt.Sprintf("after replaying intents %d..%d", k+1, len(intents)))
			}
		})
	}
}
