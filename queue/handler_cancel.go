package queue

import (
	"fmt"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/webhook"
)

// CancelMsgs removes the queued messages matching filter, in the caller's
// transaction: each is retired with the "canceled" event (or removed, when
// its account keeps no history) and the "canceled" webhook is queued if its
// account subscribes. No DSN is sent: canceling is the sender's or an
// operator's own decision.
func (h *Handler) CancelMsgs(tx *bstore.Tx, filter MsgFilter) ([]Outcome, error) {
	msgs, err := filter.query(tx).List()
	if err != nil {
		return nil, fmt.Errorf("queue: listing messages to cancel: %w", err)
	}
	now := h.now()
	outcomes := make([]Outcome, len(msgs))
	hooks := map[string]*hookBatch{}
	var accounts []string
	for i, m := range msgs {
		settings, _ := h.account(m.SenderAccount)
		o := &outcomes[i]
		o.MsgID = m.ID
		o.Recipient = m.RecipientAddress
		o.Result = ResultCanceled
		if o.Retired, err = h.retire(tx, m, false, webhook.EventCanceled, now, settings); err != nil {
			return nil, err
		}
		if settings.subscribes(webhook.EventCanceled) {
			b := hooks[m.SenderAccount]
			if b == nil {
				b = &hookBatch{}
				hooks[m.SenderAccount] = b
				accounts = append(accounts, m.SenderAccount)
			}
			b.add(m, webhook.EventCanceled, bounce.Failure{}, false)
			o.Hook = webhook.EventCanceled
		}
	}
	for _, acc := range accounts {
		settings, _ := h.account(acc)
		if err := h.enqueueHooks(tx, hooks[acc], acc, settings, now); err != nil {
			return nil, err
		}
	}
	return outcomes, nil
}
