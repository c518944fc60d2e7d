package report

import (
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/internal/readers"
)

// MaxSize is how much of a message Read reads, in bytes. Reports carry the
// returned message, so this is generous; the rest is not read.
const MaxSize = 30 << 20

// MaxRecipients bounds the number of recipients in a Report, and of
// complained recipients in a Feedback. Further recipients are dropped (and
// Report.Truncated is set).
const MaxRecipients = 1000

// errNotBounce is returned by readBounceText for a message that does not look like
// a bounce: ordinary mail, or a feedback report (RFC 5965 ARF), which is
// about a complaint rather than a failed delivery.
var errNotBounce = errors.New("report: not a bounce")

// textReport is what the bounce text reader found in a bounce.
type textReport struct {
	// Format names the software or service whose bounce layout was
	// recognised, one of the Format constants.
	Format Format

	// Recipients holds the failed (or, in a DSN, delayed or delivered)
	// recipients in the order they appear in the bounce. It is empty for an
	// auto-reply, and may be empty when a bounce names no address we could
	// find.
	Recipients []textRecipient

	// OriginalMessageID is the Message-ID of the message the bounce is about,
	// without angle brackets, taken from the returned message or returned
	// header block. Empty if the bounce does not include it.
	OriginalMessageID string

	// AutoReply is set for an automatic reply such as a vacation or
	// out-of-office message (RFC 3834). Such a message is not a bounce and
	// must not count as a delivery failure; Recipients is empty.
	AutoReply bool

	// DSN is set when the message has a message/delivery-status part (RFC
	// 3464); the recipients were then taken from it, and the text was only
	// used to fill in missing fields.
	DSN bool

	// notification is set for a sending service's own notification
	// (parseSES).
	notification bool

	// OriginalHeader is the header of the returned message, or nil.
	OriginalHeader mail.Header

	// Truncated is set when the bounce named more than MaxRecipients
	// recipients and the rest were dropped.
	Truncated bool

	// Complaint is set, and Recipients is empty, when the message is a
	// sending service's complaint notification, not a bounce.
	Complaint *textComplaint
}

// textComplaint is a spam complaint that a sending service relays as its own
// notification rather than as an RFC 5965 feedback report: Amazon SES's
// "Complaint" event, sent by SNS to an email endpoint.
type textComplaint struct {
	// Recipients are the addresses that complained.
	Recipients []string

	// FeedbackType is the lower-case RFC 5965 feedback type the service
	// reports, such as "abuse", or empty when it gives none.
	FeedbackType string

	// UserAgent names the software that reported the complaint.
	UserAgent string
}

// textRecipient is one recipient of the original message that a bounce
// reports on, as the text reader found it.
type textRecipient struct {
	// Address is the recipient's email address as the bounce gives it. In a
	// DSN it is the Final-Recipient (RFC 3464 section 2.3.2); for a recipient
	// of a non-Internet mail system it may not contain an "@".
	Address string

	// OriginalRecipient is the Original-Recipient of a DSN (RFC 3464 section
	// 2.3.1), the address as the sender gave it, if the DSN has it.
	OriginalRecipient string

	// Action is "failed", "delayed", "delivered", "relayed" or "expanded" (RFC
	// 3464 section 2.3.3). Without a DSN part it is "failed" or "delayed",
	// judged from the codes and wording of the bounce.
	Action string

	// Status is the enhanced status code (RFC 3463), such as "5.1.1", or empty
	// when the bounce has none.
	Status string

	// Code is the SMTP reply code (RFC 5321), such as 550, or 0 when the bounce
	// has none.
	Code int

	// Diagnostic is the remote server's reply or the bounce's error sentence
	// for this recipient, with line breaks replaced by spaces. It is what a
	// classifier should search for phrases such as "user unknown".
	Diagnostic string

	// Command is the SMTP command the remote reply answered, upper case
	// ("RCPT", "DATA", "MAIL", ...), when a Sendmail-style session
	// transcript shows it (">>> RCPT To:<x@y>" then "<<< 550 ..."); else
	// empty. Postfix and Exim name the command in Diagnostic itself.
	Command string

	// Context is the lower-case text of the paragraph that names the
	// recipient, at most maxContext bytes: where Postfix writes "(in reply
	// to RCPT TO command)" and Exim "SMTP error from remote mail server
	// after RCPT TO:<...>", which the reply itself leaves out. It completes
	// the stage of a DSN recipient.
	Context string
}

// Permanent reports whether the failure is permanent (a 5.x.x status or 5xx
// reply), as opposed to temporary or a success. Without codes it follows
// Action.
func (r textRecipient) Permanent() bool {
	return r.Class() == 5
}

// Class returns the class of the outcome: 2 (success), 4 (temporary failure)
// or 5 (permanent failure). The enhanced status code wins over the reply code,
// which wins over Action.
func (r textRecipient) Class() int {
	if r.Status != "" {
		return int(r.Status[0] - '0')
	}
	if r.Code != 0 {
		return r.Code / 100
	}
	switch r.Action {
	case "delayed":
		return 4
	case "delivered", "relayed", "expanded":
		return 2
	}
	return 5
}

// message is a returned message as Read reads it: the input, its header,
// and the part tree package dsn's MIME walk made of it.
type message struct {
	r         io.ReaderAt // At most MaxSize bytes.
	header    mail.Header // Empty if it could not be read.
	headerErr error       // Why the header could not be read.
	top       *dsn.Part   // Nil for a message without any.
}

