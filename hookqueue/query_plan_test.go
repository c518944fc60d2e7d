package hookqueue

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

// The plan tests run each listing on a queue where one account has
// planHooks retired hooks, so a plan that reads the whole account shows in
// the record counts. bstore chooses between equally usable indexes by map
// order, random per query: each case runs planRuns times.
const (
	planHooks = 2000
	planRuns  = 50
)

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

type planCase struct {
	name     string
	run      func() error
	typ      string
	index    string       // Index of the last query; empty for the primary key.
	maxReads uint         // Records-bucket gets and cursor steps plus index cursor steps.
	after    func() error // Run after the statistics are taken, to restore the database.
}

// checkPlans runs each case planRuns times and checks the statistics of
// the database across the call (each listing is its own transaction).
func checkPlans(t *testing.T, db *bstore.DB, cases []planCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range planRuns {
				before := db.Stats()
				err := c.run()
				d := db.Stats().Sub(before)
				if err == nil && c.after != nil {
					err = c.after()
				}
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				reads := d.Records.Get + d.Records.Cursor + d.Index.Cursor
				if d.PlanTableScan+d.PlanPKScan > 0 || d.PlanIndexScan == 0 || d.LastType != c.typ || d.LastIndex != c.index || reads > c.maxReads {
					t.Fatalf("run %d: %+v: %d reads, want an index scan of %s index %q, at most %d reads", i, d, reads, c.typ, c.index, c.maxReads)
				}
			}
		})
	}
}

func planCases(q *Queue) []planCase {
	ctx := context.Background()
	retired := func(f Filter, p paging.Page, want string) func() error {
		return func() error {
			l, next, err := q.ListRetired(ctx, f, p)
			var ids []int64
			for _, h := range l {
				ids = append(ids, h.ID)
			}
			if got := fmt.Sprint(ids, " next ", next); err == nil && got != want {
				err = fmt.Errorf("page %s, want %s", got, want)
			}
			return err
		}
	}
	return []planCase{
		{"retired account, newest first", retired(Filter{Account: "big"}, paging.Page{Limit: 3, Newest: true}, "[2110 2109 2108] next 2108"), "HookRetired", "Account", 10, nil},
		{"retired account, oldest first", retired(Filter{Account: "big"}, paging.Page{Limit: 3}, "[1 2 3] next 3"), "HookRetired", "Account", 10, nil},
		{"retired account, second page", retired(Filter{Account: "big"}, paging.Page{Limit: 3, After: 3}, "[4 5 6] next 6"), "HookRetired", "Account", 20, nil},
		{"retired small account", retired(Filter{Account: "small"}, paging.Page{Limit: 2, Newest: true}, "[2010 2009] next 2009"), "HookRetired", "Account", 10, nil},
		// Event has no index: it is checked per record of the account's
		// index, in ID order.
		{"retired account and event", retired(Filter{Account: "small", Event: webhook.EventDelivered}, paging.Page{Limit: 2, Newest: true}, "[2010 2009] next 2009"), "HookRetired", "Account", 10, nil},
		{"pending account and submitted", func() error {
			l, _, err := q.List(ctx, Filter{Account: "big", QueueMsgID: 210007, SubmittedAfter: planNow, Event: webhook.EventDelivered}, paging.Page{})
			if err == nil && (len(l) != 1 || l[0].ID != 10007) {
				err = fmt.Errorf("found %d hooks", len(l))
			}
			return err
		}, "Hook", "Account+QueueMsgID", 6, nil},
		{"pending account and message", func() error {
			l, _, err := q.List(ctx, Filter{Account: "big", QueueMsgID: 210007}, paging.Page{})
			if err == nil && (len(l) != 1 || l[0].ID != 10007) {
				err = fmt.Errorf("found %d hooks", len(l))
			}
			return err
		}, "Hook", "Account+QueueMsgID", 6, nil},
		{"cleanup", func() error {
			n, err := q.Cleanup(ctx)
			if err == nil && n != 10 {
				err = fmt.Errorf("removed %d, want 10", n)
			}
			return err
		}, "HookRetired", "KeepUntil", 40, func() error {
			// Put them back for the next run.
			return q.DB.Write(ctx, func(tx *bstore.Tx) error {
				for i := int64(1); i <= 10; i++ {
					h := HookRetired{ID: planHooks + 100 + i, Account: "big", URL: "https://app.example/hook", RetireReason: RetiredDelivered, KeepUntil: planNow.Add(-time.Hour)}
					if err := tx.Insert(&h); err != nil {
						return err
					}
				}
				return nil
			})
		}},
	}
}

func TestQueryPlan(t *testing.T) {
	db, err := bstore.Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"), nil, DBTypes()...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	planSeed(t, db)
	checkPlans(t, db, planCases(&Queue{DB: db, Now: func() time.Time { return planNow }}))
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
	page := func(p paging.Page, want string) func() error {
		return func() error {
			l, next, err := q.ListRetired(ctx, Filter{Account: "small"}, p)
			var ids []int64
			for _, h := range l {
				ids = append(ids, h.ID)
			}
			if got := fmt.Sprint(ids, " next ", next); err == nil && got != want {
				err = fmt.Errorf("page %s, want %s", got, want)
			}
			return err
		}
	}
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
	checkPlans(t, db, []planCase{
		{"retired account after upgrade", page(paging.Page{Limit: 3, Newest: true, After: 18}, "[16 14 12] next 12"), "HookRetired", "Account", 20, nil},
	})
}
