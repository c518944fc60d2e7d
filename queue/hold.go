package queue

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mjl-/bstore"
)

// AddHoldRule stores rule (its ID is set) and holds every queued message it
// matches, in the caller's transaction. It returns the number of messages
// newly held. Add holds matching new messages from then on.
func AddHoldRule(tx *bstore.Tx, rule *HoldRule) (int, error) {
	if rule.ID != 0 {
		return 0, fmt.Errorf("queue: hold rule already has id %d", rule.ID)
	}
	rule.SenderDomain = strings.ToLower(rule.SenderDomain)
	rule.RecipientDomain = strings.ToLower(rule.RecipientDomain)
	if err := tx.Insert(rule); err != nil {
		return 0, fmt.Errorf("queue: storing hold rule: %w", err)
	}
	return SetHold(tx, MsgFilter{Account: rule.Account, SenderDomain: rule.SenderDomain, RecipientDomain: rule.RecipientDomain}, true)
}

// ListHoldRules returns all hold rules, by ID.
func ListHoldRules(tx *bstore.Tx) ([]HoldRule, error) {
	rules, err := bstore.QueryTx[HoldRule](tx).SortAsc(fieldID).List()
	if err != nil {
		return nil, fmt.Errorf("queue: listing hold rules: %w", err)
	}
	return rules, nil
}

// ErrHoldRuleNotFound is returned by RemoveHoldRule for an unknown ID.
var ErrHoldRuleNotFound = errors.New("queue: hold rule not found")

// RemoveHoldRule removes the rule with id. Messages it held stay held until
// released with SetHold, as in mox: removing a rule does not release a
// flood of messages by surprise.
func RemoveHoldRule(tx *bstore.Tx, id int64) error {
	err := tx.Delete(&HoldRule{ID: id})
	if errors.Is(err, bstore.ErrAbsent) {
		return fmt.Errorf("%w: id %d", ErrHoldRuleNotFound, id)
	} else if err != nil {
		return fmt.Errorf("queue: removing hold rule %d: %w", id, err)
	}
	return nil
}

// SetHold holds (hold true) or releases the queued messages matching filter,
// and returns how many changed. A released message keeps its NextAttempt,
// so one whose time has passed is due at once.
func SetHold(tx *bstore.Tx, filter MsgFilter, hold bool) (int, error) {
	q := filter.query(tx)
	q.FilterEqual("Hold", !hold)
	n, err := q.UpdateField("Hold", hold)
	if err != nil {
		return 0, fmt.Errorf("queue: setting hold: %w", err)
	}
	return n, nil
}
