package webhook

import (
	"encoding/json"
	"time"
)

// Incoming is the JSON body POSTed to the application when a message
// arrives for an account. Field names and meanings match mox's
// webhook.Incoming (Version 0), so a receiver written for mox decodes it
// unchanged. Lists and objects are encoded as [] and {} when empty, never
// null, as mox sends them; Date is null when the message has no valid Date
// field.
type Incoming struct {
	Version int64 // Payload format, 0.

	From    []NameAddress // From header, usually one address.
	To      []NameAddress
	CC      []NameAddress
	BCC     []NameAddress // Usually empty, also when the account was a Bcc recipient.
	ReplyTo []NameAddress // Reply-To header, usually absent.

	Subject string // RFC 2047 encoded words decoded.

	// MessageID is the Message-ID header as written, usually
	// "<random@host>" with the <>.
	MessageID string

	// InReplyTo is the In-Reply-To header as written, with <>.
	InReplyTo string

	// References are the message IDs of the References header, with <>,
	// oldest first: the last is the message this one replies to.
	References []string

	// Date is the Date header, which may differ from Meta.Received.
	Date *time.Time

	// Text and HTML are the message's first text/plain and text/html
	// content, as mail readers show it (both of a multipart/alternative),
	// decoded to UTF-8 with "\n" line endings instead of "\r\n", each cut
	// at a limit the sender documents (mox: 1 MiB).
	Text string
	HTML string

	Structure Structure    // The MIME structure of the message.
	Meta      IncomingMeta // The SMTP transaction and where the message was stored.
}

// IncomingMeta is what the receiving server knows about a message beyond
// its content: the SMTP transaction, authentication results and where the
// message was stored.
type IncomingMeta struct {
	MsgID               int64     // ID of the message in the host's storage.
	MailFrom            string    // SMTP MAIL FROM address, empty for the null sender.
	MailFromValidated   bool      // SPF (RFC 7208) passed for the MAIL FROM domain.
	MsgFromValidated    bool      // The From header's domain is aligned with a passing SPF or DKIM domain (DMARC, RFC 7489, or the same check without a record).
	RcptTo              string    // SMTP RCPT TO address the message was delivered for.
	DKIMVerifiedDomains []string  // Domains of valid DKIM signatures (RFC 6376); may differ from the addresses' domains.
	RemoteIP            string    // IP address of the SMTP client that delivered the message.
	Received            time.Time // When the message was received; may differ from the Date header.
	MailboxName         string    // Mailbox the message was delivered to, e.g. "Inbox".

	// Automated is set for a message that must not get an automatic
	// reply (RFC 3834 section 2): mail from the null sender, from a
	// mailing list, an auto-reply, or a report.
	Automated bool
}

// NameAddress is one address of an address header field.
type NameAddress struct {
	Name    string // Display name, decoded; may be empty.
	Address string // The address, localpart@domain.
}

// Structure describes one MIME part (RFC 2045, RFC 2046) of an incoming
// message, and its subparts for a multipart.
type Structure struct {
	ContentType        string            // Lower case type/subtype, e.g. "text/plain".
	ContentTypeParams  map[string]string // Content-Type parameters, lower-case keys, e.g. {"charset": "UTF-8"}.
	ContentID          string            // Content-ID header, with <>, for "cid:" references in HTML; may be empty.
	ContentDisposition string            // Lower-case Content-Disposition without parameters, e.g. "attachment", "inline", or empty.
	Filename           string            // From the Content-Disposition "filename" or the Content-Type "name" parameter, decoded.
	DecodedSize        int64             // Size after undoing the transfer encoding; for text parts, counting CRLF line endings.
	Parts              []Structure       // Subparts of a multipart.
}

// MarshalJSON writes [] and {} for nil lists and maps, as mox does, so
// receivers can iterate them without a null check.
func (in Incoming) MarshalJSON() ([]byte, error) {
	type plain Incoming // Without the method, so Marshal does not recurse.
	p := plain(in)
	for _, l := range []*[]NameAddress{&p.From, &p.To, &p.CC, &p.BCC, &p.ReplyTo} {
		if *l == nil {
			*l = []NameAddress{}
		}
	}
	if p.References == nil {
		p.References = []string{}
	}
	if p.Meta.DKIMVerifiedDomains == nil {
		p.Meta.DKIMVerifiedDomains = []string{}
	}
	return json.Marshal(p)
}

// MarshalJSON writes [] and {} for nil Parts and ContentTypeParams.
func (s Structure) MarshalJSON() ([]byte, error) {
	type plain Structure
	p := plain(s)
	if p.ContentTypeParams == nil {
		p.ContentTypeParams = map[string]string{}
	}
	if p.Parts == nil {
		p.Parts = []Structure{}
	}
	return json.Marshal(p)
}
