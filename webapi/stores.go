package webapi

import (
	"context"
	"io"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/suppression"
)

// SuppressionList is the suppression list the Suppression methods read and
// change, with the semantics of suppression.Store's methods of the same
// names. Server.SuppressionList sets one kept elsewhere than in DB, e.g.
// on PostgreSQL, shared by several nodes (package pgsuppression of the
// nested module github.com/bouncekit/bouncekit/postgres).
//
// The list computes base addresses with its own Normalizer: an address it
// cannot normalize is an error wrapping suppression.ErrAddress (code
// "badAddress"), a bad entry one wrapping suppression.ErrInvalid (code
// "user"). Its own clock decides what is in effect in Lookup and the
// times Add and ImportCheck record; give it the clock of Server.Now.
type SuppressionList interface {
	// Lookup returns the entry in effect for address in account.
	Lookup(ctx context.Context, account, address string) (suppression.Entry, bool, error)

	// List returns a page of the entries matching f and the cursor of the
	// next page, 0 after the last.
	List(ctx context.Context, f suppression.Filter, p paging.Page) ([]suppression.Entry, int64, error)

	// Add adds e, or refreshes the entry of its base address; added is
	// true when no entry was in effect before.
	Add(ctx context.Context, e suppression.Entry) (entry suppression.Entry, added bool, err error)

	// Remove removes the entry of address in account, or returns
	// suppression.ErrAbsent.
	Remove(ctx context.Context, account, address string) error

	// Export writes the entries matching f as CSV (suppression.WriteCSV).
	Export(ctx context.Context, w io.Writer, f suppression.Filter) (int, error)

	// ImportCheck reads a CSV list (suppression.ReadCSV), calls check
	// with every row's entry, and adds all rows in one transaction. A bad
	// row, or an error from check, is an *suppression.ImportError and
	// nothing is written: every row is read and checked first.
	ImportCheck(ctx context.Context, r io.Reader, check func(suppression.Entry) error) (suppression.ImportResult, error)
}

// HookHistory is the webhook history the Hook methods and RetiredGet list
// and change, with the semantics of hookqueue.Queue's methods of the same
// names. Server.HookHistory sets one kept elsewhere than in DB, e.g.
// River's job table on PostgreSQL (package pgapi of the nested module
// github.com/bouncekit/bouncekit/postgres). A history must not return
// credentials the API would show: Server redacts Authorization and
// Secrets of what List returns.
type HookHistory interface {
	// List returns a page of the pending webhooks matching f and the
	// cursor of the next page.
	List(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.Hook, int64, error)

	// ListRetired returns a page of the delivered, failed and canceled
	// webhooks matching f and the cursor of the next page.
	ListRetired(ctx context.Context, f hookqueue.Filter, p paging.Page) ([]hookqueue.HookRetired, int64, error)

	// Retry makes the pending webhooks matching f due now and returns
	// how many.
	Retry(ctx context.Context, f hookqueue.Filter) (int, error)

	// Cancel retires the pending webhooks matching f as canceled and
	// returns how many.
	Cancel(ctx context.Context, f hookqueue.Filter) (int, error)
}

// bstoreList is the zero Server.SuppressionList: Server.Suppressions
// over DB, at the call's time. Each method is one transaction of DB, so
// an import is all or nothing.
type bstoreList struct {
	db    *bstore.DB
	store *suppression.Store
	now   time.Time
}

var _ SuppressionList = bstoreList{}

func read(ctx context.Context, db *bstore.DB, fn func(tx *bstore.Tx) error) error {
	if db == nil {
		return errorf(CodeServer, "server has no database")
	}
	return db.Read(ctx, fn)
}

func write(ctx context.Context, db *bstore.DB, fn func(tx *bstore.Tx) error) error {
	if db == nil {
		return errorf(CodeServer, "server has no database")
	}
	return db.Write(ctx, fn)
}

func (l bstoreList) Lookup(ctx context.Context, account, address string) (e suppression.Entry, ok bool, err error) {
	err = read(ctx, l.db, func(tx *bstore.Tx) error {
		e, ok, err = l.store.LookupTx(tx, account, address, l.now)
		return err
	})
	return e, ok, err
}

func (l bstoreList) List(ctx context.Context, f suppression.Filter, p paging.Page) (entries []suppression.Entry, next int64, err error) {
	err = read(ctx, l.db, func(tx *bstore.Tx) error {
		entries, next, err = l.store.ListTx(tx, f, p)
		return err
	})
	return entries, next, err
}

func (l bstoreList) Add(ctx context.Context, e suppression.Entry) (entry suppression.Entry, added bool, err error) {
	err = write(ctx, l.db, func(tx *bstore.Tx) error {
		entry, added, err = l.store.AddTx(tx, e, l.now)
		return err
	})
	return entry, added, err
}

func (l bstoreList) Remove(ctx context.Context, account, address string) error {
	return write(ctx, l.db, func(tx *bstore.Tx) error {
		return l.store.RemoveTx(tx, account, address)
	})
}

func (l bstoreList) Export(ctx context.Context, w io.Writer, f suppression.Filter) (n int, err error) {
	err = read(ctx, l.db, func(tx *bstore.Tx) error {
		n, err = l.store.ExportTx(tx, w, f)
		return err
	})
	return n, err
}

func (l bstoreList) ImportCheck(ctx context.Context, r io.Reader, check func(suppression.Entry) error) (res suppression.ImportResult, err error) {
	err = write(ctx, l.db, func(tx *bstore.Tx) error {
		res, err = l.store.ImportCheckTx(tx, r, l.now, check)
		return err
	})
	return res, err
}

// bstoreHooks is the zero Server.HookHistory: the listings of
// Server.Hooks's records in DB, and Server.Hooks's Retry and Cancel,
// which open their own transaction on its DB and wake its worker.
type bstoreHooks struct {
	db    *bstore.DB
	queue *hookqueue.Queue // Never nil; its DB may be.
}

var _ HookHistory = bstoreHooks{}

func (h bstoreHooks) List(ctx context.Context, f hookqueue.Filter, p paging.Page) (hooks []hookqueue.Hook, next int64, err error) {
	err = read(ctx, h.db, func(tx *bstore.Tx) error {
		hooks, next, err = h.queue.ListTx(tx, f, p)
		return err
	})
	return hooks, next, err
}

func (h bstoreHooks) ListRetired(ctx context.Context, f hookqueue.Filter, p paging.Page) (hooks []hookqueue.HookRetired, next int64, err error) {
	err = read(ctx, h.db, func(tx *bstore.Tx) error {
		hooks, next, err = h.queue.ListRetiredTx(tx, f, p)
		return err
	})
	return hooks, next, err
}

func (h bstoreHooks) Retry(ctx context.Context, f hookqueue.Filter) (int, error) {
	if h.queue.DB == nil {
		return 0, errorf(CodeNotConfigured, "the server has no webhook queue")
	}
	return h.queue.Retry(ctx, f)
}

func (h bstoreHooks) Cancel(ctx context.Context, f hookqueue.Filter) (int, error) {
	if h.queue.DB == nil {
		return 0, errorf(CodeNotConfigured, "the server has no webhook queue")
	}
	return h.queue.Cancel(ctx, f)
}
