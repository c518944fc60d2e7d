package dsn

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Action is the per-recipient Action field: what the reporting MTA did with
// the message for that recipient. RFC 3464 section 2.3.3.
type Action string

// The action values of RFC 3464 section 2.3.3.
const (
	ActionFailed    Action = "failed"    // Could not be delivered, no further attempts.
	ActionDelayed   Action = "delayed"   // Not yet delivered, attempts continue.
	ActionDelivered Action = "delivered" // Delivered to the recipient's mailbox.
	ActionRelayed   Action = "relayed"   // Handed to a system that does not send DSNs.
	ActionExpanded  Action = "expanded"  // Delivered, and forwarded to further recipients.
)

// Valid reports whether a is one of the five RFC 3464 actions.
func (a Action) Valid() bool {
	switch a {
	case ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded:
		return true
	}
	return false
}

// Ret says how much of the original message a composed DSN returns, like the
// RET parameter of the SMTP DSN extension (RFC 3461 section 4.3).
type Ret string

const (
	// RetDefault returns the full message if it is at most MaxOriginal bytes,
	// and its header otherwise.
	RetDefault Ret = ""
	// RetFull asks for the full message; a message larger than MaxOriginal is
	// still returned as header only.
	RetFull Ret = "FULL"
	// RetHeaders returns only the header of the original message.
	RetHeaders Ret = "HDRS"
)

// DefaultMaxOriginal is the largest original message Compose returns in full
// when Message.MaxOriginal is zero.
const DefaultMaxOriginal = 100 * 1024

// Address types of RFC 3464 section 2.1.2 and RFC 6533 section 3.
const (
	AddressTypeRFC822 = "rfc822"
	AddressTypeUTF8   = "utf-8"
)

// Message is a delivery status notification: the header of the DSN message,
// the human-readable text, the per-message fields and one or more
// per-recipient fields of RFC 3464 section 2, and the original message.
//
// For Compose, fill in what you know; the fields marked required must be set.
// Parse fills in what the peer sent.
type Message struct {
	// Header of the DSN message itself.
	From      string    // Required. Address of the reporting postmaster, e.g. "postmaster@mx.example.org".
	To        string    // Required. Envelope sender of the original message.
	Subject   string    // Decoded; Compose encodes it when needed.
	MessageID string    // Required. Message-ID of the DSN, with or without angle brackets.
	Date      time.Time // Required for Compose; zero after Parse if absent or unparsable.

	// OriginalMessageID is the Message-ID of the message the DSN is about, with
	// angle brackets. Compose writes it into In-Reply-To and References so mail
	// user agents thread the DSN with the original. Parse takes it from the
	// returned message or header part.
	OriginalMessageID string
	// References are further message-ids (as in a References header) that
	// Compose writes before OriginalMessageID. Not set by Parse.
	References string

	// SMTPUTF8 selects RFC 6533 internationalized output: utf-8 addresses,
	// message/global-delivery-status and message/global(-headers), 8-bit text.
	// Without it the output is 7-bit. Parse sets it for a
	// message/global-delivery-status part.
	SMTPUTF8 bool

	// TextBody is the human-readable explanation, the first MIME part. Lines
	// may end in "\n" or "\r\n". Parse decodes at most MaxTextBody bytes.
	TextBody string

	// Per-message fields, RFC 3464 section 2.2.
	OriginalEnvelopeID   string    // ENVID from the SMTP DSN extension, RFC 3461 section 4.4.
	ReportingMTA         string    // Required for Compose. Host name of the MTA writing the DSN.
	DSNGateway           string    // Host name of a gateway that translated a foreign notice.
	ReceivedFromMTA      string    // Host name of the MTA the original came from.
	ArrivalDate          time.Time // When the original arrived at the reporting MTA.
	FutureReleaseRequest string    // RFC 4865 FUTURERELEASE value, "for;..." or "until;...".

	// Extra holds the per-message fields that Parse did not interpret
	// (X- extension fields, or a date it could not read), keyed by canonical
	// field name. Compose ignores it.
	Extra map[string][]string

	// Recipients holds one entry per recipient; Compose requires at least one.
	Recipients []Recipient
	// Truncated is set by Parse and Decode when the delivery-status part
	// named more than MaxRecipients recipients: Recipients holds the first
	// MaxRecipients, and the rest of the part was not read. Compose ignores
	// it.
	Truncated bool

	// Original is the original message (header and body) or only its header,
	// returned as the third part. Line endings may be "\n" or "\r\n". Nil
	// means no third part. Not set by Parse: use the returned Part to read it.
	Original []byte
	// Ret chooses between the full message and its header only. Parse sets it
	// to RetFull or RetHeaders from the third part's type, RetDefault if there
	// is no such part.
	Ret Ret
	// MaxOriginal is the largest Original returned in full; larger messages
	// are returned as header only. Zero means DefaultMaxOriginal, negative
	// means always header only.
	MaxOriginal int
}

