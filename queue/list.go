package queue

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
)

// ListFilter selects queued messages for ListMsgs and MatchMsgs: the
// fields of MsgFilter, and the next attempt's time and the hold state.
// All nonzero fields must match.
type ListFilter struct {
	MsgFilter
	DueBefore time.Time // NextAttempt before.
	DueAfter  time.Time // NextAttempt at or after.
	Held      bool      // Only held messages.
}

// query returns MsgFilter's query with the other fields checked per
// record, so the index MsgFilter chose is the only one read.
func (f ListFilter) query(tx *bstore.Tx) *bstore.Query[Msg] {
	q := f.MsgFilter.query(tx)
	if !f.DueBefore.IsZero() || !f.DueAfter.IsZero() || f.Held {
		q.FilterFn(func(m Msg) bool {
			return (f.DueBefore.IsZero() || m.NextAttempt.Before(f.DueBefore)) &&
				(f.DueAfter.IsZero() || !m.NextAttempt.Before(f.DueAfter)) &&
				(!f.Held || m.Hold)
		})
	}
	return q
}

// ListMsgs returns one page of the queued messages matching filter in ID
// order (the order they were queued in), oldest first or newest first
// with p.Newest, and the cursor of the next page, 0 after the last; see
// package paging.
func ListMsgs(tx *bstore.Tx, filter ListFilter, p paging.Page) ([]Msg, int64, error) {
	msgs, next, err := paging.List(filter.query(tx), p, func(m Msg) int64 { return m.ID })
	if err != nil {
		return nil, 0, fmt.Errorf("queue: listing messages: %w", err)
	}
	return msgs, next, nil
}

// MatchMsgs returns all queued messages matching filter, in ID order: the
// selection of a change that is then made by ID (SetHold, CancelMsgs,
// FailMsgs, Reschedule) in the same transaction.
func MatchMsgs(tx *bstore.Tx, filter ListFilter) ([]Msg, error) {
	msgs, err := filter.query(tx).SortAsc(fieldID).List()
	if err != nil {
		return nil, fmt.Errorf("queue: selecting messages: %w", err)
	}
	return msgs, nil
}
