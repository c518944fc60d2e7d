package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/queue"
	"github.com/bouncekit/bouncekit/suppression"
)

// fileBackend runs the commands on the database file (-db) with the
// library's own functions, one transaction per command: a snapshot for
// commands that read, the file itself for those that write (dbfile.go).
type fileBackend struct{ c *cli }

var _ backend = fileBackend{}

// query returns a query on Msg in tx with the filter applied, sorted by
// next attempt.
func (f *msgFilter) query(tx *bstore.Tx) *bstore.Query[queue.Msg] {
	q := bstore.QueryTx[queue.Msg](tx)
	if len(f.ids) > 0 {
		q.FilterIDs(f.ids)
	}
	// One indexed field as a bstore filter, the most selective given, the
	// others checked per message: with two, bstore would pick an index by
	// map order.
	domain := strings.ToLower(f.domain)
	switch {
	case f.recipient != "":
		q.FilterNonzero(queue.Msg{RecipientAddress: f.recipient})
	case domain != "":
		q.FilterNonzero(queue.Msg{RecipientDomain: domain})
	case f.account != "":
		q.FilterNonzero(queue.Msg{SenderAccount: f.account})
	}
	if f.account != "" || domain != "" || f.recipient != "" {
		q.FilterFn(func(m queue.Msg) bool {
			return (f.recipient == "" || m.RecipientAddress == f.recipient) &&
				(domain == "" || m.RecipientDomain == domain) &&
				(f.account == "" || m.SenderAccount == f.account)
		})
	}
	if !f.dueBefore.IsZero() {
		q.FilterLess("NextAttempt", f.dueBefore)
	}
	if !f.dueAfter.IsZero() {
		q.FilterGreaterEqual("NextAttempt", f.dueAfter)
	}
	if f.held {
		q.FilterEqual("Hold", true)
	}
	q.SortAsc("NextAttempt", "ID")
	return q
}

// match returns the messages matching f. The library's MsgFilter has no
// time range, so the selection is made here and handed to SetHold and
// CancelMsgs as IDs (libFilters), in the same transaction.
func (f *msgFilter) match(tx *bstore.Tx) ([]queue.Msg, error) {
	msgs, err := f.query(tx).List()
	if err != nil {
		return nil, fmt.Errorf("selecting messages: %w", err)
	}
	return msgs, nil
}

// libFilters returns MsgFilters selecting exactly msgs: their IDs, per
// recipient domain. A MsgFilter with only IDs fails in queue.SetHold and
// CancelMsgs (bstore's FilterNonzero needs a nonzero field), so each filter
// also names the domain, which every queued message has.
func libFilters(msgs []queue.Msg) []queue.MsgFilter {
	var filters []queue.MsgFilter
	index := map[string]int{}
	for _, m := range msgs {
		i, ok := index[m.RecipientDomain]
		if !ok {
			i = len(filters)
			index[m.RecipientDomain] = i
			filters = append(filters, queue.MsgFilter{RecipientDomain: m.RecipientDomain})
		}
		filters[i].IDs = append(filters[i].IDs, m.ID)
	}
	return filters
}

func (b fileBackend) queueList(ctx context.Context, f msgFilter, limit int) (msgs []queue.Msg, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error {
			q := f.query(tx)
			if limit > 0 {
				q.Limit(limit + 1)
			}
			msgs, err = q.List()
			return err
		})
	})
	return msgs, err
}

func (b fileBackend) queueGet(ctx context.Context, id int64) (queue.Msg, error) {
	m := queue.Msg{ID: id}
	err := b.get(ctx, &m)
	return m, err
}

// get reads the record whose primary key v holds into v; errNotFound
// when there is none.
func (b fileBackend) get(ctx context.Context, v any) error {
	err := b.c.readDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error { return tx.Get(v) })
	})
	if errors.Is(err, bstore.ErrAbsent) {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	return err
}

func (b fileBackend) queueHold(ctx context.Context, f msgFilter, hold bool) (res countJSON, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			msgs, err := f.match(tx)
			if err != nil {
				return err
			}
			res.Matched = len(msgs)
			res.IDs = make([]int64, len(msgs))
			for i, m := range msgs {
				res.IDs[i] = m.ID
			}
			for _, lf := range libFilters(msgs) {
				n, err := queue.SetHold(tx, lf, hold)
				if err != nil {
					return err
				}
				res.Changed += n
			}
			return nil
		})
	})
	return res, err
}

