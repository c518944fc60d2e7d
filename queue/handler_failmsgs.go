package queue

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/webhook"
)

// ErrSuppressed may be passed to FailMsgs by a delivery loop that found the
// recipient on the suppression list before trying: the messages are given
// up at once with the "suppressed" event, without counting an attempt.
var ErrSuppressed = errors.New("queue: recipient is suppressed")

// FailMsgs handles a failed delivery attempt of msgs, in the caller's
// transaction tx. The messages were tried together (one SMTP transaction,
// one recipient domain) and must belong to one sender account. err is the
// error of the attempt; bounce.Classify turns it into a bounce.Failure.
//
// Before calling, the caller may set DialedIPs and Attempt on each message;
// everything else is read from the database. Per message, FailMsgs records a
// MsgResult and asks the RetryPolicy:
//
//   - retry: Attempts, LastAttempt and NextAttempt are updated; the delayed
//     DSN is queued once, at the first failure at which the policy says it
//     is due, if the sender can get it (see below); the "delayed" webhook
//     is queued.
//   - give up (permanent, attempts exhausted, expired, or the recipient is
//     suppressed): the failure DSN is queued if the sender can get it, the
//     SuppressionStore decides whether to suppress the recipient, the
//     message is retired (or removed, if the account keeps no history) and
//     the "failed" or "suppressed" webhook is queued.
//
// A DSN never goes to the null sender or about a message that is itself a
// DSN (RFC 5321 section 4.5.5, RFC 3461 section 6.2), only of the kinds
// NOTIFY asks for (RFC 3461 section 4.1; without NOTIFY, failure and
// delay), and for DMARC and TLS reports only on failure, to the postmaster.
//
// Bad input (an empty batch, a nil err, mixed accounts, a message not in the
// queue) and an invalid RetryPolicy (see RetryPolicy.Validate) return an
// error before anything is changed. An error from a store, the hook
// queue or the composer is returned wrapped, naming that boundary and the
// message or address (errors.Is finds the original); the caller must roll
// back. After commit, the caller calls Kick so Run delivers queued DSNs.
func (h *Handler) FailMsgs(tx *bstore.Tx, msgs []Msg, err error) ([]Outcome, error) {
	if len(msgs) == 0 {
		return nil, ErrEmptyBatch
	}
	if err == nil {
		return nil, ErrNilError
	}
	if perr := h.RetryPolicy.Validate(); perr != nil {
		return nil, perr
	}
	cur, xerr := loadBatch(tx, msgs)
	if xerr != nil {
		return nil, xerr
	}

	now := h.now()
	f := bounce.Classify(err)
	noAttempt := errors.Is(err, ErrSuppressed)
	if noAttempt {
		f = bounce.Failure{Reason: bounce.ReasonSuppressed, Err: err}
	}
	errText := f.Text()
	account := cur[0].SenderAccount
	settings, known := h.account(account)
	policy := h.policy()
	log := h.log().With(
		slog.String("account", account),
		slog.Bool("permanent", f.Permanent),
		slog.Int("code", f.Code),
		slog.String("enhancedcode", f.EnhancedCode.String()),
		slog.String("reason", string(f.Reason)),
	)
	h.Metrics.failure(f)

	outcomes := make([]Outcome, len(cur))
	var dsns dsnBatch
	var hooks hookBatch
	var giveUps []int
	for i := range cur {
		m := &cur[i]
		if msgs[i].DialedIPs != nil {
			m.DialedIPs = msgs[i].DialedIPs
		}
		m.Attempt = msgs[i].Attempt
		start := m.Attempt.Start
		if start.IsZero() {
			start = now
		}
		m.Results = append(m.Results, MsgResult{
			Start:        start,
			Duration:     m.Attempt.Duration,
			Permanent:    f.Permanent,
			Code:         f.Code,
			EnhancedCode: f.EnhancedCode.String(),
			Reason:       f.Reason,
			Error:        errText,
			RemoteMTA:    m.Attempt.RemoteMTA,
		})
		o := &outcomes[i]
		o.MsgID = m.ID
		o.Recipient = m.RecipientAddress
		o.Failure = f

		if noAttempt {
			o.Result = ResultSuppressed
			o.GiveUp = GiveUpSuppressed
			giveUps = append(giveUps, i)
			continue
		}
		suppressed, serr := h.isSuppressed(tx, account, m.RecipientAddress, now)
		if serr != nil {
			return nil, serr
		}

		in := retryInput(m, f)
		in.JitterDraw = h.jitterDraw()
		d := policy.Decide(in, now)
		m.Attempts = d.Attempts
		m.LastAttempt = start
		if suppressed {
			o.Result = ResultSuppressed
			o.GiveUp = GiveUpSuppressed
			giveUps = append(giveUps, i)
			continue
		}
		if !d.Retry {
			o.Result = ResultFailed
			o.GiveUp = d.GiveUp
			giveUps = append(giveUps, i)
			continue
		}

		o.Result = ResultRetry
		o.NextAttempt = d.NextAttempt
		m.NextAttempt = d.NextAttempt
		if d.DelayedDSNDue && dsnWanted(m, DSNDelayed) {
			m.DelayedDSNSent = true
			dsns.add(DSNDelayed, *m, f, d.LastAttemptAt)
			o.DSN = DSNDelayed
		}
		if err := tx.Update(m); err != nil {
			return nil, fmt.Errorf("queue: updating message %d after failed attempt: %w", m.ID, err)
		}
		if settings.subscribes(webhook.EventDelayed) {
			hooks.add(*m, webhook.EventDelayed, f, false)
			o.Hook = webhook.EventDelayed
		}
		log.Info("temporary delivery failure, will retry",
			slog.Int64("msgid", m.ID),
			slog.String("recipient", m.RecipientAddress),
			slog.Int64("attempts", m.Attempts),
			slog.Time("nextattempt", m.NextAttempt),
			slog.String("error", errText))
	}

	if len(giveUps) > 0 {
		var history historyCache
		for _, i := range giveUps {
			m := &cur[i]
			o := &outcomes[i]
			if dsnWanted(m, DSNFailed) {
				dsns.add(DSNFailed, *m, f, time.Time{})
				o.DSN = DSNFailed
			}
			event := webhook.EventFailed
			if o.Result == ResultSuppressed {
				event = webhook.EventSuppressed
			} else {
				added, err := h.processSuppression(tx, &history, *m, f, now)
				if err != nil {
					return nil, err
				}
				o.Suppressing = added
			}
			retired, err := h.retire(tx, *m, false, event, now, settings)
			if err != nil {
				return nil, err
			}
			o.Retired = retired
			if settings.subscribes(event) {
				hooks.add(*m, event, f, o.Suppressing)
				o.Hook = event
			}
			log.Info("delivery failed, giving up",
				slog.Int64("msgid", m.ID),
				slog.String("recipient", m.RecipientAddress),
				slog.String("giveup", string(o.GiveUp)),
				slog.Bool("suppressing", o.Suppressing),
				slog.String("error", errText))
		}
	}

	if err := h.queueDSNs(tx, &dsns, account, known, now); err != nil {
		return nil, err
	}
	if err := h.enqueueHooks(tx, &hooks, account, settings, now); err != nil {
		return nil, err
	}
	return outcomes, nil
}

