package suppression

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
	"github.com/bouncekit/bouncekit/paging"
)

// The plan tests run each query on a list where one account holds
// planEntries entries, so a plan that reads the whole account shows in the
// record counts; plantest runs each case plantest.Runs times.
const planEntries = 2000

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

// listIDs returns the IDs of a page and its next cursor, for comparing.
func listIDs(entries []Entry, next int64) string {
	var ids []int64
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	return fmt.Sprint(ids, " next ", next)
}

func planCases(s *Store) []plantest.Case {
	page := func(f Filter, p paging.Page, want string) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			entries, next, err := s.ListTx(tx, f, p)
			if got := listIDs(entries, next); err == nil && got != want {
				err = fmt.Errorf("page %s, want %s", got, want)
			}
			return err
		}
	}
	return []plantest.Case{
		{Name: "lookup", Run: func(tx *bstore.Tx) error {
			e, ok, err := s.LookupTx(tx, "big", "u77@example.com", t0)
			if err == nil && (!ok || e.ID != 77) {
				err = fmt.Errorf("lookup found %v %v", e.ID, ok)
			}
			return err
		}, Type: "Entry", Index: "Account+BaseAddress", Plan: plantest.Unique, MaxReads: 2},
		{Name: "list account, newest first", Run: page(Filter{Account: "big"}, paging.Page{Newest: true, Limit: 3}, "[2020 2018 2016] next 2016"), Type: "Entry", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "list account, oldest first", Run: page(Filter{Account: "big"}, paging.Page{Limit: 3}, "[1 2 3] next 3"), Type: "Entry", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "list account, oldest first, second page", Run: page(Filter{Account: "big"}, paging.Page{Limit: 3, After: 3}, "[4 5 6] next 6"), Type: "Entry", Index: "Account", Plan: plantest.Index, MaxReads: 20},
		{Name: "list small account", Run: page(Filter{Account: "small"}, paging.Page{Limit: 3, Newest: true}, "[2019 2017 2015] next 2015"), Type: "Entry", Index: "Account", Plan: plantest.Index, MaxReads: 10},
		{Name: "list all, cursor", Run: page(Filter{}, paging.Page{Limit: 3, Newest: true, After: 1000}, "[999 998 997] next 997"), Type: "Entry", Plan: plantest.PKScan, MaxReads: 10},
		{Name: "cleanup", Run: func(tx *bstore.Tx) error {
			n, err := s.CleanupTx(tx, t0)
			if err == nil && n != 10 {
				err = fmt.Errorf("removed %d, want 10", n)
			}
			return err
		}, Type: "SuppressionExpiry", Plan: plantest.PKScan, MaxReads: 35},
	}
}

func TestQueryPlan(t *testing.T) {
	s, _ := newStore(t)
	planSeed(t, s.DB)
	completeMigration(t, s)
	plantest.Check(t, s.DB, planCases(s))
}

// completeMigration runs the cleanups that add the expiry records of
// entries written without them (planSeed inserts Entry records directly, as
// an earlier version did), at a time before anything expired, and checks
// that they removed nothing.
func completeMigration(t *testing.T, s *Store) {
	t.Helper()
	n, err := s.Cleanup(context.Background(), t0.Add(-24*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("cleanup for the migration: removed %d, %v", n, err)
	}
}

// TestQueryPlanOldSchema opens a list written before Entry had its index on
// Account alone (and still had one on ExpiresAt): bstore builds the index
// on open, and, once the first cleanup has added the expiry records, the
// queries get the same plans.
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
	completeMigration(t, s)
	plantest.Check(t, db, planCases(s))
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
