package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// SuppressionStore is the per-account suppression list, used in the
// caller's transaction. *suppression.Store implements it.
type SuppressionStore interface {
	// StopTx returns the entry in effect at now for address in account, if
	// any, and counts a hit on it: the message will not be sent.
	StopTx(tx *bstore.Tx, account, address string, now time.Time) (suppression.Entry, bool, error)

	// ProcessTx applies the suppression policy to a message that failed for
	// good, and adds or refreshes the entry when the policy says so. added
	// is true when a new entry came into effect.
	ProcessTx(tx *bstore.Tx, c suppression.Check) (d suppression.Decision, added bool, err error)

	// DeliveredTx records a successful delivery: a soft suppression of the
	// address is removed.
	DeliveredTx(tx *bstore.Tx, account, address string) (removed bool, err error)
}

var _ SuppressionStore = (*suppression.Store)(nil)

// historyUser is a SuppressionStore that tells whether its policy reads
// the recipient's history for a check (*suppression.Store does): when it
// does not, the queue does not read the history from MsgRetired. A store
// without it always gets the history.
type historyUser interface {
	UsesHistory(c suppression.Check) bool
}

var _ historyUser = (*suppression.Store)(nil)

// needsHistory reports whether ProcessTx of s may read c.History.
func needsHistory(s SuppressionStore, c suppression.Check) bool {
	hu, ok := s.(historyUser)
	return !ok || hu.UsesHistory(c)
}

// historyLimit is how many earlier outcomes for one recipient are handed to
// the suppression policy; it looks at fewer (its SoftFailures).
const historyLimit = 10

// historyCache avoids reading a recipient's history twice in one batch.
type historyCache map[string][]suppression.Prior

func (h *Handler) isSuppressed(tx *bstore.Tx, account, address string, now time.Time) (bool, error) {
	if h.Suppressions == nil {
		return false, nil
	}
	_, ok, err := h.Suppressions.StopTx(tx, account, address, now)
	if errors.Is(err, suppression.ErrAddress) {
		// Cannot be on the list; the delivery attempt will tell.
		h.log().Debug("recipient address not normalizable for suppression", slog.String("recipient", address), slog.Any("err", err))
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("queue: looking up suppression of %s: %w", address, err)
	}
	return ok, nil
}

// processSuppression passes a final failure of m to the suppression store,
// with the recipient's history from MsgRetired when the store uses it. It returns whether a new
// entry was added.
func (h *Handler) processSuppression(tx *bstore.Tx, cache *historyCache, m Msg, f bounce.Failure, now time.Time) (bool, error) {
	if h.Suppressions == nil {
		return false, nil
	}
	c := suppression.Check{
		Account:   m.SenderAccount,
		Recipient: m.RecipientAddress,
		Failure:   f,
		Source:    suppression.SourceQueue,
		Now:       now,
	}
	if needsHistory(h.Suppressions, c) {
		var err error
		if c.History, err = h.recipientHistory(tx, cache, m.SenderAccount, m.RecipientAddress); err != nil {
			return false, err
		}
	}
	d, added, err := h.Suppressions.ProcessTx(tx, c)
	if errors.Is(err, suppression.ErrAddress) {
		h.log().Debug("recipient address not normalizable for suppression", slog.String("recipient", m.RecipientAddress), slog.Any("err", err))
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("queue: processing suppression of %s: %w", m.RecipientAddress, err)
	}
	if d.Suppress {
		h.Metrics.suppressed(added)
	}
	return added, nil
}

// failure returns the classification a stored result holds, for the
// suppression policy's history and the retry policy. EnhancedCode is stored
// as a string, because bstore cannot change the type of a field existing
// databases hold; it is read back with the one parser.
func (r MsgResult) failure() bounce.Failure {
	enh, _ := bounce.ParseEnhancedCode(r.EnhancedCode) // Empty or invalid: none.
	return bounce.Failure{Permanent: r.Permanent, Code: r.Code, EnhancedCode: enh, Reason: r.Reason}
}

// recipientHistory returns the outcomes of the most recent retired messages
// of account to address, newest first, using the RecipientAddress index.
// Canceled messages are no delivery outcome and are skipped.
func (h *Handler) recipientHistory(tx *bstore.Tx, cache *historyCache, account, address string) ([]suppression.Prior, error) {
	key := account + "\x00" + address
	if *cache == nil {
		*cache = historyCache{}
	} else if hist, ok := (*cache)[key]; ok {
		return hist, nil
	}
	hist, err := loadHistory(tx, account, address, 0)
	if err != nil {
		return nil, err
	}
	(*cache)[key] = hist
	return hist, nil
}

// loadHistory returns the outcomes of the account's last historyLimit
// retired messages to address, the last queued first, leaving out
// canceled ones and the message with ID exclude. The index is on the
// address alone (its keys end in the ID), so a DSN that changes a
// message's outcome later rewrites no key of it; Policy.Decide orders
// the outcomes by their Time.
func loadHistory(tx *bstore.Tx, account, address string, exclude int64) ([]suppression.Prior, error) {
	q := bstore.QueryTx[MsgRetired](tx)
	q.FilterNonzero(MsgRetired{RecipientAddress: address})
	q.FilterFn(func(r MsgRetired) bool {
		return r.ID != exclude && r.SenderAccount == account && r.Event != webhook.EventCanceled
	})
	q.SortDesc(fieldID)
	q.Limit(historyLimit)
	var hist []suppression.Prior
	err := q.ForEach(func(r MsgRetired) error {
		o := suppression.Prior{Time: r.LastActivity, Success: r.Success}
		if lr, ok := (Msg{Results: r.Results}).LastResult(); ok && !r.Success {
			o.Failure = lr.failure()
		}
		hist = append(hist, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: reading history of %s: %w", address, err)
	}
	return hist, nil
}
