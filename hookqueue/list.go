package hookqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/webhook"
)

// Filter selects hooks for List, ListRetired and Cancel. Zero fields match
// everything; a zero Filter matches all hooks.
type Filter struct {
	IDs             []int64
	Account         string
	URL             string
	Event           webhook.OutgoingEvent
	QueueMsgID      int64
	SubmittedAfter  time.Time    // Inclusive.
	SubmittedBefore time.Time    // Exclusive.
	RetireReason    RetireReason // ListRetired only.
}

// List returns a page of pending hooks matching f, ordered by ID, and the
// cursor of the next page (0 after the last); see package paging.
func (q *Queue) List(ctx context.Context, f Filter, p paging.Page) ([]Hook, int64, error) {
	if f.RetireReason != "" {
		return nil, 0, errors.New("hookqueue: pending hooks have no outcome")
	}
	query := bstore.QueryDB[Hook](ctx, q.DB)
	applyFilter(query, f, func(h Hook) (webhook.OutgoingEvent, string, RetireReason) { return h.Event, h.URL, "" })
	return list(query, p, func(h Hook) int64 { return h.ID })
}

// ListRetired returns a page of retired hooks matching f, ordered by ID,
// and the cursor of the next page (0 after the last); see package paging.
func (q *Queue) ListRetired(ctx context.Context, f Filter, p paging.Page) ([]HookRetired, int64, error) {
	query := bstore.QueryDB[HookRetired](ctx, q.DB)
	applyFilter(query, f, func(h HookRetired) (webhook.OutgoingEvent, string, RetireReason) {
		return h.Event, h.URL, h.RetireReason
	})
	return list(query, p, func(h HookRetired) int64 { return h.ID })
}

// applyFilter adds f to query. Account and QueueMsgID go through
// FilterEqual: for Hook the Account+QueueMsgID index, for HookRetired the
// Account index, whose keys end in the ID, so a page is read in order
// without sorting the account (QueueMsgID is checked per record there).
// The rest is checked per record.
func applyFilter[T any](query *bstore.Query[T], f Filter, get func(T) (webhook.OutgoingEvent, string, RetireReason)) {
	if len(f.IDs) > 0 {
		query.FilterIDs(f.IDs)
	}
	if f.Account != "" {
		query.FilterEqual("Account", f.Account)
	}
	if f.QueueMsgID != 0 {
		query.FilterEqual("QueueMsgID", f.QueueMsgID)
	}
	if !f.SubmittedAfter.IsZero() {
		query.FilterGreaterEqual(fieldSubmitted, f.SubmittedAfter)
	}
	if !f.SubmittedBefore.IsZero() {
		query.FilterLess(fieldSubmitted, f.SubmittedBefore)
	}
	if f.Event != "" || f.URL != "" || f.RetireReason != "" {
		query.FilterFn(func(v T) bool {
			event, url, outcome := get(v)
			return (f.Event == "" || event == f.Event) &&
				(f.URL == "" || url == f.URL) &&
				(f.RetireReason == "" || outcome == f.RetireReason)
		})
	}
}

// list reads one page of query with paging.List.
func list[T any](query *bstore.Query[T], p paging.Page, id func(T) int64) ([]T, int64, error) {
	l, next, err := paging.List(query, p, id)
	if err != nil {
		return nil, 0, fmt.Errorf("hookqueue: listing: %w", err)
	}
	return l, next, nil
}

// Cancel removes pending hooks matching f and retires them with
// RetiredCanceled. It returns how many were canceled. A hook whose request
// is in flight may still reach the endpoint; its result is then not
// recorded.
func (q *Queue) Cancel(ctx context.Context, f Filter) (int, error) {
	if f.RetireReason != "" {
		return 0, errors.New("hookqueue: pending hooks have no outcome")
	}
	now := q.now()
	var n int
	err := q.DB.Write(ctx, func(tx *bstore.Tx) error {
		var hooks []Hook
		query := bstore.QueryTx[Hook](tx)
		applyFilter(query, f, func(h Hook) (webhook.OutgoingEvent, string, RetireReason) { return h.Event, h.URL, "" })
		if _, err := query.Gather(&hooks).Delete(); err != nil {
			return fmt.Errorf("hookqueue: removing hooks: %w", err)
		}
		for _, h := range hooks {
			keep := q.keepFor(h)
			if err := insertRetired(tx, h.retire(RetiredCanceled, now, keep), keep); err != nil {
				return err
			}
		}
		n = len(hooks)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		q.markFlush()
		q.Kick()
	}
	return n, nil
}

// Cleanup removes retired hooks whose KeepUntil has passed and returns how
// many. Run calls it every CleanupInterval. It walks the KeepUntil index up
// to now, so its cost follows what it removes, not what is kept.
func (q *Queue) Cleanup(ctx context.Context) (int, error) {
	n, err := bstore.QueryDB[HookRetired](ctx, q.DB).FilterLess(fieldKeepUntil, q.now()).Delete()
	if err != nil {
		return 0, fmt.Errorf("hookqueue: removing expired retired hooks: %w", err)
	}
	return n, nil
}
