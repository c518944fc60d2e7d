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
//
// FailMsgs is Attempted with AttemptFailed and err for each message.
func (h *Handler) FailMsgs(tx *bstore.Tx, msgs []Msg, err error) ([]Outcome, error) {
	if err == nil && len(msgs) > 0 {
		return nil, ErrNilError
	}
	results := make([]AttemptResult, len(msgs))
	for i, m := range msgs {
		results[i] = AttemptResult{Msg: m, Status: AttemptFailed, Err: err}
	}
	return h.Attempted(tx, results)
}

// failed applies a failed attempt with failure f to m, the stored message,
// taking DialedIPs and Attempt from given, the caller's copy. A message to
// retry is updated at once; one given up waits for finish, so that every
// recipient's suppression is looked up before any is changed.
func (r *attemptRun) failed(m *Msg, given Msg, f bounce.Failure, o *Outcome) error {
	if given.DialedIPs != nil {
		m.DialedIPs = given.DialedIPs
	}
	m.Attempt = given.Attempt
	start := m.Attempt.Start
	if start.IsZero() {
		start = r.now
	}
	errText := f.Text()
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
	o.Failure = f

	if errors.Is(f.Err, ErrSuppressed) {
		// Stopped before sending: no attempt is counted.
		o.Result = ResultSuppressed
		o.GiveUp = GiveUpSuppressed
		r.giveUps = append(r.giveUps, giveUp{m, o, f})
		return nil
	}
	suppressed, err := r.h.isSuppressed(r.tx, r.account, m.RecipientAddress, r.now)
	if err != nil {
		return err
	}

	in := retryInput(m, f)
	in.JitterDraw = r.h.jitterDraw()
	d := r.h.policy().Decide(in, r.now)
	m.Attempts = d.Attempts
	m.LastAttempt = start
	if suppressed {
		o.Result = ResultSuppressed
		o.GiveUp = GiveUpSuppressed
		r.giveUps = append(r.giveUps, giveUp{m, o, f})
		return nil
	}
	if !d.Retry {
		o.Result = ResultFailed
		o.GiveUp = d.GiveUp
		r.giveUps = append(r.giveUps, giveUp{m, o, f})
		return nil
	}

	o.Result = ResultRetry
	o.NextAttempt = d.NextAttempt
	m.NextAttempt = d.NextAttempt
	if d.DelayedDSNDue && dsnWanted(m, DSNDelayed) {
		m.DelayedDSNSent = true
		r.dsns.add(DSNDelayed, *m, f, d.LastAttemptAt)
		o.DSN = DSNDelayed
	}
	if err := r.tx.Update(m); err != nil {
		return fmt.Errorf("queue: updating message %d after failed attempt: %w", m.ID, err)
	}
	if r.settings.subscribes(webhook.EventDelayed) {
		r.hooks.add(*m, webhook.EventDelayed, f, false)
		o.Hook = webhook.EventDelayed
	}
	r.log.Info("temporary delivery failure, will retry", append(failureAttrs(m, f),
		slog.Int64("attempts", m.Attempts),
		slog.Time("nextattempt", m.NextAttempt),
		slog.String("error", errText))...)
	return nil
}

// retireFailed finishes a message given up by failed: the failure DSN, the
// suppression decision, retirement and the "failed" or "suppressed"
// webhook.
func (r *attemptRun) retireFailed(m *Msg, o *Outcome, f bounce.Failure) error {
	if dsnWanted(m, DSNFailed) {
		r.dsns.add(DSNFailed, *m, f, time.Time{})
		o.DSN = DSNFailed
	}
	event := webhook.EventFailed
	if o.Result == ResultSuppressed {
		event = webhook.EventSuppressed
	} else {
		added, err := r.h.processSuppression(r.tx, &r.history, *m, f, r.now)
		if err != nil {
			return err
		}
		o.Suppressing = added
	}
	retired, err := r.h.retire(r.tx, *m, false, event, r.now, r.settings)
	if err != nil {
		return err
	}
	o.Retired = retired
	if r.settings.subscribes(event) {
		r.hooks.add(*m, event, f, o.Suppressing)
		o.Hook = event
	}
	r.log.Info("delivery failed, giving up", append(failureAttrs(m, f),
		slog.String("giveup", string(o.GiveUp)),
		slog.Bool("suppressing", o.Suppressing),
		slog.String("error", f.Text()))...)
	return nil
}

// failureAttrs are the log attributes of a failure of m.
func failureAttrs(m *Msg, f bounce.Failure) []any {
	return []any{
		slog.Int64("msgid", m.ID),
		slog.String("recipient", m.RecipientAddress),
		slog.Bool("permanent", f.Permanent),
		slog.Int("code", f.Code),
		slog.String("enhancedcode", f.EnhancedCode.String()),
		slog.String("reason", string(f.Reason)),
		slog.String("stage", string(f.Stage)),
	}
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

// SplitByAccount splits msgs into batches of one sender account each, in
// the order each account first appears and the messages' own order within
// it: FailMsgs and DeliveredMsgs take one account per call.
func SplitByAccount(msgs []Msg) [][]Msg {
	var batches [][]Msg
	index := map[string]int{}
	for _, m := range msgs {
		i, ok := index[m.SenderAccount]
		if !ok {
			i = len(batches)
			index[m.SenderAccount] = i
			batches = append(batches, nil)
		}
		batches[i] = append(batches[i], m)
	}
	return batches
}
