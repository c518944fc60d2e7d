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

// Filter selects hooks for List, ListRetired, Cancel and Retry. Zero fields match
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

// errPendingReason is returned for a Filter with a RetireReason given to a
// listing of pending hooks.
var errPendingReason = errors.New("hookqueue: pending hooks have no outcome")

// List returns a page of pending hooks; see ListTx.
func (q *Queue) List(ctx context.Context, f Filter, p paging.Page) (hooks []Hook, next int64, err error) {
	err = q.read(ctx, func(tx *bstore.Tx) error {
		hooks, next, err = q.ListTx(tx, f, p)
		return err
	})
	return
}

// ListTx returns a page of the pending hooks matching f, ordered by ID,
// and the cursor of the next page (0 after the last); see package paging.
// An incoming hook's Incoming is returned without its Text and HTML, which
// stay in its HookBody: a page of hooks for a dead endpoint stays small.
func (q *Queue) ListTx(tx *bstore.Tx, f Filter, p paging.Page) ([]Hook, int64, error) {
	if f.RetireReason != "" {
		return nil, 0, errPendingReason
	}
	query := bstore.QueryTx[Hook](tx)
	applyFilter(query, f, func(h Hook) (webhook.OutgoingEvent, string, RetireReason) { return h.Event, h.URL, "" })
	return list(query, p, func(h Hook) int64 { return h.ID })
}

// ListRetired returns a page of retired hooks; see ListRetiredTx.
func (q *Queue) ListRetired(ctx context.Context, f Filter, p paging.Page) (hooks []HookRetired, next int64, err error) {
	err = q.read(ctx, func(tx *bstore.Tx) error {
		hooks, next, err = q.ListRetiredTx(tx, f, p)
		return err
	})
	return
}

// ListRetiredTx returns a page of the retired hooks matching f, ordered
// by ID, and the cursor of the next page (0 after the last); see package
// paging. With an Account filter a page reads the account's records in ID
// order from the Account index.
func (q *Queue) ListRetiredTx(tx *bstore.Tx, f Filter, p paging.Page) ([]HookRetired, int64, error) {
	query := bstore.QueryTx[HookRetired](tx)
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

// Cancel cancels the pending hooks matching f in a transaction of its own
// and wakes the worker; see CancelTx. It returns how many were canceled.
func (q *Queue) Cancel(ctx context.Context, f Filter) (n int, err error) {
	err = q.write(ctx, func(tx *bstore.Tx) error {
		n, err = q.CancelTx(tx, f)
		return err
	})
	if err != nil {
		return 0, err
	}
	if n > 0 {
		// Again after the commit: the worker may have reloaded its
		// buffer between CancelTx and the commit.
		q.markFlush()
		q.Kick()
	}
	return n, nil
}

// CancelTx removes the pending hooks matching f in the caller's writable
// transaction and retires them with RetiredCanceled. It returns how many
// were canceled. Call Kick after the commit, as after Enqueue, so the
// worker drops canceled hooks it has buffered. A hook whose request is in
// flight may still reach the endpoint; its result is then not recorded.
func (q *Queue) CancelTx(tx *bstore.Tx, f Filter) (int, error) {
	if f.RetireReason != "" {
		return 0, errPendingReason
	}
	now := q.now()
	var hooks []Hook
	query := bstore.QueryTx[Hook](tx)
	applyFilter(query, f, func(h Hook) (webhook.OutgoingEvent, string, RetireReason) { return h.Event, h.URL, "" })
	if _, err := query.Gather(&hooks).Delete(); err != nil {
		return 0, fmt.Errorf("hookqueue: removing hooks: %w", err)
	}
	for _, h := range hooks {
		if err := deleteBody(tx, h); err != nil {
			return 0, err
		}
		keep := q.keepFor(h)
		if err := insertRetired(tx, h.retire(RetiredCanceled, now, keep), keep); err != nil {
			return 0, err
		}
	}
	if len(hooks) > 0 {
		q.markFlush()
	}
	return len(hooks), nil
}

// Retry makes the pending hooks matching f due now, in a transaction of
// its own, and wakes the worker; see RetryTx. It returns how many.
func (q *Queue) Retry(ctx context.Context, f Filter) (n int, err error) {
	err = q.write(ctx, func(tx *bstore.Tx) error {
		n, err = q.RetryTx(tx, f)
		return err
	})
	if err == nil && n > 0 {
		q.Kick()
	}
	return n, err
}

// RetryTx sets NextAttempt of the pending hooks matching f to now, in the
// caller's writable transaction, and returns how many: an operator's
// "send it again now" after fixing an endpoint. Attempts made so far still
// count towards the Schedule. Call Kick after the commit.
func (q *Queue) RetryTx(tx *bstore.Tx, f Filter) (int, error) {
	if f.RetireReason != "" {
		return 0, errPendingReason
	}
	query := bstore.QueryTx[Hook](tx)
	applyFilter(query, f, func(h Hook) (webhook.OutgoingEvent, string, RetireReason) { return h.Event, h.URL, "" })
	n, err := query.UpdateField(fieldNextAttempt, q.now())
	if err != nil {
		return 0, fmt.Errorf("hookqueue: setting next attempt: %w", err)
	}
	return n, nil
}

// Cleanup removes the retired hooks whose KeepUntil has passed, in a
// transaction of its own; see CleanupTx. Run calls it every
// CleanupInterval.
func (q *Queue) Cleanup(ctx context.Context) (n int, err error) {
	now := q.now()
	err = q.write(ctx, func(tx *bstore.Tx) error {
		n, err = q.CleanupTx(tx, now)
		return err
	})
	return
}

// CleanupTx removes the retired hooks whose KeepUntil is before now, in
// the caller's writable transaction, and returns how many. It walks the
// KeepUntil index up to now, so its cost follows what it removes, not
// what is kept.
func (q *Queue) CleanupTx(tx *bstore.Tx, now time.Time) (int, error) {
	n, err := bstore.QueryTx[HookRetired](tx).FilterLess(fieldKeepUntil, now).Delete()
	if err != nil {
		return 0, fmt.Errorf("hookqueue: removing expired retired hooks: %w", err)
	}
	return n, nil
}
