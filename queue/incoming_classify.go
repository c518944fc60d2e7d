package queue

import (
	"strings"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// classifyRcpt classifies one recipient's result from its Status,
// reply code and Diagnostic-Code, with bounce.ClassifyReply's rules.
func classifyRcpt(r reportRcpt) bounce.Failure {
	switch r.action {
	case dsn.ActionDelivered, dsn.ActionRelayed, dsn.ActionExpanded:
		return bounce.Failure{Code: r.code, EnhancedCode: r.status, Reason: bounce.ReasonDelivered}
	}
	if r.mailer {
		return classifyMailer(r)
	}
	if r.groupRefused && r.code == 0 && r.status.IsZero() {
		// Google says "may not exist, or you may not have permission to
		// post": not proof that the address is gone, so not a hard bounce.
		return bounce.Failure{Permanent: r.action == dsn.ActionFailed, Reason: bounce.ReasonRejected}
	}
	if r.code == 0 && r.status.IsZero() && strings.TrimSpace(r.diagnostic) == "" {
		return bounce.Failure{Permanent: r.action == dsn.ActionFailed, Reason: bounce.ReasonUndefined}
	}
	status := r.status
	if isGenericStatus(status) || isExpiredStatus(status) {
		// "Status: 5.0.0" with "Diagnostic-Code: smtp; 550 5.1.1 ...": the
		// remote server's own code says more. So it does under "Status:
		// 4.4.7", which only says that the reporting MTA stopped trying.
		if e := bounce.ParseReply(r.diagnostic); !e.EnhancedCode.IsZero() {
			status = bounce.EnhancedCode{}
		}
	}
	f := bounce.ClassifyReply(r.code, status, r.diagnostic)
	if f.Code == 0 && f.EnhancedCode.IsZero() {
		f.Permanent = r.action == dsn.ActionFailed
	}
	if r.action == dsn.ActionFailed && !f.Permanent && (f.Reason == bounce.ReasonUndefined || f.Reason == bounce.ReasonNetworkError && !dnsOrLoop(f.EnhancedCode, r.diagnostic)) {
		// The reporting MTA gave up after temporary failures, such as
		// connection timeouts: its queue lifetime expired (RFC 3464
		// "failed" with a 4.x.x status, e.g. 4.4.7). A failed DNS lookup or
		// a mail loop stays a network error: it is the cause, and waiting
		// did not come into it.
		f.Reason = bounce.ReasonExpired
	}
	if f.Stage == bounce.StageUnknown {
		f.Stage = r.stage
	}
	afterData := r.stage == bounce.StageData || r.stage == bounce.StageDataEnd
	if f.Reason == bounce.ReasonUserUnknown && (afterData || r.stage == bounce.StageUnknown && !addressStatus(f.EnhancedCode)) {
		// "User unknown" is a hard bounce only when the recipient itself
		// was refused: at RCPT TO, or with an X.1.x address status where
		// the report does not say when. After the data the server had
		// accepted the recipient, so the mailbox exists and the reply is a
		// filter's answer (Japanese mobile carriers answer so for blocked
		// senders); a bare "user unknown" that could be either is not
		// proof enough to suppress the address for good. sisimai judges
		// the same way.
		f.Reason = bounce.ReasonFiltered
	}
	return f
}

// addressStatus reports whether an enhanced status code is in the X.1.x
// addressing subject (RFC 3463 section 3.2), such as 5.1.1 bad destination
// mailbox address.
func addressStatus(c bounce.EnhancedCode) bool {
	return !c.IsZero() && c.Subject() == 1
}

// dnsOrLoop reports whether a network error is a DNS failure or a mail
// loop (RFC 3463 X.4.3, X.4.4, X.4.6, or the diagnostic's words) rather
// than a host that did not answer.
func dnsOrLoop(status bounce.EnhancedCode, diag string) bool {
	if !status.IsZero() && status.Subject() == 4 {
		switch status.Detail() {
		case 3, 4, 6:
			return true
		}
	}
	d := strings.ToLower(diag)
	for _, w := range []string{"dns", "name server", "name service", "lookup", "loop", "hops"} {
		if strings.Contains(d, w) {
			return true
		}
	}
	return false
}

// classifyMailer classifies the failure of a local delivery program. Its
// text is not an SMTP reply ("255" is an exit status, not a reply code), so
// only a full mailbox or disk in it counts; else a mail system status
// (X.3.x) says the system failed, and otherwise the program did.
func classifyMailer(r reportRcpt) bounce.Failure {
	f := bounce.Failure{EnhancedCode: r.status, Reason: bounce.ReasonMailerError}
	if !r.status.IsZero() {
		f.Permanent = r.status.Permanent()
	} else {
		f.Permanent = r.action == dsn.ActionFailed
	}
	switch rr := bounce.ClassifyText(r.diagnostic); rr {
	case bounce.ReasonMailboxFull, bounce.ReasonSystemFull:
		f.Reason = rr
		return f
	}
	if !r.status.IsZero() && r.status.Subject() == 3 {
		f.Reason = bounce.ReasonSystemError
	}
	return f
}

// isExpiredStatus reports whether an enhanced status code is X.4.7,
// delivery time expired (RFC 3463 section 3.5).
func isExpiredStatus(c bounce.EnhancedCode) bool {
	return !c.IsZero() && c.Subject() == 4 && c.Detail() == 7
}

// isGenericStatus reports whether an enhanced status code says nothing but
// its class: X.0.0.
func isGenericStatus(c bounce.EnhancedCode) bool {
	return !c.IsZero() && c.Subject() == 0 && c.Detail() == 0
}
