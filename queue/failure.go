package queue

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

	// EnhancedCode is the full RFC 3463 enhanced status code including the
	// class digit, e.g. "5.1.1". Empty when the reply had none.
	EnhancedCode string

	// Reason says why, in sisimai's taxonomy.
	Reason Reason

	// Detail refines Reason where one reason covers several distinct causes
	// (a DNS timeout and a refused connection are both networkerror). Empty
	// when there is nothing to add.
	Detail Detail

	// Lines is the full reply text, one element per reply line, without the
	// code prefixes. Nil when the failure was not an SMTP reply. For an
	// *SMTPError its strings are the error's Line and MoreLines.
	Lines []string

	// Err is the error that was classified.
	Err error
}

// HardBounce reports whether the failure says the address will never work.
// It is suppression.Failure.HardBounce, the one definition the suppression
// policy uses too: a permanent failure with reason userunknown, hostunknown
// or hasmoved, or notaccept unless its reply code (or enhanced code, when
// there is no reply code) is temporary. A 4xx "user unknown" (Postfix's "450
// 4.1.1 unverified address") is not a hard bounce: the receiver itself says
// it may change its mind. Nor is suspend (a disabled mailbox, which is
// enabled again often enough; sisimai calls it soft too).
//
// A hard bounce without a reply code (Code 0: an NXDOMAIN, or a DSN about a
// relay's own DNS lookup) suppresses the recipient only for
// suppression.Policy.NoReplyExpiry, unless it is a null MX: reason notaccept
// with status X.1.10 (RFC 7505), which a host reports as
// &SMTPError{Permanent: true, EnhancedCode: "5.1.10"} when its MX lookup
// finds one.
func (f Failure) HardBounce() bool {
	return suppressionFailure(f).HardBounce()
}

// Detail is a finer-grained cause within a Reason, for logs, metrics and the
// retry policy (which retries greylisting sooner).
type Detail string

// Details set by Classify.
const (
	DetailGreylisted        Detail = "greylisted"          // The receiver greylists: retry in minutes.
	DetailTooManyRecipients Detail = "too-many-recipients" // Too many RCPT TO in one transaction (RFC 5321 section 4.5.3.1.10).

	DetailDNSNotFound  Detail = "dns-not-found" // NXDOMAIN: the name does not exist.
	DetailDNSTimeout   Detail = "dns-timeout"   // The DNS lookup timed out.
	DetailDNSTemporary Detail = "dns-temporary" // SERVFAIL or another temporary DNS failure.

	DetailConnectionRefused Detail = "connection-refused" // ECONNREFUSED: nothing listens on the port.
	DetailConnectionReset   Detail = "connection-reset"   // ECONNRESET, ECONNABORTED or EPIPE.
	DetailUnreachable       Detail = "unreachable"        // EHOSTUNREACH or ENETUNREACH.
	DetailTimeout           Detail = "timeout"            // An I/O timeout or context.DeadlineExceeded.
	DetailEOF               Detail = "eof"                // The peer closed the connection mid-conversation.
	DetailNetwork           Detail = "network"            // Another *net.OpError.
	DetailCanceled          Detail = "canceled"           // context.Canceled: our side gave up, e.g. at shutdown.

	DetailTLSRecordHeader             Detail = "tls-record-header"             // The peer did not speak TLS.
	DetailTLSAlert                    Detail = "tls-alert"                     // The peer sent a TLS alert.
	DetailCertificateUnknownAuthority Detail = "certificate-unknown-authority" // x509.UnknownAuthorityError.
	DetailCertificateHostname         Detail = "certificate-hostname"          // x509.HostnameError.
	DetailCertificateInvalid          Detail = "certificate-invalid"           // x509.CertificateInvalidError, e.g. expired.
	DetailCertificate                 Detail = "certificate"                   // Another *tls.CertificateVerificationError.
)

// Text returns what a person reads about the failure, in MsgResult.Error,
// webhooks and DSNs: the remote server's reply as it was sent, such as
// "550 5.1.1 <bob@example.com>: User unknown", with the lines of a
// multi-line reply joined by "\n", each with its code and a "-" after the
// code on all but the last (RFC 5321 section 4.2.1) and the enhanced code
// on each (RFC 2034 section 4). A failure without a reply gives the text of
// the error that caused it (a DNS, dial or TLS error); one of ErrSuppressed
// says the recipient is on the suppression list. Go's wrappers (go-smtp's
// "SMTP error 550:", this package's "queue: smtp rcpt:") are left out.
func (f Failure) Text() string {
	if f.Code == 0 {
		return f.errText()
	}
	lines := f.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	code := strconv.Itoa(f.Code)
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
		if f.EnhancedCode != "" && !strings.HasPrefix(l, f.EnhancedCode) {
			b.WriteString(mark + f.EnhancedCode)
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
	if f.Err == nil {
		return ""
	}
	if errors.Is(f.Err, ErrSuppressed) {
		return suppressedText
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
