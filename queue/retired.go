package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"
)

// RetiredFilter selects retired messages for ListRetired. All nonzero fields
// must match.
type RetiredFilter struct {
	Account   string
	Recipient string    // Exact RecipientAddress.
	Event     string    // e.g. "failed", "delivered".
	Since     time.Time // LastActivity at or after.
	Before    time.Time // LastActivity before.
}

// ListRetired returns up to limit (at most 1000; <= 0 means 100) retired
// messages matching filter, highest ID (newest message) first, starting
// below the cursor: 0 for the first page, then the returned next. next is 0
// after the last page. Because IDs never change, pages stay consistent when
// messages are retired in between.
func ListRetired(tx *bstore.Tx, filter RetiredFilter, cursor int64, limit int) (msgs []MsgRetired, next int64, err error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := bstore.QueryTx[MsgRetired](tx)
	if filter.Account != "" || filter.Recipient != "" || filter.Event != "" {
		// bstore refuses FilterNonzero without a nonzero field.
		q.FilterNonzero(MsgRetired{SenderAccount: filter.Account, RecipientAddress: filter.Recipient, Event: filter.Event})
	}
	if cursor > 0 {
		q.FilterLess(fieldID, cursor)
	}
	if !filter.Since.IsZero() {
		q.FilterGreaterEqual(fieldLastActivity, filter.Since)
	}
	if !filter.Before.IsZero() {
		q.FilterLess(fieldLastActivity, filter.Before)
	}
	q.SortDesc(fieldID)
	q.Limit(limit + 1)
	msgs, err = q.List()
	if err != nil {
		return nil, 0, fmt.Errorf("queue: listing retired messages: %w", err)
	}
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[limit-1].ID
	}
	return msgs, next, nil
}

// CleanupRetired removes retired messages whose KeepUntil is before now and
// returns how many. Handler.Run calls it periodically.
func CleanupRetired(tx *bstore.Tx, now time.Time) (int, error) {
	q := bstore.QueryTx[MsgRetired](tx)
	q.FilterLess(fieldKeepUntil, now)
	n, err := q.Delete()
	if err != nil {
		return 0, fmt.Errorf("queue: removing expired retired messages: %w", err)
	}
	return n, nil
}