// newMessage reads the header of the message of size bytes in r (at most
// MaxSize) and walks its MIME structure with dsn.Parse, whose DSN, if any,
// it returns with the error dsn.Parse gave.
func newMessage(r io.ReaderAt, size int64) (*message, *dsn.Message, error) {
	sr := io.NewSectionReader(r, 0, max(0, min(size, MaxSize)))
	msg := &message{r: sr}
	msg.header, msg.headerErr = readHeader(sr)
	m, top, err := dsn.Parse(sr)
	msg.top = top
	return msg, m, err
}

// readHeader reads the message's own header, from the first MaxHeader
// bytes, with line endings turned into LF as the text rules see them.
func readHeader(r *io.SectionReader) (mail.Header, error) {
	br := readers.Get(&lfReader{r: io.NewSectionReader(r, 0, MaxHeader)})
	defer readers.Put(br)
	m, err := mail.ReadMessage(br)
	if err != nil {
		return mail.Header{}, err
	}
	return m.Header, nil
}

// readBounceText extracts the failed recipients, their SMTP replies and
// status codes from a bounce message. It understands RFC 3464 DSNs and the
// plain-text layouts of common mail software (see the package
// documentation).
//
// readBounceText returns errNotBounce for a message that is not a bounce (a
// feedback report included), and a textReport with AutoReply set for an
// automatic reply.
func readBounceText(msg *message) (*textReport, error) {
	r, fb, err := readTextOrFeedback(msg)
	if fb != nil {
		return nil, errNotBounce
	}
	return r, err
}

// readTextOrFeedback is readBounceText that also returns the feedback
// report (RFC 5965) found in the same parts, with errNotBounce.
func readTextOrFeedback(msg *message) (*textReport, *Feedback, error) {
	return readTextWith(msg, nil)
}

// readTextWith is readTextOrFeedback for a message whose delivery-status
// part dsn.Parse already decoded into known (nil if it did not): those
// recipients are completed from the text instead of decoding the part a
// second time.
func readTextWith(msg *message, known []dsn.Recipient) (*textReport, *Feedback, error) {
	if msg.headerErr != nil {
		return nil, nil, fmt.Errorf("report: reading message header: %w", msg.headerErr)
	}
	h := msg.header
	parts := collect(msg.r, msg.top)
	if parts.feedback || parts.hotmail != nil {
		return nil, feedbackFrom(parts), errNotBounce
	}

	text, tail := bounceText(parts.texts)
	if r, err := parseSES(text); r != nil || err != nil {
		return r, nil, err
	}
	evidence := bounceEvidence(h, parts, text)
	if !evidence {
		if isAutoReply(h) {
			return &textReport{Format: FormatAutoReply, AutoReply: true}, nil, nil
		}
		return nil, nil, errNotBounce
	}

	original := parts.original
	if h := headerBlock(tail); h != nil {
		original = append(original, h)
	}
	r := &textReport{Format: detectFormat(h, text)}
	x := newExtractor(h, text)
	rcpts, more := textRecipientsOf(known), false
	if known == nil {
		rcpts, more = parseDeliveryStatus(parts.dsn)
	}
	if len(rcpts) > 0 {
		r.DSN = true
		r.Recipients, r.Truncated = rcpts, more
		if r.Format == FormatGeneric {
			r.Format = FormatRFC3464
		}
		x.complete(r.Recipients)
	} else if rcpts, more := parseDeliveryStatusText(text); len(rcpts) > 0 {
		// Some software writes the DSN fields into the text body.
		r.Recipients, r.Truncated = rcpts, more
		x.complete(r.Recipients)
	} else {
		r.Recipients = x.recipients(original)
	}
	if len(r.Recipients) > MaxRecipients {
		r.Recipients = r.Recipients[:MaxRecipients]
		r.Truncated = true
	}
	r.OriginalMessageID = originalMessageID(original)
	if len(original) > 0 {
		r.OriginalHeader = original[0]
	}
	return r, nil, nil
}

// originalMessageID returns the Message-ID of the returned message, from a
// returned message or header part, or from the header block that bounces
// without MIME append after their text.
func originalMessageID(original []mail.Header) string {
	for _, h := range original {
		if id := cleanMessageID(h.Get("Message-Id")); id != "" {
			return id
		}
	}
	return ""
}

// headerBlock reads the returned message's header block from the text after
// a bounce's separator line, or returns nil if there is none. It is lenient:
// lines that are not header fields are skipped.
func headerBlock(tail string) mail.Header {
	if len(tail) > maxHeadLen {
		tail = tail[:maxHeadLen]
	}
	return dsn.ReadHeaderLenient(strings.NewReader(strings.TrimLeft(tail, "\n")))
}

func cleanMessageID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	if strings.ContainsAny(s, " \t") {
		return ""
	}
	return s
}

// indexFold returns the index of the ASCII string sub in s, ignoring ASCII
// case, or -1. Unlike searching strings.ToLower(s), the index is valid in s
// even if s is not valid UTF-8, and nothing is copied.
func indexFold[T string | []byte](s T, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && lowerASCII(s[i+j]) == lowerASCII(sub[j]) {
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