// loadBatch reads the current version of each message from the database,
// checking that the batch is valid: all present, no duplicates, one
// account.
func loadBatch(tx *bstore.Tx, msgs []Msg) ([]Msg, error) {
	cur := make([]Msg, len(msgs))
	seen := make(map[int64]bool, len(msgs))
	for i, m := range msgs {
		if seen[m.ID] {
			return nil, fmt.Errorf("queue: message %d twice in batch", m.ID)
		}
		seen[m.ID] = true
		cur[i] = Msg{ID: m.ID}
		if err := tx.Get(&cur[i]); errors.Is(err, bstore.ErrAbsent) {
			return nil, fmt.Errorf("%w: id %d", ErrMsgNotFound, m.ID)
		} else if err != nil {
			return nil, fmt.Errorf("queue: reading message %d: %w", m.ID, err)
		}
		if cur[i].SenderAccount != cur[0].SenderAccount {
			return nil, fmt.Errorf("%w: %q and %q", ErrMixedAccounts, cur[0].SenderAccount, cur[i].SenderAccount)
		}
	}
	return cur, nil
}

// retryInput returns what the retry policy decides from after a failed
// attempt of m with failure f. m.Attempts does not count the attempt yet;
// m.Results may hold its result already.
func retryInput(m *Msg, f bounce.Failure) RetryInput {
	return RetryInput{
		Attempt:          retryIncrement(max(m.Attempts, 0)),
		Queued:           m.Queued,
		MaxAttempts:      m.MaxAttempts,
		GreylistedBefore: greylistedBefore(m.Results, m.Attempts),
		Failure:          f,
	}
}
