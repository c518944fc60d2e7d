package bounce

// Reason names why a delivery failed. The values are the 36 reason names of
// sisimai's bounce taxonomy, spelled the same, so classification results can
// be compared one to one with sisimai and with corpora annotated by it.
type Reason string

// The reasons. A comment says when each one is given.
const (
	ReasonAuthFailure     Reason = "authfailure"     // SPF, DKIM or DMARC failed at the receiver.
	ReasonBadReputation   Reason = "badreputation"   // The sending IP or domain has a low reputation.
	ReasonBlocked         Reason = "blocked"         // The sending IP is blocked (DNSBL, no PTR, firewall).
	ReasonContentError    Reason = "contenterror"    // The message content was rejected as malformed.
	ReasonDelivered       Reason = "delivered"       // Not a failure: the message was delivered.
	ReasonExceedLimit     Reason = "exceedlimit"     // The message exceeds the recipient's size limit.
	ReasonExpired         Reason = "expired"         // Delivery time expired in the queue.
	ReasonFailedSTARTTLS  Reason = "failedstarttls"  // STARTTLS was required but failed.
	ReasonFeedback        Reason = "feedback"        // A feedback-loop (ARF) complaint.
	ReasonFiltered        Reason = "filtered"        // Rejected by a recipient-side filter.
	ReasonHasMoved        Reason = "hasmoved"        // The recipient has moved and left no forward.
	ReasonHostUnknown     Reason = "hostunknown"     // The recipient's domain does not exist or has no mail host.
	ReasonMailboxFull     Reason = "mailboxfull"     // The recipient's mailbox is over quota.
	ReasonMailerError     Reason = "mailererror"     // A local mailer program failed.
	ReasonMesgTooBig      Reason = "mesgtoobig"      // The message is larger than the server accepts.
	ReasonNetworkError    Reason = "networkerror"    // Connection refused, reset, timed out, or a DNS lookup failed temporarily.
	ReasonNoRelaying      Reason = "norelaying"      // The server refused to relay.
	ReasonNotAccept       Reason = "notaccept"       // The domain accepts no mail (null MX, 521, 556).
	ReasonNotCompliantRFC Reason = "notcompliantrfc" // The message violates an RFC the receiver enforces.
	ReasonOnHold          Reason = "onhold"          // The outcome cannot be decided yet.
	ReasonPolicyViolation Reason = "policyviolation" // The receiver's policy forbids the message.
	ReasonRejected        Reason = "rejected"        // The envelope sender was rejected.
	ReasonRequirePTR      Reason = "requireptr"      // The sending IP has no or a mismatched PTR record.
	ReasonSecurityError   Reason = "securityerror"   // TLS handshake, certificate or authentication problem.
	ReasonSpamDetected    Reason = "spamdetected"    // The message was judged to be spam.
	ReasonSpeeding        Reason = "speeding"        // Rate limited: too many messages too fast.
	ReasonSuppressed      Reason = "suppressed"      // The recipient is on a suppression list.
	ReasonSuspend         Reason = "suspend"         // The recipient's mailbox is disabled or suspended.
	ReasonSyntaxError     Reason = "syntaxerror"     // The remote server reported an SMTP syntax error.
	ReasonSystemError     Reason = "systemerror"     // The remote system had an error.
	ReasonSystemFull      Reason = "systemfull"      // The remote system's disk is full.
	ReasonTooManyConn     Reason = "toomanyconn"     // Too many connections or recipients.
	ReasonUndefined       Reason = "undefined"       // The failure could not be classified.
	ReasonUserUnknown     Reason = "userunknown"     // The recipient's mailbox does not exist.
	ReasonVacation        Reason = "vacation"        // An auto-reply, not a bounce.
	ReasonVirusDetected   Reason = "virusdetected"   // The message contained a virus.
)

// Reasons lists every Reason, in alphabetical order.
func Reasons() []Reason {
	return []Reason{
		ReasonAuthFailure, ReasonBadReputation, ReasonBlocked, ReasonContentError,
		ReasonDelivered, ReasonExceedLimit, ReasonExpired, ReasonFailedSTARTTLS,
		ReasonFeedback, ReasonFiltered, ReasonHasMoved, ReasonHostUnknown,
		ReasonMailboxFull, ReasonMailerError, ReasonMesgTooBig, ReasonNetworkError,
		ReasonNoRelaying, ReasonNotAccept, ReasonNotCompliantRFC, ReasonOnHold,
		ReasonPolicyViolation, ReasonRejected, ReasonRequirePTR, ReasonSecurityError,
		ReasonSpamDetected, ReasonSpeeding, ReasonSuppressed, ReasonSuspend,
		ReasonSyntaxError, ReasonSystemError, ReasonSystemFull, ReasonTooManyConn,
		ReasonUndefined, ReasonUserUnknown, ReasonVacation, ReasonVirusDetected,
	}
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
