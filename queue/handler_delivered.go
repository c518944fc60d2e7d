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
// subscribes, a soft suppression of the recipient is removed from the
// SuppressionStore, and for events relayed and expanded a success DSN is
// queued when NOTIFY asks for one (see DSNRelayed). The caller may set
// DialedIPs and Attempt on each message. Bad input returns an error before
// anything changes. It is Attempted with AttemptDelivered for each message.
func (h *Handler) DeliveredMsgs(tx *bstore.Tx, msgs []Msg, d Delivery) ([]Outcome, error) {
	results := make([]AttemptResult, len(msgs))
	for i, m := range msgs {
		results[i] = AttemptResult{Msg: m, Status: AttemptDelivered, Delivery: d}
	}
	return h.Attempted(tx, results)
}

// event returns the webhook event of d: Event, or "delivered" when empty.
func (d Delivery) event() (webhook.OutgoingEvent, error) {
	switch d.Event {
	case "":
		return webhook.EventDelivered, nil
	case webhook.EventDelivered, webhook.EventRelayed, webhook.EventExpanded:
		return d.Event, nil
	}
	return "", fmt.Errorf("queue: unknown delivery event %q", d.Event)
}

// delivered applies a successful attempt to m, the stored message, taking
// DialedIPs and Attempt from given, the caller's copy: the result is
// recorded, a soft suppression of the recipient removed, the message
// retired and its webhook added to the run's.
func (r *attemptRun) delivered(m *Msg, given Msg, d Delivery, event webhook.OutgoingEvent, o *Outcome) error {
	if given.DialedIPs != nil {
		m.DialedIPs = given.DialedIPs
	}
	m.Attempt = given.Attempt // For the success DSN's Remote-MTA.
	a := m.Attempt
	if a.Start.IsZero() {
		a.Start = r.now
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
	o.Result = ResultDelivered
	if s := r.h.Suppressions; s != nil {
		if _, err := s.DeliveredTx(r.tx, r.account, m.RecipientAddress); err != nil && !errors.Is(err, suppression.ErrAddress) {
			return fmt.Errorf("queue: clearing suppression of %s: %w", m.RecipientAddress, err)
		}
	}
	f := bounce.Failure{Code: d.Code, EnhancedCode: d.EnhancedCode, Lines: successLines(d.Line), Reason: bounce.ReasonDelivered}
	if kind := successDSN(event); kind != "" && dsnWanted(m, kind) {
		r.dsns.add(kind, *m, f, time.Time{})
		o.DSN = kind
	}
	var err error
	if o.Retired, err = r.h.retire(r.tx, *m, true, event, r.now, r.settings); err != nil {
		return err
	}
	if r.settings.subscribes(event) {
		r.hooks.add(*m, event, f, false)
		o.Hook = event
	}
	r.log.Info("delivered", slog.Int64("msgid", m.ID), slog.String("recipient", m.RecipientAddress), slog.String("event", string(event)))
	return nil
}

// successDSN returns the kind of success DSN a delivery with event may
// need, or "" when the next hop sends it (see DSNRelayed).
func successDSN(event webhook.OutgoingEvent) DSNKind {
	switch event {
	case webhook.EventRelayed:
		return DSNRelayed
	case webhook.EventExpanded:
		return DSNExpanded
	}
	return ""
}

// successLines returns the reply text of a delivery as Failure.Lines.
func successLines(line string) []string {
	if line == "" {
		return nil
	}
	return []string{line}
}
