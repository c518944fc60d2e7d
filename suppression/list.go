package suppression

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
)

// Filter selects entries for List, Count and Export. Zero fields do not
// filter.
type Filter struct {
	Account  string // Empty matches every account.
	Category Category
	Source   Source

	CreatedAfter  time.Time // Created at or after.
	CreatedBefore time.Time // Created before.

	// Search matches entries whose base or original address contains it,
	// ignoring case.
	Search string

	// ActiveAt, when set, leaves out entries that have expired at that
	// time. Otherwise expired entries not yet removed by Cleanup are
	// listed too.
	ActiveAt time.Time
}

// query returns a query for the filter's fields, in no order.
func (f Filter) query(tx *bstore.Tx) *bstore.Query[Entry] {
	q := bstore.QueryTx[Entry](tx)
	if f.Account != "" {
		q.FilterEqual(FieldAccount, f.Account)
	}
	if f.Category != "" {
		q.FilterEqual(FieldCategory, f.Category)
	}
	if f.Source != "" {
		q.FilterEqual(FieldSource, f.Source)
	}
	if !f.CreatedAfter.IsZero() {
		q.FilterGreaterEqual(FieldCreated, f.CreatedAfter)
	}
	if !f.CreatedBefore.IsZero() {
		q.FilterLess(FieldCreated, f.CreatedBefore)
	}
	if f.Search != "" {
		search := strings.ToLower(f.Search)
		q.FilterFn(func(e Entry) bool {
			return strings.Contains(e.BaseAddress, search) || strings.Contains(strings.ToLower(e.OriginalAddress), search)
		})
	}
	if !f.ActiveAt.IsZero() {
		q.FilterFn(func(e Entry) bool { return e.Active(f.ActiveAt) })
	}
	return q
}

// List returns a page of entries; see ListTx.
func (s *Store) List(ctx context.Context, f Filter, p paging.Page) (entries []Entry, next int64, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		entries, next, err = s.ListTx(tx, f, p)
		return err
	})
	return
}

// ListTx returns a page of the entries matching f, ordered by ID, and the
// cursor of the next page (0 after the last). Paging is stable while
// entries are added or refreshed: IDs never change and new entries get
// higher ones, so no entry is listed twice or skipped; with p.Newest, entries
// added after the first page are not listed (start again to see them).
// With an Account filter, a page reads the account's entries in ID order
// from the index on Account, stepping over those before the cursor; see the
// package doc, Performance.
func (s *Store) ListTx(tx *bstore.Tx, f Filter, p paging.Page) ([]Entry, int64, error) {
	entries, next, err := paging.List(f.query(tx), p, func(e Entry) int64 { return e.ID })
	if err != nil {
		return nil, 0, fmt.Errorf("suppression: listing: %w", err)
	}
	return entries, next, nil
}

// Count returns the number of entries matching f; see CountTx.
func (s *Store) Count(ctx context.Context, f Filter) (n int, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		n, err = s.CountTx(tx, f)
		return err
	})
	return
}

// CountTx returns the number of entries matching f.
func (s *Store) CountTx(tx *bstore.Tx, f Filter) (int, error) {
	n, err := f.query(tx).Count()
	if err != nil {
		return 0, fmt.Errorf("suppression: counting: %w", err)
	}
	return n, nil
}
