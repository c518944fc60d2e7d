package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/report"
	"github.com/bouncekit/bouncekit/webhook"
)

// IncomingKind says what ProcessIncoming found an incoming message to be.
type IncomingKind string

// Kinds of incoming message.
const (
	IncomingDSN       IncomingKind = "dsn"       // An RFC 3464 delivery status notification.
	IncomingBounce    IncomingKind = "bounce"    // A bounce without a delivery-status part (qmail, Exim, Exchange, ...), read from its text.
	IncomingFeedback  IncomingKind = "feedback"  // An RFC 5965 feedback report (ARF), e.g. a spam complaint.
	IncomingAutoReply IncomingKind = "autoreply" // An automatic reply (RFC 3834), e.g. a vacation message; never a bounce.
	IncomingOther     IncomingKind = "other"     // None of the above.
)

// Match says how an incoming report was matched to an outgoing message.
type Match string

// Ways of matching, in the order they are tried.
const (
	MatchNone      Match = ""          // Not matched.
	MatchFromID    Match = "fromid"    // The report came to the message's unique MAIL FROM (see Msg.MailFrom).
	MatchEnvID     Match = "envid"     // Original-Envelope-Id equals the message's EnvID (RFC 3461 ENVID).
	MatchMessageID Match = "messageid" // The returned message's Message-ID and the recipient.
	MatchRecipient Match = "recipient" // A feedback report's Original-Rcpt-To only: the last queued message to it.

	// MatchSoleRecipient: the report names one recipient that no message
	// has (an alias or a forward reported under its final address), or
	// is a feedback report that names none, and the message found by
	// FromID, ENVID or Message-ID was the only recipient of its
	// submission, so nothing else can be meant. IncomingOutcome.Detail
	// says how it was found.
	MatchSoleRecipient Match = "solerecipient"
)

// IncomingResult is what ProcessIncoming did with an incoming message.
type IncomingResult struct {
	Kind IncomingKind

	// Format names how the message was read (package report): a standard
	// DSN (report.FormatRFC3464), a feedback report (report.FormatARF),
	// an auto-reply, the software whose bounce layout was recognised
	// (report.FormatQmail, report.FormatPostfix, ...), a bounce read by
	// the generic rules (report.FormatGeneric), or empty; for logs and
	// statistics.
	Format report.Format

	// MessageID is the incoming message's own Message-ID, without <>.
	MessageID string

	// FromID is the FromID found in the rcptTo address when it matched a
	// message, else empty.
	FromID string

	// Recipients has one outcome per recipient the report is about (one
	// for a feedback report, an auto-reply or other mail matched by
	// FromID); empty for other mail that matched nothing.
	Recipients []IncomingOutcome

	// Truncated is set when the report named more than
	// MaxIncomingRecipients recipients; the rest were ignored.
	Truncated bool
}

// IncomingOutcome is the outcome for one recipient of an incoming report.
type IncomingOutcome struct {
	// Recipient is the address the report is about (Final-Recipient,
	// Original-Rcpt-To, or the matched message's recipient).
	Recipient string

	// Event is what happened, as a webhook event: failed, delayed,
	// delivered, relayed, expanded, complained or unrecognized.
	Event webhook.OutgoingEvent

	// Match says how the message was found; MsgID is its ID (0 when not
	// matched). Queued is true when the message is still in the queue
	// rather than retired.
	Match  Match
	MsgID  int64
	Queued bool

	// Failure is the classified result reported for the recipient: reply
	// code, enhanced status code and reason. Reason is "feedback" for a
	// complaint and "vacation" for an auto-reply.
	Failure bounce.Failure

	// Detail says, for unrecognized, what was found and why it was not
	// used; for MatchSoleRecipient, the address the report named and how
	// the message was found.
	Detail string

	// Hook is the webhook event queued; empty when none was (the account
	// does not subscribe, or Duplicate).
	Hook webhook.OutgoingEvent

	// Suppressing is true when this report added the recipient to the
	// suppression list.
	Suppressing bool

	// Duplicate is true when the same report (the same Message-ID) was
	// processed for this recipient before: nothing was changed.
	Duplicate bool
}

// ErrEmptyMessage is returned by ProcessIncoming for empty input.
var ErrEmptyMessage = errors.New("queue: empty incoming message")

// logAttrs returns the attributes for logging o.
func (o IncomingOutcome) logAttrs() []any {
	return []any{
		slog.String("recipient", o.Recipient),
		slog.String("event", string(o.Event)),
		slog.String("match", string(o.Match)),
		slog.Int64("msgid", o.MsgID),
		slog.Int("code", o.Failure.Code),
		slog.String("enhancedcode", o.Failure.EnhancedCode.String()),
		slog.String("reason", string(o.Failure.Reason)),
		slog.Bool("duplicate", o.Duplicate),
		slog.String("detail", o.Detail),
	}
}

