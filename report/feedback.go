package report

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// Feedback is a feedback report: an RFC 5965 message/feedback-report part,
// or a sending service's complaint notification (Amazon SES) that says the
// same in its own format.
type Feedback struct {
	// Type is the lower-case Feedback-Type (RFC 5965 section 7.3): abuse,
	// fraud, virus, other, not-spam, auth-failure (RFC 6591), ..., or empty
	// when the report gives none.
	Type string

	// UserAgent names the software that wrote the report (RFC 5965
	// section 3.1).
	UserAgent string

	// OriginalRcptTo are the Original-Rcpt-To addresses (RFC 5965 section
	// 3.2), without angle brackets: the recipients that complained. For an
	// Amazon SES complaint, its complained recipients.
	OriginalRcptTo []string

	// OriginalMailFrom is the Original-Mail-From address, without angle
	// brackets.
	OriginalMailFrom string

	// ReportingMTA and SourceIP are the Reporting-MTA and Source-IP fields
	// as written (RFC 5965 section 3.2).
	ReportingMTA string
	SourceIP     string

	// MessageID and Subject are those of the returned message (RFC 5965
	// section 2, item d), the Message-ID without angle brackets, the
	// Subject with RFC 2047 encoded words decoded.
	MessageID string
	Subject   string
}

// Complaint reports whether the feedback type says the recipient does not
// want the mail. "not-spam" (a message was wrongly judged spam) and
// "auth-failure" (RFC 6591, a report about authentication) are not
// complaints; abuse, fraud, virus, other, opt-out and unknown types are, as
// hosted services treat every feedback-loop report.
func (f *Feedback) Complaint() bool {
	switch f.Type {
	case "not-spam", "auth-failure":
		return false
	}
	return true
}

// feedbackFrom builds the Feedback of a message whose MIME walk found a
// message/feedback-report part, or a returned message of Microsoft's JMRP.
func feedbackFrom(p *parts) *Feedback {
	f := parseFeedbackFields(p.fbFields)
	orig := p.fbOrig
	if !p.feedback {
		// Microsoft's JMRP in its form without a feedback part: a message
		// from staff@hotmail.com with the complained-about message
		// attached. It is always a complaint.
		f.Type, f.UserAgent = "abuse", "Hotmail FBL"
		orig = p.hotmail
	}
	if len(f.OriginalRcptTo) == 0 && p.hotmail != nil {
		f.OriginalRcptTo = []string{trimAddress(p.hotmail.Get("X-HmXmrOriginalRecipient"))}
	}
	if orig != nil {
		f.MessageID = trimMessageID(orig.Get("Message-Id"))
		f.Subject = decodeHeader(orig.Get("Subject"))
	}
	return f
}

// parseFeedbackFields reads the fields of a message/feedback-report part
// (RFC 5965 section 3.1), which have header syntax. Fields it cannot read
// are left empty: the part's presence alone makes the message a report.
func parseFeedbackFields(data []byte) *Feedback {
	data = append(bytes.TrimRight(data, "\r\n \t"), "\n\n"...)
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(data))).ReadMIMEHeader()
	f := &Feedback{
		Type:             strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type"))),
		UserAgent:        strings.TrimSpace(h.Get("User-Agent")),
		OriginalMailFrom: trimAddress(h.Get("Original-Mail-From")),
		ReportingMTA:     strings.TrimSpace(h.Get("Reporting-Mta")),
		SourceIP:         strings.TrimSpace(h.Get("Source-Ip")),
	}
	for _, v := range h.Values("Original-Rcpt-To") {
		if a := trimAddress(v); a != "" && len(f.OriginalRcptTo) < MaxRecipients {
			f.OriginalRcptTo = append(f.OriginalRcptTo, a)
		}
	}
	// Some reporters use the field name of the drafts before RFC 5965.
	for _, v := range h.Values("Removal-Recipient") {
		if a := trimAddress(v); a != "" && len(f.OriginalRcptTo) == 0 {
			f.OriginalRcptTo = append(f.OriginalRcptTo, a)
		}
	}
	return f
}

// trimAddress returns an address without spaces, angle brackets and a
// "type;" prefix.
func trimAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ';'); i >= 0 && !strings.Contains(s[:i], "@") {
		s = strings.TrimSpace(s[i+1:])
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">"))
}
