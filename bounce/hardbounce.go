package bounce

import "strings"

// HardBounce reports whether the failure says the address will never work.
// It is bouncekit's one hard-bounce definition: the zero suppression.Policy
// suppresses on it, and the queue reports it. A hard bounce is a permanent
// failure with reason userunknown (5.1.1), hostunknown (5.1.2, NXDOMAIN),
// hasmoved (5.1.6), or notaccept (521/556 of RFC 7504, the null MX of RFC
// 7505) unless its reply code, or its enhanced code when there is no reply
// code, has the temporary class 4: a receiver may say "not now" about
// accepting mail (421 4.3.2). These are the reasons sisimai calls hard
// bounces; HardReasons lists them. The reason is EffectiveReason: a failure
// without one is judged by its codes.
//
// A 4xx "user unknown" (Postfix's "450 4.1.1 unverified address") is not a
// hard bounce: the receiver itself says it may change its mind. Nor is
// suspend (5.2.1 mailbox disabled, 5.7.13 account disabled): mailboxes are
// disabled for unpaid bills, inactivity or abuse locks and are enabled
// again, and sisimai calls it a soft bounce.
//
// A failure at a stage before RCPT TO (Stage.AboutSender: the greeting,
// EHLO, STARTTLS, AUTH, MAIL FROM) is never a hard bounce: the server has
// not heard of the recipient yet, so "550 5.1.1" there is about our sender
// or our connection. A failure at StageRcpt is about that recipient, one at
// StageData or StageDataEnd about the message, for every recipient the
// server accepted; both are judged by their reason.
//
// Whether the suppression a hard bounce makes lasts forever is a separate
// question: see NoReply and NullMX.
func (f Failure) HardBounce() bool {
	if !f.Permanent || f.Stage.AboutSender() {
		return false
	}
	switch f.EffectiveReason() {
	case ReasonUserUnknown, ReasonHostUnknown, ReasonHasMoved:
		return true
	case ReasonNotAccept:
		if f.Code != 0 {
			return f.Code/100 == 5
		}
		if !f.EnhancedCode.IsZero() {
			return f.EnhancedCode.Permanent()
		}
		// No code at all: a bounce that only says the domain takes no mail.
		return true
	}
	return false
}

// HardReasons returns the reasons HardBounce accepts, in alphabetical
// order.
func HardReasons() []Reason {
	return []Reason{ReasonHasMoved, ReasonHostUnknown, ReasonNotAccept, ReasonUserUnknown}
}

// NoReply reports whether f carried no SMTP reply (Code 0): the failure is
// a DNS answer (NXDOMAIN, no address records), a connection failure, or a
// report that gives no reply of the recipient's server. A DNS answer is a
// fact about a moment, which a provider outage or a domain registered
// tomorrow turns around, so a hard bounce without a reply deserves a
// suppression that expires, unless it is a null MX (see NullMX).
func (f Failure) NoReply() bool {
	return f.Code == 0
}

// NullMX reports whether f is the recipient domain's null MX (RFC 7505
// section 3): reason notaccept with enhanced status X.1.10 (RFC 7505 section
// 4.2). The domain itself publishes that it accepts no mail, so its hard
// bounce is as final as one with a reply, also when no SMTP reply was
// involved. A host whose own MX lookup finds a null MX reports it as
// &SMTPError{Permanent: true, EnhancedCode: EnhancedCode{5, 1, 10}}.
func (f Failure) NullMX() bool {
	return f.EffectiveReason() == ReasonNotAccept && f.EnhancedCode.Subject() == 1 && f.EnhancedCode.Detail() == 10
}

// EffectiveReason returns Reason in lower case, as the constants spell it,
// or, when Reason is empty or undefined (a failure not made by Classify, or
// one from a stored record without a reason), the reason its codes name.
// Only codes that name the address itself or a policy block give one;
// otherwise it is ReasonUndefined.
func (f Failure) EffectiveReason() Reason {
	r := Reason(strings.ToLower(string(f.Reason)))
	if r != "" && r != ReasonUndefined {
		return r
	}
	// RFC 3463: the subject and detail, without the class.
	c := f.EnhancedCode
	if !c.IsZero() {
		switch {
		case c.Subject() == 1 && c.Detail() == 1: // Bad destination mailbox address.
			return ReasonUserUnknown
		case c.Subject() == 1 && c.Detail() == 2: // Bad destination system address.
			return ReasonHostUnknown
		case c.Subject() == 1 && c.Detail() == 6: // Destination mailbox has moved, no forwarding address.
			return ReasonHasMoved
		case c.Subject() == 1 && c.Detail() == 10: // RFC 7505: recipient domain has a null MX.
			return ReasonNotAccept
		case c.Subject() == 2 && c.Detail() == 1: // Mailbox disabled, not accepting messages.
			return ReasonSuspend
		case c.Subject() == 7: // Security or policy status.
			return ReasonPolicyViolation
		}
	}
	switch f.Code {
	case 521, 556: // RFC 7504: host or domain does not accept mail.
		return ReasonNotAccept
	}
	return ReasonUndefined
}
