// Package suppressiontest is the conformance suite of suppression lists: one
// set of tests that every implementation must pass, so that a list kept in
// the host's bstore database (suppression.Store) and one kept on
// PostgreSQL (package pgsuppression of the nested module
// github.com/bouncekit/bouncekit/postgres) behave the same: keys and
// normalization, upsert and merge, categories, expiry, hits, removal,
// paging and filters, counting, failures through the policy, deliveries,
// cleanup, and CSV export and import.
//
// An implementation's test calls Run with a function that opens an empty
// store whose clock is the suite's:
//
//	func TestConformance(t *testing.T) {
//		suppressiontest.Run(t, func(t *testing.T, now func() time.Time) suppressiontest.Store {
//			return &suppression.Store{DB: openDB(t), Now: now}
//		})
//	}
//
// The suite's times are whole microseconds in UTC, the resolution of
// PostgreSQL's timestamptz; stores may return them in another location.
//
// # Layout
//
//   - suppressiontest.go: Store, Stopper and Run.
//   - entries.go: adding, merging, expiry, hits, removal, deliveries,
//     failures, cleanup, concurrent adds.
//   - list.go: List, Count and their filters.
//   - csv.go: Export and Import.
package suppressiontest

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue/queuetest"
	"github.com/bouncekit/bouncekit/suppression"
)

// Store is what the suite needs of a suppression list: the methods with a
// context that suppression.Store has, with its semantics (see there).
type Store interface {
	Lookup(ctx context.Context, account, address string) (suppression.Entry, bool, error)
	Add(ctx context.Context, e suppression.Entry) (suppression.Entry, bool, error)
	Remove(ctx context.Context, account, address string) error
	List(ctx context.Context, f suppression.Filter, p paging.Page) ([]suppression.Entry, int64, error)
	Count(ctx context.Context, f suppression.Filter) (int, error)
	Process(ctx context.Context, c suppression.Check) (suppression.Decision, bool, error)
	Delivered(ctx context.Context, account, address string) (bool, error)
	Cleanup(ctx context.Context, now time.Time) (int, error)
	Export(ctx context.Context, w io.Writer, f suppression.Filter) (int, error)
	Import(ctx context.Context, r io.Reader) (suppression.ImportResult, error)
}

// Stopper is a Store that also counts hits on its own, as
// suppression.Store.StopTx does in the caller's transaction: Stop returns
// the entry in effect for address with Hits and LastHit counted, and ok
// false (counting nothing) when none is. The suite tests hits when the
// store is one.
type Stopper interface {
	Stop(ctx context.Context, account, address string) (e suppression.Entry, ok bool, err error)
}

// t0 is the time the suite's clock starts at.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is the suite's time source, queuetest's settable clock: it moves
// only when a test moves it (Advance).
type clock = queuetest.Clock

// Open opens an empty store with the given clock. It is called once per
// test of the suite, which may run in parallel with the others.
type Open func(t *testing.T, now func() time.Time) Store

// Run runs the conformance suite against the stores open opens, each test
// in its own subtest with its own store, in parallel.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store, clk *clock)
	}{
		{"AddLookup", testAddLookup},
		{"Invalid", testInvalid},
		{"Merge", testMerge},
		{"Expiry", testExpiry},
		{"Hits", testHits},
		{"Remove", testRemove},
		{"Delivered", testDelivered},
		{"Process", testProcess},
		{"Cleanup", testCleanup},
		{"ConcurrentAdd", testConcurrentAdd},
		{"ListPages", testListPages},
		{"ListFilters", testListFilters},
		{"Export", testExport},
		{"ImportRoundTrip", testImportRoundTrip},
		{"ImportMerges", testImportMerges},
		{"ImportBadRow", testImportBadRow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := queuetest.NewClock(t0)
			tc.fn(t, open(t, clk.Now), clk)
		})
	}
	// Round trip between two stores of the same kind, each with its own
	// clock.
	t.Run("ExportImport", func(t *testing.T) {
		t.Parallel()
		clk := queuetest.NewClock(t0)
		testExportImport(t, open(t, clk.Now), open(t, clk.Now), clk)
	})
}

func tcheck(t *testing.T, err error, msg string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", msg, err)
	}
}

// sameEntry reports the first difference between the stored fields of
// two entries, ignoring ID, or "" when there is none. Times compare as
// instants.
func sameEntry(got, want suppression.Entry) string {
	type field struct {
		name      string
		got, want any
	}
	for _, f := range []field{
		{"Account", got.Account, want.Account},
		{"BaseAddress", got.BaseAddress, want.BaseAddress},
		{"OriginalAddress", got.OriginalAddress, want.OriginalAddress},
		{"Reason", got.Reason, want.Reason},
		{"Category", got.Category, want.Category},
		{"Source", got.Source, want.Source},
		{"Code", got.Code, want.Code},
		{"EnhancedCode", got.EnhancedCode, want.EnhancedCode},
		{"Hits", got.Hits, want.Hits},
	} {
		if f.got != f.want {
			return fmt.Sprintf("%s: got %#v, want %#v", f.name, f.got, f.want)
		}
	}
	for _, f := range []struct {
		name      string
		got, want time.Time
	}{
		{"Created", got.Created, want.Created},
		{"LastSeen", got.LastSeen, want.LastSeen},
		{"LastHit", got.LastHit, want.LastHit},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	} {
		if !f.got.Equal(f.want) {
			return f.name + ": got " + f.got.String() + ", want " + f.want.String()
		}
	}
	return ""
}

func tentry(t *testing.T, got, want suppression.Entry, msg string) {
	t.Helper()
	if d := sameEntry(got, want); d != "" {
		t.Fatalf("%s: %s\ngot  %+v\nwant %+v", msg, d, got, want)
	}
}
