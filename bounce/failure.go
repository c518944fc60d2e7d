package bounce

import (
	"errors"
	"strconv"
	"strings"
)

// Failure is the classification of a failed delivery attempt, as returned by
// Classify and ClassifyReply. The retry policy, the DSN composer and the
// suppression policy all decide from it.
type Failure struct {
	// Permanent is true when retrying cannot help (a 5xx reply, an unknown
	// domain). It follows the reply code class except for the documented
	// exceptions in Classify.
	Permanent bool

	// Code is the SMTP reply code, e.g. 550. Zero when the failure was not an
	// SMTP reply (DNS, network, TLS).
	Code int

	// EnhancedCode is the RFC 3463 enhanced status code, e.g. {5, 1, 1}.
	// Zero when the reply had none.
	EnhancedCode EnhancedCode

	// Reason says why, in sisimai's taxonomy.
	Reason Reason

	// Detail refines Reason where one reason covers several distinct causes
	// (a DNS timeout and a refused connection are both networkerror). Empty
	// when there is nothing to add.
	Detail Detail

	// Stage is the step of the SMTP transaction the failure happened at,
	// where the error shows it; StageUnknown otherwise. See Stage.
	Stage Stage

	// Lines is the full reply text, one element per reply line, without the
	// code prefixes. Nil when the failure was not an SMTP reply. For an
	// *SMTPError its strings are the error's Line and MoreLines.
	Lines []string

	// Err is the error that was classified.
	Err error
}

// SuppressedText is the Text of a failure with reason suppressed and no
// reply: the message was not sent because its recipient is suppressed.
const SuppressedText = "recipient address is on the sender's suppression list"

// Text returns what a person reads about the failure, in MsgResult.Error,
// webhooks and DSNs: the remote server's reply as it was sent, such as
// "550 5.1.1 <bob@example.com>: User unknown", with the lines of a
// multi-line reply joined by "\n", each with its code and a "-" after the
// code on all but the last (RFC 5321 section 4.2.1) and the enhanced code
// on each (RFC 2034 section 4). A failure without a reply gives the text of
// the error that caused it (a DNS, dial or TLS error); one with reason
// suppressed and no reply (a recipient found on a suppression list before
// any attempt) gives SuppressedText. Go's wrappers (go-smtp's
// "SMTP error 550:", this package's "bounce: smtp rcpt:") are left out.
func (f Failure) Text() string {
	if f.Code == 0 {
		return f.errText()
	}
	lines := f.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	code := strconv.Itoa(f.Code)
	enh := f.EnhancedCode.String()
	var b strings.Builder
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(code)
		mark := " "
		if i < len(lines)-1 {
			mark = "-"
		}
		if enh != "" && !strings.HasPrefix(l, enh) {
			b.WriteString(mark + enh)
			mark = " "
		}
		if l != "" {
			b.WriteString(mark + l)
		} else if mark == "-" {
			b.WriteString(mark)
		}
	}
	return b.String()
}

// errText is Text for a failure without a reply.
func (f Failure) errText() string {
	if f.Reason == ReasonSuppressed {
		return SuppressedText
	}
	if f.Err == nil {
		return ""
	}
	// Our SMTPError without a reply wraps the cause; its own text adds a
	// package prefix.
	var se *SMTPError
	if errors.As(f.Err, &se) && se != nil {
		if se.Err != nil {
			return se.Err.Error()
		}
		return se.Line
	}
	return f.Err.Error()
}
