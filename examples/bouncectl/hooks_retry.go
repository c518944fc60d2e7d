package main

import (
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
)

// retryHooks sets NextAttempt of the pending hooks matching f to now and
// returns how many. Package webhook has no retry function (yet), so the
// filter is applied here the way hookqueue.Queue.List applies it.
func retryHooks(tx *bstore.Tx, f hookqueue.Filter, now time.Time) (int, error) {
	q := bstore.QueryTx[hookqueue.Hook](tx)
	if len(f.IDs) > 0 {
		q.FilterIDs(f.IDs)
	}
	if f.Account != "" || f.QueueMsgID != 0 {
		q.FilterNonzero(hookqueue.Hook{Account: f.Account, QueueMsgID: f.QueueMsgID})
	}
	if !f.SubmittedAfter.IsZero() {
		q.FilterGreaterEqual("Submitted", f.SubmittedAfter)
	}
	if !f.SubmittedBefore.IsZero() {
		q.FilterLess("Submitted", f.SubmittedBefore)
	}
	q.FilterFn(func(h hookqueue.Hook) bool {
		return (f.Event == "" || h.Event == f.Event) && (f.URL == "" || h.URL == f.URL)
	})
	n, err := q.UpdateField("NextAttempt", now)
	if err != nil {
		return 0, fmt.Errorf("setting next attempt of webhooks: %w", err)
	}
	return n, nil
}