// handler returns the Handler that fail and cancel use: it knows no
// per-account settings but -keep, and queues no webhooks.
func (b fileBackend) handler(hf handlerFlags, db *bstore.DB) *queue.Handler {
	keep := hf.keep
	if keep == 0 {
		keep = -1 // Zero in AccountSettings means the default period.
	}
	settings := queue.AccountSettings{KeepRetired: keep}
	return &queue.Handler{
		DB:       db,
		Hostname: hf.hostname,
		Now:      b.c.now,
		Accounts: queue.AccountsFunc(func(string) (queue.AccountSettings, bool) { return settings, true }),
	}
}

func (b fileBackend) queueFail(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error) {
	// Permanent without a reply code: no remote server said anything.
	failErr := &bounce.SMTPError{Permanent: true, EnhancedCode: bounce.EnhancedCode{5, 0, 0}, Line: hf.reason}
	return b.handlerChange(ctx, f, hf, func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) (outcomes []queue.Outcome, err error) {
		for _, batch := range queue.SplitByAccount(msgs) {
			o, err := h.FailMsgs(tx, batch, failErr)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, o...)
		}
		return outcomes, nil
	})
}

func (b fileBackend) queueCancel(ctx context.Context, f msgFilter, hf handlerFlags) ([]outcomeJSON, error) {
	return b.handlerChange(ctx, f, hf, func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) (outcomes []queue.Outcome, err error) {
		for _, lf := range libFilters(msgs) {
			o, err := h.CancelMsgs(tx, lf)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, o...)
		}
		return outcomes, nil
	})
}

// handlerChange runs change on the messages f matches, with a Handler on
// the file, in one write transaction.
func (b fileBackend) handlerChange(ctx context.Context, f msgFilter, hf handlerFlags, change func(tx *bstore.Tx, h *queue.Handler, msgs []queue.Msg) ([]queue.Outcome, error)) ([]outcomeJSON, error) {
	var outcomes []queue.Outcome
	err := b.c.writeDB(ctx, func(db *bstore.DB) error {
		h := b.handler(hf, db)
		return db.Write(ctx, func(tx *bstore.Tx) error {
			msgs, err := f.match(tx)
			if err != nil {
				return err
			}
			outcomes, err = change(tx, h, msgs)
			return err
		})
	})
	return outcomesJSON(outcomes), err
}

func outcomesJSON(outcomes []queue.Outcome) []outcomeJSON {
	l := make([]outcomeJSON, len(outcomes))
	for i, o := range outcomes {
		l[i] = outcomeJSON{o.MsgID, o.Recipient, o.Result, o.DSN, o.Hook, o.Retired}
	}
	return l
}

func (b fileBackend) retiredList(ctx context.Context, f queue.RetiredFilter, p paging.Page) (msgs []queue.MsgRetired, next int64, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error {
			msgs, next, err = queue.ListRetired(tx, f, p)
			return err
		})
	})
	return msgs, next, err
}

func (b fileBackend) retiredGet(ctx context.Context, id int64) (queue.MsgRetired, error) {
	m := queue.MsgRetired{ID: id}
	err := b.get(ctx, &m)
	return m, err
}

// hooks returns the webhook queue on db.
func (b fileBackend) hooks(db *bstore.DB) *hookqueue.Queue {
	return &hookqueue.Queue{DB: db, Now: b.c.now}
}

func (b fileBackend) hookList(ctx context.Context, f hookqueue.Filter, p paging.Page) (hooks []hookqueue.Hook, next int64, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		hooks, next, err = b.hooks(db).List(ctx, f, p)
		return err
	})
	return hooks, next, err
}

func (b fileBackend) hookRetiredList(ctx context.Context, f hookqueue.Filter, p paging.Page) (hooks []hookqueue.HookRetired, next int64, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		hooks, next, err = b.hooks(db).ListRetired(ctx, f, p)
		return err
	})
	return hooks, next, err
}

func (b fileBackend) hookCancel(ctx context.Context, f hookqueue.Filter) (n int, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		n, err = b.hooks(db).Cancel(ctx, f)
		return err
	})
	return n, err
}

func (b fileBackend) hookRetry(ctx context.Context, f hookqueue.Filter) (n int, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		n, err = b.hooks(db).Retry(ctx, f)
		return err
	})
	return n, err
}

