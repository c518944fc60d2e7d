package queue

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/suppression"
	"github.com/bouncekit/bouncekit/webhook"
)

// Delivery describes a successful delivery attempt, for DeliveredMsgs.
type Delivery struct {
	// Event is "delivered" (the default when empty), "relayed" (handed to a
	// system that sends no DSNs, RFC 3464 action relayed) or "expanded"
	// (delivered to an alias or list's members).
	Event webhook.OutgoingEvent

	Code         int                 // The SMTP reply code, e.g. 250.
	EnhancedCode bounce.EnhancedCode // The enhanced status code, e.g. {2, 0, 0}.
	Line         string              // The reply text.
}

// DeliveredMsgs handles a successful delivery of msgs (one sender account),
// in the caller's transaction: per message a MsgResult is recorded, the
// message is retired (or removed, when the account keeps no history), the
// "delivered" (or Delivery.Event) webhook is queued if the account
// subscribes, and a soft suppression of the recipient is removed from the
// SuppressionStore. The caller may set DialedIPs and Attempt on each
// message. Bad input returns an error before anything changes.
func (h *Handler) DeliveredMsgs(tx *bstore.Tx, msgs []Msg, d Delivery) ([]Outcome, error) {
	if len(msgs) == 0 {
		return nil, ErrEmptyBatch
	}
	event := d.Event
	switch event {
	case "":
		event = webhook.EventDelivered
	case webhook.EventDelivered, webhook.EventRelayed, webhook.EventExpanded:
	default:
		return nil, fmt.Errorf("queue: unknown delivery event %q", d.Event)
	}
	cur, err := loadBatch(tx, msgs)
	if err != nil {
		return nil, err
	}
	now := h.now()
	account := cur[0].SenderAccount
	settings, _ := h.account(account)
	f := bounce.Failure{Code: d.Code, EnhancedCode: d.EnhancedCode, Reason: bounce.ReasonDelivered}
	outcomes := make([]Outcome, len(cur))
	var hooks hookBatch
	for i := range cur {
		m := &cur[i]
		if msgs[i].DialedIPs != nil {
			m.DialedIPs = msgs[i].DialedIPs
		}
		a := msgs[i].Attempt
		if a.Start.IsZero() {
			a.Start = now
		}
		m.Attempts++
		m.LastAttempt = a.Start
		m.Results = append(m.Results, MsgResult{
			Start:        a.Start,
			Duration:     a.Duration,
			Success:      true,
			Code:         d.Code,
			EnhancedCode: d.EnhancedCode.String(),
			Reason:       bounce.ReasonDelivered,
			Error:        d.Line,
			RemoteMTA:    a.RemoteMTA,
		})
		o := &outcomes[i]
		o.MsgID = m.ID
		o.Recipient = m.RecipientAddress
		o.Result = ResultDelivered
		if h.Suppressions != nil {
			if _, err := h.Suppressions.DeliveredTx(tx, account, m.RecipientAddress); err != nil && !errors.Is(err, suppression.ErrAddress) {
				return nil, fmt.Errorf("queue: clearing suppression of %s: %w", m.RecipientAddress, err)
			}
		}
		if o.Retired, err = h.retire(tx, *m, true, event, now, settings); err != nil {
			return nil, err
		}
		if settings.subscribes(event) {
			hooks.add(*m, event, f, false)
			o.Hook = event
		}
		h.log().Info("delivered", slog.Int64("msgid", m.ID), slog.String("recipient", m.RecipientAddress), slog.String("event", string(event)))
	}
	if err := h.enqueueHooks(tx, &hooks, account, settings, now); err != nil {
		return nil, err
	}
	return outcomes, nil
}
