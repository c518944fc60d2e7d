package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/webhook"
)

// DSNComposer writes the DSN message for a request. The Handler's default,
// used when Handler.DSNComposer is nil, composes an RFC 3464 multipart/report with
// package dsn and English text.
type DSNComposer interface {
	ComposeDSN(req DSNRequest) ([]byte, error)
}

// DSNComposerFunc adapts a function to DSNComposer.
type DSNComposerFunc func(req DSNRequest) ([]byte, error)

// ComposeDSN calls f.
func (f DSNComposerFunc) ComposeDSN(req DSNRequest) ([]byte, error) { return f(req) }

// DSNDeliverer takes a composed DSN out of the outbox after the transaction
// that queued it was committed: into a local mailbox, a Maildir, or back into
// the queue with a null sender. Handler.Run calls it, and retries with
// backoff when it returns an error. It may be called more than once for the
// same DSN (after a crash between delivery and the outbox update); the
// DSN's MessageID stays the same, so receivers can deduplicate.
type DSNDeliverer interface {
	DeliverDSN(ctx context.Context, d OutboxDSN) error
}

// DSNDelivererFunc adapts a function to DSNDeliverer.
type DSNDelivererFunc func(ctx context.Context, d OutboxDSN) error

// DeliverDSN calls f.
func (f DSNDelivererFunc) DeliverDSN(ctx context.Context, d OutboxDSN) error { return f(ctx, d) }

// MessageOpener opens the stored message data of a queued message, so a DSN
// can return its headers (RET=HDRS, the default) or all of it (RET=FULL).
type MessageOpener interface {
	OpenMessage(tx *bstore.Tx, m Msg) (io.ReadCloser, error)
}

// MessageOpenerFunc adapts a function to MessageOpener.
type MessageOpenerFunc func(tx *bstore.Tx, m Msg) (io.ReadCloser, error)

// OpenMessage calls f.
func (f MessageOpenerFunc) OpenMessage(tx *bstore.Tx, m Msg) (io.ReadCloser, error) { return f(tx, m) }

// Accounts looks up the settings of a local account. ok is false for an
// unknown account: DSNs for its messages then go to the postmaster account.
type Accounts interface {
	Account(name string) (settings AccountSettings, ok bool)
}

// AccountsFunc adapts a function to Accounts.
type AccountsFunc func(name string) (AccountSettings, bool)

// Account calls f.
func (f AccountsFunc) Account(name string) (AccountSettings, bool) { return f(name) }

// AccountSettings are the per-account settings the Handler needs.
type AccountSettings struct {
	// WebhookURL receives the account's outgoing-delivery webhooks. Empty:
	// no webhooks for this account.
	WebhookURL string

	// WebhookEvents lists the events the account subscribes to, e.g.
	// webhook.EventDelayed, webhook.EventFailed. Empty means all events
	// (as in mox). Validate refuses a name webhook.OutgoingEvent.Known
	// does not know.
	WebhookEvents []webhook.OutgoingEvent

	// IncomingWebhookURL receives a webhook for each message delivered to
	// the account (Handler.IncomingDelivered), with mox's incoming payload
	// (webhook.Incoming). Empty: none. WebhookAuthorization and
	// WebhookSecrets apply to it too.
	IncomingWebhookURL string

	// WebhookAuthorization is sent as the Authorization header, if set.
	WebhookAuthorization string

	// WebhookSecrets are Standard Webhooks signing secrets ("whsec_...").
	// Several at once support key rotation.
	WebhookSecrets []string

	// KeepRetired is how long messages that left the queue are kept as
	// MsgRetired, for matching later DSNs, history and the suppression
	// policy's count of consecutive failures. Zero: DefaultKeepRetired, or
	// the retry policy's MaxAge plus a week when that is longer, so a DSN
	// that arrives after another MTA gave up can still be matched.
	// Negative: retired messages are deleted at once (mox's default).
	KeepRetired time.Duration

	// KeepHooks is how long delivered webhooks are kept in the webhook
	// history (hookqueue.Hook.KeepFor). Zero: the webhook queue's default;
	// negative: not kept.
	KeepHooks time.Duration
}

// DefaultKeepRetired is how long retired messages are kept for an account
// whose KeepRetired is zero, unless the retry policy's MaxAge plus a week is
// longer. A bounce can come back long after our attempt: the next MTA keeps
// the message in its own queue for up to its queue lifetime (5 days by
// default in Postfix and Exim) before it reports a failure.
const DefaultKeepRetired = 14 * 24 * time.Hour

// lateReportMargin is added to the retry policy's MaxAge for the default
// keep period: a week for a report to arrive after the last attempt.
const lateReportMargin = 7 * 24 * time.Hour

// keepRetired returns how long a message of an account with settings s is
// kept after it left the queue; zero means not kept.
func (h *Handler) keepRetired(s AccountSettings) time.Duration {
	switch {
	case s.KeepRetired < 0:
		return 0
	case s.KeepRetired > 0:
		return s.KeepRetired
	}
	keep := DefaultKeepRetired
	if age := h.policy().effective().MaxAge; age > 0 && age+lateReportMargin > keep {
		keep = age + lateReportMargin
	}
	return keep
}

// Errors of AccountSettings.Validate, for errors.Is. An error for a bad URL
// or secret also wraps hookqueue.ErrInvalidURL or webhook.ErrInvalidSecret.
var (
	ErrWebhookURL    = errors.New("queue: invalid webhook url")
	ErrWebhookSecret = errors.New("queue: invalid webhook secret")
	ErrWebhookEvent  = errors.New("queue: unknown webhook event")
)

// Validate returns an error for settings whose webhooks cannot be queued:
// a WebhookURL or IncomingWebhookURL that is not an http or https URL
// with a host (ErrWebhookURL), a malformed signing secret (ErrWebhookSecret), an
// unknown name in WebhookEvents (ErrWebhookEvent). A host should call it
// when an account's settings change. The Handler calls it before queueing
// an account's webhooks: with invalid settings it logs a warning, counts
// the hooks as skipped in Metrics and queues none, and the delivery
// bookkeeping goes on, so bad webhook settings never make a delivered
// message stay queued.
func (s AccountSettings) Validate() error {
	if s.WebhookURL == "" && s.IncomingWebhookURL == "" {
		return nil
	}
	if s.WebhookURL != "" {
		if err := hookqueue.CheckURL(s.WebhookURL); err != nil {
			return fmt.Errorf("%w: %w", ErrWebhookURL, err)
		}
	}
	if s.IncomingWebhookURL != "" {
		if err := hookqueue.CheckURL(s.IncomingWebhookURL); err != nil {
			return fmt.Errorf("%w: incoming: %w", ErrWebhookURL, err)
		}
	}
	for i, secret := range s.WebhookSecrets {
		if err := webhook.CheckSecret(secret); err != nil {
			return fmt.Errorf("%w: secret %d: %w", ErrWebhookSecret, i, err)
		}
	}
	for _, e := range s.WebhookEvents {
		if !e.Known() {
			return fmt.Errorf("%w: %q", ErrWebhookEvent, e)
		}
	}
	return nil
}

// subscribes reports whether the account wants webhooks for event.
func (s AccountSettings) subscribes(event webhook.OutgoingEvent) bool {
	if s.WebhookURL == "" {
		return false
	}
	if len(s.WebhookEvents) == 0 {
		return true
	}
	for _, e := range s.WebhookEvents {
		if e == event {
			return true
		}
	}
	return false
}
