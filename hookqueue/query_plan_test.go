package hookqueue

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

// The plan tests run each listing on a queue where one account has
// planHooks retired hooks, so a plan that reads the whole account shows in
// the record counts; plantest runs each case plantest.Runs times.
const planHooks = 2000

var planNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// planSeed adds planHooks retired hooks of account "big" (IDs 1 to
// planHooks, QueueMsgID 100000+ID), ten of "small" after them, ten of
// "big" that expired, and planHooks pending hooks of "big" (IDs from
// 10001, QueueMsgID 200000+ID).
func planSeed(t *testing.T, db *bstore.DB) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *bstore.Tx) error {
		retired := func(id int64, account string, keep time.Time) error {
			h := HookRetired{ID: id, Account: account, URL: "https://app.example/hook", Event: webhook.EventDelivered, QueueMsgID: 100000 + id, RetireReason: RetiredDelivered, LastActivity: planNow, KeepUntil: keep}
			return tx.Insert(&h)
		}
		for i := int64(1); i <= planHooks; i++ {
			if err := retired(i, "big", planNow.Add(time.Hour)); err != nil {
				return err
			}
		}
		for i := int64(1); i <= 10; i++ {
			if err := retired(planHooks+i, "small", planNow.Add(time.Hour)); err != nil {
				return err
			}
			if err := retired(planHooks+100+i, "big", planNow.Add(-time.Hour)); err != nil {
				return err
			}
		}
		for i := int64(10001); i <= 10000+planHooks; i++ {
			h := Hook{ID: i, Account: "big", URL: "https://app.example/hook", Event: webhook.EventDelivered, QueueMsgID: 200000 + i, Submitted: planNow, NextAttempt: planNow.Add(time.Hour)}
			if err := tx.Insert(&h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seeding: %v", err)
	}
}

// listIDs returns the IDs of a page and its next cursor, for comparing.
func listIDs[T any](l []T, next int64, id func(T) int64) string {
	var ids []int64
	for _, v := range l {
		ids = append(ids, id(v))
	}
	return fmt.Sprint(ids, " next ", next)
}

func retiredID(h HookRetired) int64 { return h.ID }

// retiredPage returns a case's Run listing retired hooks and comparing the
// page with want.
func retiredPage(q *Queue, f Filter, p paging.Page, want string) func(tx *bstore.Tx) error {
	return func(tx *bstore.Tx) error {
		l, next, err := q.ListRetiredTx(tx, f, p)
		if got := listIDs(l, next, retiredID); err == nil && got != want {
			err = fmt.Errorf("page %s, want %s", got, want)
		}
		return err
	}
}

func planCases(q *Queue) []plantest.Case {
	pending := func(f Filter) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			l, _, err := q.ListTx(tx, f, paging.Page{})
			if err == nil && (len(l) != 1 || l[0].ID != 10007) {
				err = fmt.Errorf("found %d hooks", len(l))
			}
			return err
		}
	}
	return []plantest.Case{
		{Name: "retired account, newest first", Run: retiredPage(q, Filter{Account: "big"}, paging.Page{Limit: 3, Newest: true}, "[2110 2109 2108] next 2108"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "retired account, oldest first", Run: retiredPage(q, Filter{Account: "big"}, paging.Page{Limit: 3}, "[1 2 3] next 3"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "retired account, second page", Run: retiredPage(q, Filter{Account: "big"}, paging.Page{Limit: 3, After: 3}, "[4 5 6] next 6"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 20},
		{Name: "retired small account", Run: retiredPage(q, Filter{Account: "small"}, paging.Page{Limit: 2, Newest: true}, "[2010 2009] next 2009"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		// Event has no index: it is checked per record of the account's
		// index, in ID order.
		{Name: "retired account and event", Run: retiredPage(q, Filter{Account: "small", Event: webhook.EventDelivered}, paging.Page{Limit: 2, Newest: true}, "[2010 2009] next 2009"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "pending account and submitted", Run: pending(Filter{Account: "big", QueueMsgID: 210007, SubmittedAfter: planNow, Event: webhook.EventDelivered}), Type: "Hook", Index: "Account+QueueMsgID", Plan: plantest.Index, MaxReads: 6},
		{Name: "pending account and message", Run: pending(Filter{Account: "big", QueueMsgID: 210007}), Type: "Hook", Index: "Account+QueueMsgID", Plan: plantest.Index, MaxReads: 6},
		// The transaction is rolled back after each run, so every run
		// finds the ten expired hooks.
		{Name: "cleanup", Run: func(tx *bstore.Tx) error {
			n, err := q.CleanupTx(tx, planNow)
			if err == nil && n != 10 {
				err = fmt.Errorf("removed %d, want 10", n)
			}
			return err
		}, Type: "HookRetired", Index: "KeepUntil", Plan: plantest.Index, MaxReads: 40},
	}
}

func TestQueryPlan(t *testing.T) {
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"), nil, DBTypes()...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	planSeed(t, db)
	plantest.Check(t, db, planCases(&Queue{DB: db, Now: func() time.Time { return planNow }}))
}

// TestQueryPlanOldSchema opens a queue written when HookRetired's account
// index was Account+LastActivity and Event and LastActivity were indexed,
// and Hook had indexes on Event and Submitted: bstore drops or replaces
// them on open, listings get the same plans and old hooks still list.
func TestQueryPlanOldSchema(t *testing.T) {
	// The type as it was; bstore knows a type by its name.
	type HookRetired struct {
		ID             int64
		Account        string `bstore:"nonzero,index Account+LastActivity"`
		URL            string `bstore:"nonzero"`
		Authorization  bool
		Signed         bool
		Event          webhook.OutgoingEvent `bstore:"index"`
		QueueMsgID     int64
		Payload        webhook.Outgoing
		Submitted      time.Time
		Attempts       int64
		Results        []HookResult
		RetireReason   RetireReason
		Success        bool
		SupersededByID int64
		LastActivity   time.Time `bstore:"index"`
		KeepUntil      time.Time `bstore:"index"`
	}
	// Declared before the old Hook type shadows the current one.
	enqueue := func(tx *bstore.Tx, q *Queue) error {
		return q.Enqueue(tx, Hook{Account: "small", URL: "https://app.example/hook", Event: webhook.EventDelivered, QueueMsgID: 4})
	}
	// Hook as it was, with indexes on Event and Submitted.
	type Hook struct {
		ID            int64
		Account       string `bstore:"nonzero,index Account+QueueMsgID"`
		URL           string `bstore:"nonzero"`
		Authorization string
		Secrets       []string
		Event         webhook.OutgoingEvent `bstore:"index"`
		QueueMsgID    int64
		Payload       webhook.Outgoing
		KeepFor       time.Duration
		Submitted     time.Time `bstore:"index"`
		Attempts      int64
		NextAttempt   time.Time `bstore:"nonzero,index"`
		Results       []HookResult
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := bstore.Open(ctx, path, nil, HookRetired{}, Hook{})
	if err != nil {
		t.Fatalf("open with the old type: %v", err)
	}
	err = old.Write(ctx, func(tx *bstore.Tx) error {
		for i := int64(1); i <= 20; i++ {
			account := "big"
			if i%2 == 0 {
				account = "small"
			}
			// LastActivity in the opposite order of ID: the old index
			// would list by it.
			h := HookRetired{Account: account, URL: "https://app.example/hook", RetireReason: RetiredDelivered, LastActivity: planNow.Add(-time.Duration(i) * time.Minute), KeepUntil: planNow.Add(time.Hour)}
			if err := tx.Insert(&h); err != nil {
				return err
			}
		}
		for i := int64(1); i <= 3; i++ {
			h := Hook{Account: "small", URL: "https://app.example/hook", Event: webhook.EventFailed, QueueMsgID: i, Submitted: planNow, NextAttempt: planNow}
			if err := tx.Insert(&h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("writing with the old type: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	db, err := bstore.Open(ctx, path, nil, DBTypes()...)
	if err != nil {
		t.Fatalf("open with the current types: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	q := &Queue{DB: db, Now: func() time.Time { return planNow }}
	// The pending hooks written with the old indexes are listed by event,
	// and one queued now is stored without them.
	err = db.Write(ctx, func(tx *bstore.Tx) error { return enqueue(tx, q) })
	if err != nil {
		t.Fatalf("enqueue after upgrade: %v", err)
	}
	for _, c := range []struct {
		event webhook.OutgoingEvent
		want  string
	}{{webhook.EventFailed, "[1 2 3]"}, {webhook.EventDelivered, "[4]"}} {
		l, _, err := q.List(ctx, Filter{Account: "small", Event: c.event}, paging.Page{})
		var ids []int64
		for _, h := range l {
			ids = append(ids, h.QueueMsgID)
		}
		if got := fmt.Sprint(ids); err != nil || got != c.want {
			t.Fatalf("pending %s after upgrade: %s, %v; want %s", c.event, got, err, c.want)
		}
	}
	plantest.Check(t, db, []plantest.Case{
		{Name: "retired account after upgrade", Run: retiredPage(q, Filter{Account: "small"}, paging.Page{Limit: 3, Newest: true, After: 18}, "[16 14 12] next 12"), Type: "HookRetired", Index: "Account", Plan: plantest.Index, MaxReads: 20},
	})
}