// ProcessIncoming handles a message that arrived for a bounce or FromID
// address of account, or that looks like a delivery report, in the
// caller's transaction: it matches each recipient the report is about to
// the outgoing message it concerns, and records the outcome like FailMsgs
// and DeliveredMsgs do.
//
// rcptTo is the envelope recipient the message was delivered to; when its
// localpart holds Handler.CatchallSeparator followed by a known FromID
// (see Msg.MailFrom), that message's submission is searched, and nothing
// else. account limits matching to messages sent by that account; empty
// means any account (a server-wide bounce mailbox). msg is the whole
// message; at most package report's 30 MB are searched for text bounces.
//
// A report changes only the messages whose recipient it names. Per
// recipient of a DSN or bounce, the message is the one to that address
// (RCPT TO or ORCPT, against Final-Recipient or Original-Recipient) among
// the messages of the FromID's submission, else among those with the
// report's ENVID (Msg.EnvID), else among those with the returned
// message's Message-ID. A report about an address no message has (an
// alias, a forward) matches only where nothing else can be meant: it names
// one recipient, one message was found, and that message was the only
// recipient of its submission, as far as kept history shows (never for an
// account that keeps no retired messages); the outcome's Match is then
// MatchSoleRecipient. Then:
//
//   - failed: a MsgResult with DSN set is added to the message, with the
//     reason classified from the Diagnostic-Code and Status; the
//     SuppressionStore decides as in FailMsgs (with source "dsn"); a
//     retired message becomes "failed"; the "failed" webhook has DSN set.
//   - delayed, delivered, relayed, expanded: the result is added and the
//     webhook of that name is queued; delivered clears a soft suppression.
//   - not matched: the "unrecognized" webhook, to account, with what was
//     found.
//
// A feedback report (RFC 5965) adds a complaint suppression for its
// Original-Rcpt-To or the matched message's recipient and queues the
// "complained" webhook. Its message is the one to the Original-Rcpt-To
// among those of the FromID or the returned Message-ID; else, with
// Handler.Remote, another node's found by the same keys (MatchRemote);
// else the last queued message of account to that address (MatchRecipient).
// A report that redacts the recipient matches only a message that was
// the only recipient of its submission, here or (MatchRemote) on another
// node. An auto-reply or other mail that matches a FromID
// queues "unrecognized" (reason "vacation" for an auto-reply); other mail
// that matches nothing changes nothing and returns Kind IncomingOther.
//
// Processing is idempotent: a report with the same Message-ID (or, without
// one, the same content) is recognized per recipient and changes nothing
// the second time (Duplicate). The key is kept in the result the report
// adds to the matched message (MsgResult.Report) when that message stays
// at least a week longer, else as a record of its own (stored as
// SeenReport; databases of an earlier version also hold IncomingSeen
// records, still read until they expire), whose types must be registered
// with the database (see DBTypes).
//
// Errors are returned only for bad arguments and for failures of the
// database or the stores, after which the caller must roll back. A message
// that cannot be read or matched is never an error.
func (h *Handler) ProcessIncoming(tx *bstore.Tx, account, rcptTo string, msg []byte) (IncomingResult, error) {
	if len(msg) == 0 {
		return IncomingResult{}, ErrEmptyMessage
	}
	if tx == nil {
		return IncomingResult{}, fmt.Errorf("queue: nil transaction")
	}
	rep := parseIncoming(msg)
	res := IncomingResult{Kind: rep.kind, Format: rep.format, MessageID: rep.messageID, Truncated: rep.truncated}
	p := &incomingRun{
		h:       h,
		tx:      tx,
		account: account,
		rep:     rep,
		msg:     msg,
		now:     h.now(),
	}
	if err := p.run(rcptTo, &res); err != nil {
		return IncomingResult{}, err
	}
	h.Metrics.incomingReport(res)
	h.logIncoming(account, res)
	return res, nil
}

// logIncoming logs the outcomes of a report. The attributes are built
// only for a logger that records them (with no Logger, none does): they
// are built inside the caller's transaction.
func (h *Handler) logIncoming(account string, res IncomingResult) {
	log := h.log()
	ctx := context.Background()
	info := len(res.Recipients) > 0 && log.Enabled(ctx, slog.LevelInfo)
	warn := res.Truncated && log.Enabled(ctx, slog.LevelWarn)
	if !info && !warn {
		return
	}
	log = log.With(
		slog.String("account", account),
		slog.String("kind", string(res.Kind)),
		slog.String("format", string(res.Format)),
		slog.String("messageid", res.MessageID),
	)
	for _, o := range res.Recipients {
		log.Info("incoming report", o.logAttrs()...)
	}
	if res.Truncated {
		log.Warn("incoming report has too many recipients, ignoring the rest", slog.Int("max", MaxIncomingRecipients))
	}
}

// addrEqual compares two addresses, ignoring case, spaces, angle brackets
// and an address type prefix ("rfc822;").
func addrEqual(a, b string) bool {
	a, b = trimAngle(a), trimAngle(b)
	return a != "" && strings.EqualFold(a, b)
}

// trimAngle returns an address without spaces, angle brackets and a
// "type;" prefix.
func trimAngle(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && !strings.Contains(s[:i], "@") {
		s = strings.TrimSpace(s[i+1:])
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
}