// Recipient holds the per-recipient fields of RFC 3464 section 2.3.
type Recipient struct {
	// FinalRecipient is the recipient address the reporting MTA acted on
	// (RCPT TO). Required. Section 2.3.2.
	FinalRecipient string
	// FinalRecipientType is the address type, lower-case: "rfc822", "utf-8",
	// "unknown", ... Compose uses "rfc822", or "utf-8" for a non-ASCII address
	// (also when "rfc822" is set, RFC 6533 section 3).
	FinalRecipientType string
	// OriginalRecipient is the address from the ORCPT parameter, already
	// decoded from xtext. Section 2.3.1.
	OriginalRecipient     string
	OriginalRecipientType string // As FinalRecipientType.

	Action Action // Required. Parse maps "expired" to ActionFailed.

	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1". Parse keeps
	// only the code of a value like "5.0.0 (permanent failure)" and puts the
	// comment in StatusComment. Compose writes 5.0.0, 4.0.0 or 2.0.0 by
	// action when empty. Section 2.3.4.
	Status        string
	StatusComment string

	// RemoteMTA is the host name of the MTA that returned DiagnosticCode.
	// Section 2.3.5.
	RemoteMTA string
	// RemoteIP is the IP address of RemoteMTA, if known. Compose writes it
	// as a comment after the name, "dns; mx.example.net (192.0.2.1)", if
	// RemoteMTA is set; Parse reads it from that form and from Courier's
	// "dns; mx.example.net [192.0.2.1]".
	RemoteIP netip.Addr
	// DiagnosticType is the lower-case diagnostic type, such as "smtp",
	// "x-postfix" or "x-unix". Empty means "smtp" to Compose. Section 2.3.6.
	DiagnosticType string
	// DiagnosticCode is the diagnostic text, e.g. the SMTP reply. For Compose,
	// the lines of a multi-line reply are separated by "\n", each with its
	// reply code and continuation mark as the remote sent them ("451-4.7.1
	// ...\n451 4.7.1 ..."), and written as folded lines; Parse unfolds,
	// joining them with a space.
	DiagnosticCode string

	LastAttemptDate time.Time // Section 2.3.7.
	FinalLogID      string    // Section 2.3.8.
	WillRetryUntil  time.Time // For delayed deliveries, section 2.3.9.

	// Extra holds the per-recipient fields that Parse did not interpret, keyed
	// by canonical field name. Compose ignores it.
	Extra map[string][]string
}

// ErrNotDSN is returned by Parse for a message that has no
// message/delivery-status or message/global-delivery-status part.
var ErrNotDSN = errors.New("dsn: not a delivery status notification")

// ErrNoRecipients is returned by Decode and Parse, together with the
// Message, for a delivery-status part that has no per-recipient fields. Some
// MTAs send such DSNs and describe the recipients only in the text; the
// per-message fields and OriginalMessageID may still be of use.
var ErrNoRecipients = errors.New("dsn: delivery-status without per-recipient fields")

// FieldError describes a delivery-status field that could not be used.
type FieldError struct {
	Recipient int    // 1-based recipient number; 0 for a per-message field.
	Field     string // Field name, lower-case.
	Err       error
}

func (e *FieldError) Error() string {
	if e.Recipient > 0 {
		return fmt.Sprintf("dsn: recipient %d: %s: %v", e.Recipient, e.Field, e.Err)
	}
	return fmt.Sprintf("dsn: %s: %v", e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }
