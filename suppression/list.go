package suppression

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mjl-/bstore"
)

// Limits of List.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
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

	// Newest lists the newest entries (highest ID) first. Otherwise the
	// oldest come first.
	Newest bool

	// Cursor continues a listing after the entry with this ID: pass the Next
	// of the previous Page. Count and Export ignore it.
	Cursor int64

	// Limit is the page size of List; 0 means DefaultListLimit, larger
	// than MaxListLimit means MaxListLimit. Count and Export ignore it.
	Limit int
}

// Page is one page of List.
type Page struct {
	Entries []Entry

	// Next is the Cursor for the following page; 0 when this is the last.
	Next int64
}

// query returns a query for the filter fields other than Cursor and Limit.
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
	if f.Newest {
		q.SortDesc(FieldID)
	} else {
		q.SortAsc(FieldID)
	}
	return q
}

// List returns a page of entries; see ListTx.
func (s *Store) List(ctx context.Context, f Filter) (p Page, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		p, err = s.ListTx(tx, f)
		return err
	})
	return
}

// ListTx returns a page of the entries matching f, ordered by ID. Paging
// with Cursor is stable while entries are added or refreshed: IDs never
// change and new entries get higher ones, so no entry is listed twice or
// skipped; with Newest, entries added after the first page are not listed
// (start again to see them). With an Account filter, a page reads the
// account's entries in ID order from the index on Account, stepping over
// those before the cursor; see the package doc, Performance.
func (s *Store) ListTx(tx *bstore.Tx, f Filter) (Page, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	q := f.query(tx)
	if f.Cursor != 0 {
		if f.Newest {
			q.FilterLess(FieldID, f.Cursor)
		} else {
			q.FilterGreater(FieldID, f.Cursor)
		}
	}
	entries, err := q.Limit(limit + 1).List()
	if err != nil {
		return Page{}, fmt.Errorf("suppression: listing: %w", err)
	}
	var p Page
	if len(entries) > limit {
		entries = entries[:limit]
		p.Next = entries[limit-1].ID
	}
	p.Entries = entries
	return p, nil
}

// Count returns the number of entries matching f; see CountTx.
func (s *Store) Count(ctx context.Context, f Filter) (n int, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		n, err = s.CountTx(tx, f)
		return err
	})
	return
}

// CountTx returns the number of entries matching f, ignoring its Cursor and
// Limit.
func (s *Store) CountTx(tx *bstore.Tx, f Filter) (int, error) {
	n, err := f.query(tx).Count()
	if err != nil {
		return 0, fmt.Errorf("suppression: counting: %w", err)
	}
	return n, nil
}
