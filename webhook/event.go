package webhook

import "time"

// OutgoingEvent is what happened to an outgoing message, as told to the
// application in [Outgoing].Event. The values are those of mox's outgoing
// webhooks, plus [EventComplained].
type OutgoingEvent string

// Outgoing delivery events. See the package documentation for an example
// payload of each.
const (
	// EventDelivered: a next-hop server accepted the message. It may still
	// be filtered or bounce later.
	EventDelivered OutgoingEvent = "delivered"

	// EventSuppressed: the message was not sent because the recipient, or
	// its base address, is on the account's suppression list.
	EventSuppressed OutgoingEvent = "suppressed"

	// EventDelayed: an attempt failed temporarily; delivery will be tried
	// again.
	EventDelayed OutgoingEvent = "delayed"

	// EventFailed: delivery failed permanently or gave up; no more
	// attempts. Suppressing tells if the address was added to the
	// suppression list as a result.
	EventFailed OutgoingEvent = "failed"

	// EventRelayed: the message went into a system that sends no DSNs
	// (RFC 3464 action "relayed").
	EventRelayed OutgoingEvent = "relayed"

	// EventExpanded: the recipient was an alias or list and the message
	// was delivered to its members (RFC 3464 action "expanded").
	EventExpanded OutgoingEvent = "expanded"

	// EventCanceled: the message was removed from the queue by an
	// operator or the application.
	EventCanceled OutgoingEvent = "canceled"

	// EventUnrecognized: an incoming message was matched to this message
	// (e.g. through its unique MAIL FROM address) but was not understood:
	// a DSN with an unknown action, or not a DSN at all.
	EventUnrecognized OutgoingEvent = "unrecognized"

	// EventComplained: a feedback-loop report (RFC 5965, ARF) says a
	// recipient marked the message as spam. Not sent by mox.
	EventComplained OutgoingEvent = "complained"
)

// Events returns every event defined in this package, in the order of the
// constants above.
func Events() []OutgoingEvent {
	return []OutgoingEvent{EventDelivered, EventSuppressed, EventDelayed, EventFailed, EventRelayed,
		EventExpanded, EventCanceled, EventUnrecognized, EventComplained}
}

// Known reports whether e is one of the events defined in this package.
// Hosts check a configured subscription list with it.
func (e OutgoingEvent) Known() bool {
	switch e {
	case EventDelivered, EventSuppressed, EventDelayed, EventFailed, EventRelayed,
		EventExpanded, EventCanceled, EventUnrecognized, EventComplained:
		return true
	}
	return false
}

// Outgoing is the JSON body POSTed to the application for an event about an
// outgoing message. Field names and meanings match mox's webhook.Outgoing
// (Version 0), so a receiver written for mox decodes it unchanged. Reason,
// Recipient and Attempt are additions and are left out of the JSON when
// empty. Receivers should ignore fields they do not know.
type Outgoing struct {
	Version          int64             // Payload format, 0.
	Event            OutgoingEvent     // What happened.
	DSN              bool              // The event comes from an incoming delivery status notification.
	Suppressing      bool              // This failure added the recipient to the suppression list.
	QueueMsgID       int64             // ID of the message in the host's queue.
	FromID           string            // Unique ID used in the MAIL FROM address, if any.
	MessageID        string            // Message-ID header of the original message, with <>.
	Subject          string            // Subject of the original message.
	WebhookQueued    time.Time         // When the event was first queued for delivery.
	SMTPCode         int64             // For errors: the SMTP reply code, e.g. 451 or 550.
	SMTPEnhancedCode string            // For errors: the RFC 3463 enhanced code, e.g. "5.1.1".
	Error            string            // For errors: the reply text or local error.
	Extra            map[string]string // Application data attached to the message at submission.

	// Additions, not in mox.
	Reason    string `json:",omitempty"` // Classification of the failure, e.g. "userunknown", "mailboxfull".
	Recipient string `json:",omitempty"` // The RCPT TO address the event is about.
	Attempt   int64  `json:",omitempty"` // Delivery attempt of this webhook, starting at 1.

	// RemoteMTA is the host name (or IP) of the remote MTA that answered,
	// from our delivery attempt or from the DSN's Remote-MTA field, when
	// known.
	RemoteMTA string `json:",omitempty"`
	// RemoteIP is the IP address our delivery attempt connected to, when
	// known (not for events from an incoming DSN).
	RemoteIP string `json:",omitempty"`
}
