package bounce

// Stage is the step of an outbound SMTP transaction at which a delivery
// attempt failed. It tells a reply about the transaction (a 554 to the
// greeting, before any address was sent) from one about the recipient (a
// 550 to RCPT TO), and says which step a network or TLS error broke off.
// The zero value, StageUnknown, means the error did not say.
//
// Classify sets Failure.Stage where the error shows it: from an SMTPError's
// Stage, and from the kind of error otherwise (a *net.DNSError happens at
// StageDNS, a failed dial at StageDial, a TLS or certificate error at
// StageTLS). go-smtp's and net/smtp's errors do not say which command they
// answer; a host that knows wraps them in an SMTPError with Stage set.
type Stage string

// The stages, in the order of an SMTP transaction (RFC 5321 section 3).
const (
	StageUnknown Stage = ""         // Not known.
	StageDNS     Stage = "dns"      // Looking up the MX, A or AAAA records (RFC 5321 section 5).
	StageDial    Stage = "dial"     // Opening the TCP connection.
	StageConnect Stage = "connect"  // Waiting for the greeting (RFC 5321 section 4.3.1).
	StageEHLO    Stage = "ehlo"     // EHLO, HELO or LHLO.
	StageTLS     Stage = "tls"      // The STARTTLS command or the TLS handshake (RFC 3207, RFC 8314).
	StageAuth    Stage = "auth"     // AUTH (RFC 4954).
	StageMail    Stage = "mail"     // MAIL FROM.
	StageRcpt    Stage = "rcpt"     // RCPT TO.
	StageData    Stage = "data"     // The DATA or BDAT command, before the message was sent.
	StageDataEnd Stage = "data-end" // After the message: the reply to the final "." or BDAT LAST.
)

// Stages lists every Stage but StageUnknown, in transaction order.
func Stages() []Stage {
	return []Stage{StageDNS, StageDial, StageConnect, StageEHLO, StageTLS, StageAuth, StageMail, StageRcpt, StageData, StageDataEnd}
}

// AboutSender reports whether a reply at stage s is about the sending side
// (our connection, client, TLS, credentials or envelope sender) rather than
// any recipient: the server answers before a recipient was named (RFC 5321
// section 3.3: the greeting, EHLO, STARTTLS, AUTH and MAIL FROM come before
// RCPT TO). Such a reply is never a hard bounce of the recipients, whatever
// its codes say. StageDNS and StageDial are not: no server answered there,
// and a DNS answer (NXDOMAIN, a null MX) is about the recipients' domain.
func (s Stage) AboutSender() bool {
	switch s {
	case StageConnect, StageEHLO, StageTLS, StageAuth, StageMail:
		return true
	}
	return false
}
