package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

// RetiredFilter selects retired messages for ListRetired. All nonzero fields
// must match.
type RetiredFilter struct {
	Account   string
	Recipient string                // Exact RecipientAddress.
	Event     webhook.OutgoingEvent // e.g. webhook.EventFailed.
	Since     time.Time             // LastActivity at or after.
	Before    time.Time             // LastActivity before.
}

// ListRetired returns one page of the retired messages matching filter,
// in ID order (the order they were retired in): oldest first, or newest
// first with p.Newest. It returns the cursor of the next page, 0 after the
// last, as every bouncekit listing does (package paging). Because IDs never
// change, pages stay consistent when messages are retired in between.
//
// One index serves the query, chosen by the filter, not by bstore's map
// order: with Recipient the RecipientAddress index, else with Account the
// SenderAccount index (the keys of both end in the ID, so they are read in
// ID order without sorting), else the primary key
// from the cursor on. The other fields are checked per record, so a page
// costs its length divided by the share of the records read that match: an
// Event or time filter that matches few of an account's messages reads more
// of them. With Account, a page also steps over the account's messages
// before the cursor (bstore seeks an index only by its named fields, and an
// index naming ID is built wrongly for existing records by bstore v0.0.11),
// so deep pages of a large account cost their depth.
func ListRetired(tx *bstore.Tx, filter RetiredFilter, p paging.Page) ([]MsgRetired, int64, error) {
	q := bstore.QueryTx[MsgRetired](tx)
	switch {
	case filter.Recipient != "":
		q.FilterNonzero(MsgRetired{RecipientAddress: filter.Recipient})
	case filter.Account != "":
		q.FilterNonzero(MsgRetired{SenderAccount: filter.Account})
	}
	f := filter
	if f.Recipient != "" && f.Account != "" || f.Event != "" || !f.Since.IsZero() || !f.Before.IsZero() {
		q.FilterFn(func(r MsgRetired) bool {
			return (f.Account == "" || r.SenderAccount == f.Account) &&
				(f.Event == "" || r.Event == f.Event) &&
				(f.Since.IsZero() || !r.LastActivity.Before(f.Since)) &&
				(f.Before.IsZero() || r.LastActivity.Before(f.Before))
		})
	}
	msgs, next, err := paging.List(q, p, func(r MsgRetired) int64 { return r.ID })
	if err != nil {
		return nil, 0, fmt.Errorf("queue: listing retired messages: %w", err)
	}
	return msgs, next, nil
}

// CleanupRetired removes retired messages whose KeepUntil is before now and
// returns how many. Handler.Run calls it periodically. It walks the
// KeepUntil index from its start and stops at now, so its cost follows
// what it removes, not what is kept.
func CleanupRetired(tx *bstore.Tx, now time.Time) (int, error) {
	q := bstore.QueryTx[MsgRetired](tx)
	q.FilterLess(fieldKeepUntil, now)
	n, err := q.Delete()
	if err != nil {
		return 0, fmt.Errorf("queue: removing expired retired messages: %w", err)
	}
	return n, nil
}
