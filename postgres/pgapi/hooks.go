package pgapi

import (
	"context"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webapi"
)

// A pgsuppression.Store serves the API's Suppression methods as it is.
var _ webapi.SuppressionList = (*pgsuppression.Store)(nil)

// Hooks is a riverhook.Queue as webapi.Server's webhook history
// (Server.HookHistory): the API's Hook methods list, retry and cancel the
// queue's jobs. See the package documentation for what they show.
type Hooks struct {
	Queue *riverhook.Queue // Required.
}

var _ webapi.HookHistory = Hooks{}

// List returns a page of pending hooks, as riverhook.Queue.List, in the
// form of the bstore queue's.
func (h Hooks) List(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.Hook, int64, error) {
	l, next, err := h.Queue.List(ctx, f, p)
	if err != nil {
		return nil, 0, err
	}
	hooks := make([]hookqueue.Hook, len(l))
	for i, x := range l {
		hooks[i] = x.Hook
	}
	return hooks, next, nil
}

// ListRetired returns a page of retired hooks, as
// riverhook.Queue.ListRetired, in the form of the bstore queue's.
func (h Hooks) ListRetired(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.HookRetired, int64, error) {
	l, next, err := h.Queue.ListRetired(ctx, f, p)
	if err != nil {
		return nil, 0, err
	}
	hooks := make([]hookqueue.HookRetired, len(l))
	for i, x := range l {
		hooks[i] = x.HookRetired
	}
	return hooks, next, nil
}

// Retry makes the pending hooks matching f due now, as
// riverhook.Queue.RetryPending: retired hooks stay retired, as with the
// bstore queue.
func (h Hooks) Retry(ctx context.Context, f hookqueue.Filter) (int, error) {
	return h.Queue.RetryPending(ctx, f)
}

// Cancel cancels the pending hooks matching f, as riverhook.Queue.Cancel.
func (h Hooks) Cancel(ctx context.Context, f hookqueue.Filter) (int, error) {
	return h.Queue.Cancel(ctx, f)
}
