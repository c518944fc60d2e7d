// Package paging is the one way every bouncekit listing is paged: the
// retired messages of package queue, suppression entries, and pending and
// retired webhooks. A listing is ordered by its records' int64 IDs, which
// never change and only grow, so a cursor (the ID of the last record
// returned) gives stable pages while records are added or removed in
// between: none is listed twice or skipped.
//
// Every List takes a Page and returns the records and the cursor of the
// next page, 0 after the last:
//
//	msgs, next, err := queue.ListRetired(tx, filter, paging.Page{Limit: 50})
//	... paging.Page{After: next, Limit: 50} for the following page.
package paging

import (
	"fmt"

	"github.com/mjl-/bstore"
)

// Limits of a page.
const (
	DefaultLimit = 100  // The page size when Page.Limit is 0 or negative.
	MaxLimit     = 1000 // The largest page; a larger Limit is lowered to it.
)

// Page selects one page of a listing ordered by ID.
type Page struct {
	// After continues a listing after the record with this ID: the next
	// cursor a List returned for the previous page. 0 starts at the
	// beginning (the newest record with Newest).
	After int64

	// Limit is the page size; 0 means DefaultLimit, more than MaxLimit
	// means MaxLimit.
	Limit int

	// Newest lists the newest records (highest ID) first; otherwise the
	// oldest come first.
	Newest bool
}

// Size returns the page size Limit stands for.
func (p Page) Size() int {
	if p.Limit <= 0 {
		return DefaultLimit
	}
	return min(p.Limit, MaxLimit)
}

// List runs q (its filters set by the caller) for one page: it adds the
// cursor on the ID field and the order by ID, reads one record more than
// the page to learn whether another page follows, and returns the page
// and the next cursor (0 after the last page). id returns a record's ID.
func List[T any](q *bstore.Query[T], p Page, id func(T) int64) (records []T, next int64, err error) {
	size := p.Size()
	if p.Newest {
		if p.After > 0 {
			q.FilterLess("ID", p.After)
		}
		q.SortDesc("ID")
	} else {
		if p.After > 0 {
			q.FilterGreater("ID", p.After)
		}
		q.SortAsc("ID")
	}
	records, err = q.Limit(size + 1).List()
	if err != nil {
		return nil, 0, fmt.Errorf("paging: %w", err)
	}
	if len(records) > size {
		records = records[:size]
		next = id(records[size-1])
	}
	return records, next, nil
}
