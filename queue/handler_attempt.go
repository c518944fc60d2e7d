package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/webhook"
)

// ErrAttemptStatus is returned by Attempted for a result whose Status is
// none of the AttemptStatus constants.
var ErrAttemptStatus = errors.New("queue: unknown attempt status")

// Attempted applies the outcome of one delivery attempt (one SMTP
// transaction, or the try to open one) to its messages, in the caller's
// transaction tx: one AttemptResult per message, all of one sender account.
// It does for each message what DeliveredMsgs (AttemptDelivered) or
// FailMsgs (AttemptFailed, with the result's own Err) does, but as one
// call, so the sender hears about the attempt once:
//
//   - one DSN per submission (messages with the same BaseID) and kind: the
//     failure DSN lists every recipient of the submission given up in this
//     call, the delayed DSN every recipient for which one is due, the
//     success DSN (NOTIFY=SUCCESS, see DSNRelayed) every recipient relayed
//     or expanded (RFC 3464 section 2.3: one DSN may report on several
//     recipients);
//   - the webhooks of all messages are queued together, in one Enqueue,
//     in the order of results.
//
// A failure is classified per message, so a transaction that refused some
// recipients at RCPT TO and failed the others after DATA gives each its
// own reason; the Stage of a *bounce.SMTPError decides whether the reply
// can be a hard bounce of the recipient (see bounce.Stage.AboutSender).
//
// An AttemptNotTried message is left exactly as it is: no attempt is
// counted, no result recorded, NextAttempt is unchanged, no DSN or webhook.
// Its Outcome has Result ResultQueued and its current NextAttempt. It is
// still due, so the next Due returns it again: a delivery client reports
// AttemptNotTried only for messages it will try in another transaction
// soon (a batch split by MAIL FROM, a server's recipient limit), and
// AttemptFailed with the cause when the attempt broke off for a reason
// that should delay them (a 421 in the middle of the transaction).
//
// The outcomes are in the order of results. Bad input (no results, a
// status that is not an AttemptStatus, a failed result without Err, an
// unknown delivery event, a message not in the queue or given twice,
// messages of different accounts) and an invalid RetryPolicy return an
// error before anything is changed. An error from a store, the hook queue
// or the composer is returned wrapped, as FailMsgs does; the caller must
// roll back. After commit, the caller calls Kick.
func (h *Handler) Attempted(tx *bstore.Tx, results []AttemptResult) ([]Outcome, error) {
	if len(results) == 0 {
		return nil, ErrEmptyBatch
	}
	msgs := make([]Msg, len(results))
	events := make([]webhook.OutgoingEvent, len(results))
	var anyFailed bool
	for i, r := range results {
		msgs[i] = r.Msg
		switch r.Status {
		case AttemptDelivered:
			ev, err := r.Delivery.event()
			if err != nil {
				return nil, err
			}
			events[i] = ev
		case AttemptFailed:
			if r.Err == nil {
				return nil, fmt.Errorf("%w: message %d", ErrNilError, r.Msg.ID)
			}
			anyFailed = true
		case AttemptNotTried:
		default:
			return nil, fmt.Errorf("%w: %q for message %d", ErrAttemptStatus, r.Status, r.Msg.ID)
		}
	}
	if anyFailed {
		if err := h.RetryPolicy.Validate(); err != nil {
			return nil, err
		}
	}
	cur, err := loadBatch(tx, msgs)
	if err != nil {
		return nil, err
	}

	run := h.newAttemptRun(tx, cur[0].SenderAccount)
	run.order = make(map[int64]int, len(cur))
	for i := range cur {
		run.order[cur[i].ID] = i
	}
	outcomes := make([]Outcome, len(cur))
	for i, r := range results {
		m, o := &cur[i], &outcomes[i]
		o.MsgID = m.ID
		o.Recipient = m.RecipientAddress
		switch r.Status {
		case AttemptDelivered:
			err = run.delivered(m, r.Msg, r.Delivery, events[i], o)
		case AttemptFailed:
			f := attemptFailure(r.Err)
			h.Metrics.failure(f)
			err = run.failed(m, r.Msg, f, o)
		case AttemptNotTried:
			o.Result = ResultQueued
			o.NextAttempt = m.NextAttempt
		}
		if err != nil {
			return nil, err
		}
	}
	if err := run.finish(); err != nil {
		return nil, err
	}
	return outcomes, nil
}

// attemptFailure classifies the error of a failed attempt. ErrSuppressed
// is no attempt: the message was stopped before it was sent.
func attemptFailure(err error) bounce.Failure {
	if errors.Is(err, ErrSuppressed) {
		return bounce.Failure{Reason: bounce.ReasonSuppressed, Err: err}
	}
	return bounce.Classify(err)
}

// attemptRun is one call of FailMsgs, DeliveredMsgs or Attempted: the
// sender account's settings, and what the call queues at its end (DSNs
// grouped by submission and kind, the webhooks, the give-ups that wait
// for the retry decisions of the whole batch).
type attemptRun struct {
	h        *Handler
	tx       *bstore.Tx
	now      time.Time
	account  string
	settings AccountSettings
	known    bool
	log      *slog.Logger

	dsns    dsnBatch
	hooks   hookBatch
	history historyCache
	giveUps []giveUp

	// order is each message's position in the call, by ID: the webhooks
	// go out in that order (a give-up's webhook is made in finish, after
	// the retries'), as the transaction answered the recipients.
	order map[int64]int
}

// giveUp is a message that failed for good, retired by finish.
type giveUp struct {
	m *Msg
	o *Outcome
	f bounce.Failure
}

func (h *Handler) newAttemptRun(tx *bstore.Tx, account string) *attemptRun {
	settings, known := h.account(account)
	return &attemptRun{
		h:        h,
		tx:       tx,
		now:      h.now(),
		account:  account,
		settings: settings,
		known:    known,
		log:      h.log().With(slog.String("account", account)),
	}
}

// finish retires the given-up messages, then queues the call's DSNs and
// webhooks.
func (r *attemptRun) finish() error {
	for _, g := range r.giveUps {
		if err := r.retireFailed(g.m, g.o, g.f); err != nil {
			return err
		}
	}
	if err := r.h.queueDSNs(r.tx, &r.dsns, r.account, r.known, r.now); err != nil {
		return err
	}
	if r.order != nil {
		// Stable: the events of one message keep their order.
		sort.SliceStable(r.hooks.items, func(i, j int) bool {
			return r.order[r.hooks.items[i].m.ID] < r.order[r.hooks.items[j].m.ID]
		})
	}
	return r.h.enqueueHooks(r.tx, &r.hooks, r.account, r.settings, r.now)
}
