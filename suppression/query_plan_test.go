package suppression

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
)

// The plan tests run each query on a list where one account holds
// planEntries entries, so a plan that reads the whole account shows in the
// record counts. bstore chooses between equally usable indexes by map
// order, random per query: each case runs planRuns times, in a fresh
// transaction each.
const (
	planEntries = 2000
	planRuns    = 50
)

// planSeed inserts planEntries entries of account "big" (IDs 1 to
// planEntries, u<i>@example.com), ten of "small", and ten of "big" that
// expired before t0.
func planSeed(t *testing.T, db *bstore.DB) {
	t.Helper()
	err := db.Write(context.Background(), func(tx *bstore.Tx) error {
		add := func(account, addr string, expires time.Time) error {
			e := Entry{Account: account, BaseAddress: addr, OriginalAddress: addr, Category: CategoryHardBounce, Source: SourceQueue, Created: t0, LastSeen: t0, ExpiresAt: expires}
			return tx.Insert(&e)
		}
		for i := range planEntries {
			if err := add("big", fmt.Sprintf("u%d@example.com", i+1), time.Time{}); err != nil {
				return err
			}
		}
		for i := range 10 {
			if err := add("small", fmt.Sprintf("s%d@example.com", i), time.Time{}); err != nil {
				return err
			}
			if err := add("big", fmt.Sprintf("x%d@example.com", i), t0.Add(-time.Hour)); err != nil {
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
	run      func(tx *bstore.Tx) error
	index    string // Index of the last query; empty for the primary key.
	plan     string // "index", "unique" or "pkscan".
	maxReads uint   // Records-bucket gets and cursor steps plus index cursor steps.
}

func checkPlans(t *testing.T, db *bstore.DB, cases []planCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range planRuns {
				tx, err := db.Begin(context.Background(), true)
				if err != nil {
					t.Fatalf("begin: %v", err)
				}
				before := tx.Stats()
				err = c.run(tx)
				d := tx.Stats().Sub(before)
				if rerr := tx.Rollback(); rerr != nil {
					t.Fatalf("rollback: %v", rerr)
				}
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				plan := fmt.Sprintf("mixed %+v", d)
				switch {
				case d.PlanTableScan > 0:
				case d.PlanIndexScan > 0 && d.PlanPKScan == 0 && d.PlanUnique == 0:
					plan = "index"
				case d.PlanUnique > 0 && d.PlanPKScan == 0 && d.PlanIndexScan == 0:
					plan = "unique"
				case d.PlanPKScan > 0 && d.PlanIndexScan == 0 && d.PlanUnique == 0:
					plan = "pkscan"
				}
				reads := d.Records.Get + d.Records.Cursor + d.Index.Cursor
				if plan != c.plan || d.LastType != "Entry" || d.LastIndex != c.index || reads > c.maxReads {
					t.Fatalf("run %d: plan %s on %s index %q, %d reads (records get %d, cursor %d; index cursor %d), want plan %s on Entry index %q, at most %d reads",
						i, plan, d.LastType, d.LastIndex, reads, d.Records.Get, d.Records.Cursor, d.Index.Cursor, c.plan, c.index, c.maxReads)
				}
			}
		})
	}
}

// listIDs returns the IDs of a page and its next cursor, for comparing.
func listIDs(entries []Entry, next int64) string {
	var ids []int64
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return fmt.Sprint(ids, " next ", next)
}

func planCases(s *Store) []planCase {
	page := func(f Filter, p paging.Page, want string) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			entries, next, err := s.ListTx(tx, f, p)
			if got := listIDs(entries, next); err == nil && got != want {
				err = fmt.Errorf("page %s, want %s", got, want)
			}
			return err
		}
	}
	return []planCase{
		{"lookup", func(tx *bstore.Tx) error {
			e, ok, err := s.LookupTx(tx, "big", "u77@example.com", t0)
			if err == nil && (!ok || e.ID != 77) {
				err = fmt.Errorf("lookup found %v %v", e.ID, ok)
			}
			return err
		}, "Account+BaseAddress", "unique", 2},
		{"list account, newest first", page(Filter{Account: "big"}, paging.Page{Newest: true, Limit: 3}, "[2020 2018 2016] next 2016"), "Account", "index", 10},
		{"list account, oldest first", page(Filter{Account: "big"}, paging.Page{Limit: 3}, "[1 2 3] next 3"), "Account", "index", 10},
		{"list account, oldest first, second page", page(Filter{Account: "big"}, paging.Page{Limit: 3, After: 3}, "[4 5 6] next 6"), "Account", "index", 20},
		{"list small account", page(Filter{Account: "small"}, paging.Page{Limit: 3, Newest: true}, "[2019 2017 2015] next 2015"), "Account", "index", 10},
		{"list all, cursor", page(Filter{}, paging.Page{Limit: 3, Newest: true, After: 1000}, "[999 998 997] next 997"), "", "pkscan", 10},
		{"cleanup", func(tx *bstore.Tx) error {
			n, err := s.CleanupTx(tx, t0)
			if err == nil && n != 10 {
				err = fmt.Errorf("removed %d, want 10", n)
			}
			return err
		}, "ExpiresAt", "index", 40},
	}
}

func TestQueryPlan(t *testing.T) {
	s, _ := newStore(t)
	planSeed(t, s.DB)
	checkPlans(t, s.DB, planCases(s))
}

// TestQueryPlanOldSchema opens a list written before Entry had its index on
// Account alone: bstore builds the index on open, and the queries get the
// same plans.
func TestQueryPlanOldSchema(t *testing.T) {
	// The type as it was; bstore knows a type by its name.
	type Entry struct {
		ID              int64
		Account         string `bstore:"unique Account+BaseAddress"`
		BaseAddress     string `bstore:"nonzero"`
		OriginalAddress string
		Reason          string
		Category        Category `bstore:"nonzero"`
		Source          Source   `bstore:"nonzero"`
		Code            int64
		EnhancedCode    string
		Created         time.Time
		LastSeen        time.Time
		Hits            int64
		LastHit         time.Time
		ExpiresAt       time.Time `bstore:"index"`
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := bstore.Open(ctx, path, nil, Entry{})
	if err != nil {
		t.Fatalf("open with the old type: %v", err)
	}
	err = old.Write(ctx, func(tx *bstore.Tx) error {
		for i := range planEntries {
			e := Entry{Account: "big", BaseAddress: fmt.Sprintf("u%d@example.com", i+1), Category: CategoryHardBounce, Source: SourceQueue}
			if err := tx.Insert(&e); err != nil {
				return err
			}
		}
		for i := range 10 {
			e := Entry{Account: "small", BaseAddress: fmt.Sprintf("s%d@example.com", i), Category: CategoryHardBounce, Source: SourceQueue}
			if err := tx.Insert(&e); err != nil {
				return err
			}
			e = Entry{Account: "big", BaseAddress: fmt.Sprintf("x%d@example.com", i), Category: CategoryHardBounce, Source: SourceQueue, ExpiresAt: t0.Add(-time.Hour)}
			if err := tx.Insert(&e); err != nil {
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
	s := &Store{DB: db, Now: func() time.Time { return t0 }}
	checkPlans(t, db, planCases(s))
	// Removing an entry keeps the new index consistent: the listing still
	// reads, and skips it.
	if err := s.Remove(ctx, "small", "s9@example.com"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	entries, next, err := s.List(ctx, Filter{Account: "small"}, paging.Page{Limit: 2, Newest: true})
	if got := listIDs(entries, next); err != nil || got != "[2017 2015] next 2015" {
		t.Fatalf("list after remove: %v %v", got, err)
	}
}
