package queue

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/webhook"
)

// ErrBadMsg is wrapped by Add's errors for messages that cannot be queued.
var ErrBadMsg = errors.New("queue: invalid message")

// ErrFromIDInUse is returned by Add for a message whose FromID another
// queued or retired message already has (or another message of the same
// call): a report that comes back for it could not tell them apart.
var ErrFromIDInUse = errors.New("queue: fromid already in use")

// Generated FromIDs.
const (
	fromIDBytes = 16 // Random bytes in a FromID: its entropy.

	// fromIDTries bounds the draws of a FromID no message has: with
	// fromIDBytes random bytes a collision means Rand is not random.
	fromIDTries = 10
)

// Add queues msgs, in the caller's transaction, and sets their IDs. The
// messages of one call are one submission: those without a BaseID get the
// ID of the first message as BaseID, so Due can group them into one SMTP
// transaction per recipient domain.
//
// Add fills in Queued and NextAttempt (now, unless set), RecipientDomain
// (from RecipientAddress), a random FromID when GenerateFromIDs is set, and
// Hold when a hold rule matches. A message whose recipient is on the
// account's suppression list is not queued: it is retired at once with the
// "suppressed" event and webhook, without a delivery attempt or DSN (the
// sender learns it from the outcome). Invalid messages (among them a Notify
// or Ret not in the canonical form of dsn.ParseNotify and dsn.ParseRet)
// return an error wrapping ErrBadMsg, and a FromID that is already used returns
// ErrFromIDInUse, before anything is stored.
func (h *Handler) Add(tx *bstore.Tx, msgs ...*Msg) ([]Outcome, error) {
	if len(msgs) == 0 {
		return nil, ErrEmptyBatch
	}
	for _, m := range msgs {
		if m.ID != 0 {
			return nil, fmt.Errorf("%w: message already has id %d", ErrBadMsg, m.ID)
		}
		if m.SenderAccount != msgs[0].SenderAccount {
			return nil, fmt.Errorf("%w: %q and %q", ErrMixedAccounts, msgs[0].SenderAccount, m.SenderAccount)
		}
		if err := checkDSNFields(m); err != nil {
			return nil, err
		}
		dom := addressDomain(m.RecipientAddress)
		if dom == "" || strings.LastIndexByte(m.RecipientAddress, '@') == 0 {
			return nil, fmt.Errorf("%w: recipient address %q has no localpart or domain", ErrBadMsg, m.RecipientAddress)
		}
	}
	if err := checkFromIDs(tx, msgs); err != nil {
		return nil, err
	}
	rules, err := ListHoldRules(tx)
	if err != nil {
		return nil, err
	}
	now := h.now()
	account := msgs[0].SenderAccount
	settings, _ := h.account(account)
	outcomes := make([]Outcome, len(msgs))
	var hooks hookBatch
	var baseID int64
	for i, m := range msgs {
		if m.Queued.IsZero() {
			m.Queued = now
		}
		if m.NextAttempt.IsZero() {
			m.NextAttempt = now
		}
		if m.RecipientDomain == "" {
			m.RecipientDomain = strings.ToLower(addressDomain(m.RecipientAddress))
		}
		if m.FromID == "" && h.GenerateFromIDs {
			if m.FromID, err = h.newFromID(tx); err != nil {
				return nil, err
			}
		}
		for _, r := range rules {
			if r.matches(*m) {
				m.Hold = true
				break
			}
		}
		if m.BaseID == 0 {
			m.BaseID = baseID
		}
		if err := tx.Insert(m); err != nil {
			return nil, fmt.Errorf("queue: inserting message: %w", err)
		}
		if m.BaseID == 0 {
			m.BaseID = m.ID
			if err := tx.Update(m); err != nil {
				return nil, fmt.Errorf("queue: setting base id: %w", err)
			}
		}
		if baseID == 0 {
			baseID = m.BaseID
		}
		o := &outcomes[i]
		o.MsgID = m.ID
		o.Recipient = m.RecipientAddress
		o.Result = ResultQueued
		o.NextAttempt = m.NextAttempt

		suppressed, err := h.isSuppressed(tx, account, m.RecipientAddress, now)
		if err != nil {
			return nil, err
		} else if !suppressed {
			continue
		}
		f := bounce.Failure{Reason: bounce.ReasonSuppressed, Err: ErrSuppressed}
		m.Results = append(m.Results, MsgResult{Start: now, Reason: bounce.ReasonSuppressed, Error: bounce.SuppressedText})
		o.Result = ResultSuppressed
		o.GiveUp = GiveUpSuppressed
		o.NextAttempt = m.NextAttempt
		o.Failure = f
		if o.Retired, err = h.retire(tx, *m, false, webhook.EventSuppressed, now, settings); err != nil {
			return nil, err
		}
		if settings.subscribes(webhook.EventSuppressed) {
			hooks.add(*m, webhook.EventSuppressed, f, false)
			o.Hook = webhook.EventSuppressed
		}
	}
	if err := h.enqueueHooks(tx, &hooks, account, settings, now); err != nil {
		return nil, err
	}
	return outcomes, nil
}

// checkFromIDs returns ErrFromIDInUse if a FromID given in msgs is used
// twice among them or by a queued or retired message.
func checkFromIDs(tx *bstore.Tx, msgs []*Msg) error {
	seen := map[string]bool{}
	for _, m := range msgs {
		if m.FromID == "" {
			continue
		}
		if seen[m.FromID] {
			return fmt.Errorf("%w: %q twice in one call", ErrFromIDInUse, m.FromID)
		}
		seen[m.FromID] = true
		used, err := fromIDUsed(tx, m.FromID)
		if err != nil {
			return err
		} else if used {
			return fmt.Errorf("%w: %q", ErrFromIDInUse, m.FromID)
		}
	}
	return nil
}

// fromIDUsed reports whether a queued or retired message has FromID id.
func fromIDUsed(tx *bstore.Tx, id string) (bool, error) {
	queued, err := bstore.QueryTx[Msg](tx).FilterNonzero(Msg{FromID: id}).Exists()
	if err == nil && !queued {
		var retired bool
		retired, err = bstore.QueryTx[MsgRetired](tx).FilterNonzero(MsgRetired{FromID: id}).Exists()
		queued = retired
	}
	if err != nil {
		return false, fmt.Errorf("queue: checking fromid: %w", err)
	}
	return queued, nil
}

// newFromID returns a random FromID that no queued or retired message has.
func (h *Handler) newFromID(tx *bstore.Tx) (string, error) {
	for range fromIDTries {
		id, err := h.randomID(fromIDBytes)
		if err != nil {
			return "", err
		}
		if used, err := fromIDUsed(tx, id); err != nil {
			return "", err
		} else if !used {
			return id, nil
		}
	}
	return "", fmt.Errorf("queue: no unique fromid after %d tries, is Handler.Rand random?", fromIDTries)
}
