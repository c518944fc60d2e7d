package queue

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
	// *SMTPError it shares memory with the error's Line and MoreLines.
	Lines []string

	// Err is the error that was classified.
	Err error
}

// HardBounce reports whether the failure says the address will never work:
// a permanent failure with reason userunknown, hostunknown or hasmoved, or
// notaccept with a 5xx reply code (or a 5.x.x enhanced code when there was no
// reply, or no code at all: a null MX found in DNS, or a bounce that only
// says the domain accepts no mail). The suppression policy builds on it. A 4xx "user unknown" (Postfix's
// "450 4.1.1 unverified address") is not a hard bounce: the receiver itself
// says it may change its mind.
func (f Failure) HardBounce() bool {
	if !f.Permanent {
		return false
	}
	switch f.Reason {
	case ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved:
		return true
	case ReasonNotAccept:
		if f.Code != 0 {
			return f.Code/100 == 5
		}
		if f.EnhancedCode != "" {
			return f.EnhancedCode[0] == '5'
		}
		return true
	}
	return false
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
