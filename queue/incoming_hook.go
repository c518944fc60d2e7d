package queue

import (
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/report"
)

// IncomingMeta is what the host knows about a message it delivered to a
// local account, beyond the message itself: the SMTP transaction, the
// authentication results as the host determined them, and where it stored
// the message. It becomes webhook.Incoming's Meta.
type IncomingMeta struct {
	MsgID    int64      // ID of the message in the host's storage, for the application's later requests.
	MailFrom string     // SMTP MAIL FROM address; empty for the null sender, which also marks the message Automated.
	RcptTo   string     // SMTP RCPT TO address the message was delivered for.
	RemoteIP netip.Addr // The SMTP client's address; zero: sent as "".

	// MailFromValidated: SPF (RFC 7208) passed for the MAIL FROM domain.
	MailFromValidated bool
	// MsgFromValidated: the From header's domain is aligned with a
	// passing SPF or DKIM domain (DMARC, RFC 7489 section 3.1).
	MsgFromValidated bool
	// DKIMVerifiedDomains are the domains (d=) of the message's valid
	// DKIM signatures (RFC 6376).
	DKIMVerifiedDomains []string

	Received    time.Time // When the message was received. Zero: the Handler's now.
	MailboxName string    // Mailbox the message was delivered to. Empty: "Inbox", as mox.
}

// IncomingDelivered queues the incoming webhook for a message the host
// delivered to account: mox's incoming payload (webhook.Incoming), built
// by report.ReadIncoming from the size bytes of msg (header fields, MIME
// structure, text and HTML of at most report.MaxIncomingText bytes each)
// and meta, POSTed by the HookQueue to the account's IncomingWebhookURL,
// with its WebhookAuthorization and signed with its WebhookSecrets, like
// the outgoing events, and kept in the webhook history for KeepHooks.
//
// It writes only in tx, so a rolled-back delivery leaves no hook; call
// Kick after the commit. Nothing is queued (and msg is not read) without a
// HookQueue, for an unknown account, or for an account without
// IncomingWebhookURL. Settings that AccountSettings.Validate refuses are
// logged and counted as a skipped hook, without an error. The error of
// reading msg or of the HookQueue is returned; nothing was queued then,
// and a host that does not want its delivery to depend on the webhook may
// still commit tx.
func (h *Handler) IncomingDelivered(tx *bstore.Tx, account string, msg io.ReaderAt, size int64, meta IncomingMeta) error {
	if h.Hooks == nil {
		return nil
	}
	settings, ok := h.account(account)
	if !ok || settings.IncomingWebhookURL == "" {
		return nil
	}
	in, err := report.ReadIncoming(msg, size)
	if err != nil {
		return fmt.Errorf("queue: incoming webhook: %w", err)
	}
	now := h.now()
	in.Meta.MsgID = meta.MsgID
	in.Meta.MailFrom = meta.MailFrom
	in.Meta.MailFromValidated = meta.MailFromValidated
	in.Meta.MsgFromValidated = meta.MsgFromValidated
	in.Meta.RcptTo = meta.RcptTo
	in.Meta.DKIMVerifiedDomains = slices.Clone(meta.DKIMVerifiedDomains)
	if meta.RemoteIP.IsValid() {
		in.Meta.RemoteIP = meta.RemoteIP.String()
	}
	in.Meta.Received = meta.Received
	if in.Meta.Received.IsZero() {
		in.Meta.Received = now
	}
	in.Meta.MailboxName = meta.MailboxName
	if in.Meta.MailboxName == "" {
		in.Meta.MailboxName = "Inbox"
	}
	// RFC 5321 section 4.5.5: the null sender is used for notifications,
	// which must not be answered automatically.
	in.Meta.Automated = in.Meta.Automated || meta.MailFrom == ""
	return h.queueHooks(tx, []hookqueue.Hook{{
		Account:       account,
		URL:           settings.IncomingWebhookURL,
		Authorization: settings.WebhookAuthorization,
		Secrets:       settings.WebhookSecrets,
		Incoming:      &in,
		KeepFor:       settings.KeepHooks,
		NextAttempt:   now,
	}})
}