func (b fileBackend) holdRuleList(ctx context.Context) (rules []queue.HoldRule, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		return db.Read(ctx, func(tx *bstore.Tx) error {
			rules, err = queue.ListHoldRules(tx)
			return err
		})
	})
	return rules, err
}

func (b fileBackend) holdRuleAdd(ctx context.Context, r queue.HoldRule) (res holdAddJSON, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			var err error
			if r.All() {
				res.Held, err = addHoldAllRule(tx, &r)
			} else {
				res.Held, err = queue.AddHoldRule(tx, &r)
			}
			res.Rule = r
			return err
		})
	})
	return res, err
}

func (b fileBackend) holdRuleRemove(ctx context.Context, ids []int64) (missing int64, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		return db.Write(ctx, func(tx *bstore.Tx) error {
			for _, id := range ids {
				err := queue.RemoveHoldRule(tx, id)
				if errors.Is(err, queue.ErrHoldRuleNotFound) {
					missing = id
					return fmt.Errorf("%w: %w", errNotFound, err)
				} else if err != nil {
					return err
				}
			}
			return nil
		})
	})
	return missing, err
}

// addHoldAllRule does what queue.AddHoldRule does for a rule without
// fields, which fails there: its SetHold with a zero MsgFilter trips
// bstore's FilterNonzero. The rule is stored and every queued message held.
func addHoldAllRule(tx *bstore.Tx, r *queue.HoldRule) (int, error) {
	if err := tx.Insert(r); err != nil {
		return 0, fmt.Errorf("storing hold rule: %w", err)
	}
	msgs, err := bstore.QueryTx[queue.Msg](tx).FilterEqual("Hold", false).List()
	if err != nil {
		return 0, fmt.Errorf("selecting messages: %w", err)
	}
	n := 0
	for _, lf := range libFilters(msgs) {
		held, err := queue.SetHold(tx, lf, true)
		if err != nil {
			return 0, err
		}
		n += held
	}
	return n, nil
}

// store returns a suppression store on db with normalizer n (nil: default).
func (b fileBackend) store(db *bstore.DB, n *suppression.Normalizer) *suppression.Store {
	s := &suppression.Store{DB: db, Now: b.c.now}
	if n != nil {
		s.Normalizer = *n
	}
	return s
}

func (b fileBackend) suppressionList(ctx context.Context, f suppression.Filter, p paging.Page) (entries []suppression.Entry, next int64, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		entries, next, err = b.store(db, nil).List(ctx, f, p)
		return err
	})
	return entries, next, err
}

func (b fileBackend) suppressionAdd(ctx context.Context, n *suppression.Normalizer, entries []suppression.Entry) (results []addJSON, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		s := b.store(db, n)
		now := b.c.now()
		return db.Write(ctx, func(tx *bstore.Tx) error {
			for _, e := range entries {
				addr := e.OriginalAddress
				e, added, err := s.AddTx(tx, e, now)
				if errors.Is(err, suppression.ErrAddress) || errors.Is(err, suppression.ErrInvalid) {
					return badAddress("suppression add", addr, err)
				} else if err != nil {
					return err
				}
				results = append(results, addJSON{e, added})
			}
			return nil
		})
	})
	return results, err
}

func (b fileBackend) suppressionRemove(ctx context.Context, n *suppression.Normalizer, account string, addrs []string) (missing string, removed int, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		s := b.store(db, n)
		return db.Write(ctx, func(tx *bstore.Tx) error {
			for _, addr := range addrs {
				err := s.RemoveTx(tx, account, addr)
				if errors.Is(err, suppression.ErrAddress) {
					return badAddress("suppression remove", addr, err)
				} else if errors.Is(err, suppression.ErrAbsent) {
					missing = addr
					return fmt.Errorf("%w: %w", errNotFound, err)
				} else if err != nil {
					return err
				}
			}
			return nil
		})
	})
	return missing, 0, err // One transaction: all or none.
}

func (b fileBackend) suppressionImport(ctx context.Context, n *suppression.Normalizer, r io.Reader) (res suppression.ImportResult, err error) {
	err = b.c.writeDB(ctx, func(db *bstore.DB) error {
		res, err = b.store(db, n).Import(ctx, r)
		return err
	})
	return res, err
}

func (b fileBackend) suppressionExport(ctx context.Context, w io.Writer, f suppression.Filter) (n int, err error) {
	err = b.c.readDB(ctx, func(db *bstore.DB) error {
		n, err = b.store(db, nil).Export(ctx, w, f)
		return err
	})
	return n, err
}
