package relay

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression"
)

// store returns the shared list, judging expiry at now.
func (r *Relay) store(now time.Time) (*pgsuppression.Store, error) {
	if r.Suppressions == nil {
		return nil, fmt.Errorf("%w: no shared suppression list (Suppressions)", ErrConfig)
	}
	st := *r.Suppressions
	st.Now = func() time.Time { return now }
	return &st, nil
}

// StopTx returns the entry in effect at now for address in account, as
// queue.SuppressionStore: the entry on PostgreSQL with the node's pending
// intents for the address applied on top, so a node sees its own changes
// before the relay moved them. When an entry is in effect it writes an
// intent that counts the hit (Hits, LastHit) on PostgreSQL after commit,
// so a rolled-back call counts none.
//
// When PostgreSQL cannot be asked within LookupTimeout the pending intents
// still suppress; otherwise FailOpen decides: an error wrapping
// ErrUnavailable (the default), or not suppressed.
func (r *Relay) StopTx(tx *bstore.Tx, account, address string, now time.Time) (suppression.Entry, bool, error) {
	st, err := r.store(now)
	if err != nil {
		return suppression.Entry{}, false, err
	}
	base, err := suppression.Key(st.Normalizer, account, address)
	if err != nil {
		return suppression.Entry{}, false, err
	}
	pending, err := pendingSuppressions(tx, account, base)
	if err != nil {
		return suppression.Entry{}, false, err
	}
	// Pending intents that suppress from an empty list suppress whatever
	// the list holds: a refresh never shortens an entry or weakens its
	// category (suppression.Merge). Then PostgreSQL need not be asked.
	e, ok := fold(suppression.Entry{}, false, pending)
	if !ok || !e.Active(now) {
		ctx, cancel := context.WithTimeout(context.Background(), r.lookupTimeout())
		e, ok, err = st.Lookup(ctx, account, address)
		cancel()
		if err != nil {
			return r.unavailable(account, address, err)
		}
		e, ok = fold(e, ok, pending)
	}
	if !ok || !e.Active(now) {
		return suppression.Entry{}, false, nil
	}
	si := SuppressionIntent{Op: OpHit, Account: account, BaseAddress: base, OriginalAddress: address, Time: now}
	if err := tx.Insert(&si); err != nil {
		return suppression.Entry{}, false, fmt.Errorf("relay: writing suppression intent: %w", err)
	}
	e.Hits++
	e.LastHit = now
	return e, true, nil
}

// unavailable is StopTx's answer when PostgreSQL failed with err.
func (r *Relay) unavailable(account, address string, err error) (suppression.Entry, bool, error) {
	if r.FailOpen {
		r.log().Warn("shared suppression list unavailable, sending (fail open)",
			slog.String("account", account), slog.String("recipient", address), slog.Any("err", err))
		return suppression.Entry{}, false, nil
	}
	return suppression.Entry{}, false, fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// fold applies pending intents to the entry e (ok: there is one) as the
// relay will apply them to the shared list, with the rules of package
// suppression.
func fold(e suppression.Entry, ok bool, pending []SuppressionIntent) (suppression.Entry, bool) {
	for _, si := range pending {
		switch si.Op {
		case OpAdd:
			if ok {
				e, _ = suppression.Refresh(e, si.entry(), si.Time)
			} else {
				e, ok = si.entry(), true
			}
		case OpDelivered:
			if ok && e.Category == suppression.CategorySoftBounce {
				e, ok = suppression.Entry{}, false
			}
		case OpHit:
			if ok && e.Active(si.Time) {
				e.Hits++
				e.LastHit = si.Time
			}
		}
	}
	return e, ok
}

// UsesHistory reports whether ProcessTx's decision reads c.History (the
// shared list's Policy.UsesHistory), so the queue reads a recipient's
// history only when it matters. Without a shared list it says true.
func (r *Relay) UsesHistory(c suppression.Check) bool {
	if r.Suppressions == nil {
		return true
	}
	return r.Suppressions.Policy.UsesHistory(c)
}

// ProcessTx decides on a final failure with the shared list's Policy, as
// queue.SuppressionStore, and when the decision is to suppress writes the
// entry as an intent in tx; the relay adds it to the shared list after
// commit, and until then StopTx on this node sees it. added is true when
// no entry was in effect before: on PostgreSQL, with the node's pending
// intents applied. When PostgreSQL cannot be asked, added is judged from
// the pending intents alone and the failure is still recorded: the lookup
// never fails the caller.
func (r *Relay) ProcessTx(tx *bstore.Tx, c suppression.Check) (suppression.Decision, bool, error) {
	if c.Now.IsZero() {
		c.Now = r.now()
	}
	st, err := r.store(c.Now)
	if err != nil {
		return suppression.Decision{}, false, err
	}
	d, e := st.Policy.DecideEntry(c)
	if !d.Suppress {
		return d, false, nil
	}
	e, err = suppression.Prepare(st.Normalizer, e, c.Now)
	if err != nil {
		return d, false, err
	}
	pending, err := pendingSuppressions(tx, e.Account, e.BaseAddress)
	if err != nil {
		return d, false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.lookupTimeout())
	defer cancel()
	old, ok, err := st.Lookup(ctx, e.Account, e.OriginalAddress)
	if err != nil {
		r.log().Warn("shared suppression list unavailable, judging a new entry from pending intents",
			slog.String("account", e.Account), slog.String("recipient", e.OriginalAddress), slog.Any("err", err))
		old, ok = suppression.Entry{}, false
	}
	old, ok = fold(old, ok, pending)
	added := !ok || !old.Active(c.Now)
	si := addIntent(e, c.Now)
	if err := tx.Insert(&si); err != nil {
		return d, false, fmt.Errorf("relay: writing suppression intent: %w", err)
	}
	return d, added, nil
}

// DeliveredTx records a successful delivery, as queue.SuppressionStore: it
// writes an intent that removes a soft suppression of the address from
// the shared list after commit. It does not ask PostgreSQL, so a delivery
// is never slowed or failed by the shared list: removed reports only a
// soft entry among the node's pending intents. An address that cannot be
// normalized cannot be on the list: false and no error.
func (r *Relay) DeliveredTx(tx *bstore.Tx, account, address string) (bool, error) {
	st, err := r.store(r.now())
	if err != nil {
		return false, err
	}
	base, err := suppression.Key(st.Normalizer, account, address)
	if err != nil {
		return false, nil
	}
	pending, err := pendingSuppressions(tx, account, base)
	if err != nil {
		return false, err
	}
	e, ok := fold(suppression.Entry{}, false, pending)
	removed := ok && e.Category == suppression.CategorySoftBounce
	si := SuppressionIntent{Op: OpDelivered, Account: account, BaseAddress: base, OriginalAddress: address, Time: r.now()}
	if err := tx.Insert(&si); err != nil {
		return false, fmt.Errorf("relay: writing suppression intent: %w", err)
	}
	return removed, nil
}
