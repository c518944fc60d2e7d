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
	if se, ok := f.Err.(*bounce.SMTPError); ok && r.stage != bounce.StageUnknown {
		// The command the report says the reply answered decides the
		// rules scoped to it, as for a live reply: Postfix's "550 5.2.1
		// <x>... User Unknown (in reply to RCPT TO command)" in the text
		// part, with the bare reply in the Diagnostic-Code.
		se.Stage = r.stage
		f = bounce.Classify(se)
	}
	if f.Code == 0 && f.EnhancedCode.IsZero() {
		f.Permanent = r.action == dsn.ActionFailed
	}
	if r.action == dsn.ActionFailed && !f.Permanent && gaveUp(f, r.diagnostic) {
		f.Reason = bounce.ReasonExpired
	}
	if f.Reason == bounce.ReasonExpired && r.action == dsn.ActionFailed && r.status.Permanent() {
		// Exim gives up with "Status: 5.0.0" over the last temporary
		// reply ("451 4.3.0 ...: retry timeout exceeded") and calls it "a
		// permanent error" in its text: the reporting MTA's status
		// (RFC 3464 section 2.3.4) says the queue will not try again. A
		// 4.x.x status keeps the class of the failure (RFC 3463 section
		// 3.1, a persistent transient failure), as Postfix writes it.
		// Only for expired: a temporary "user unknown" the queue gave up
		// on is no proof that the address is gone.
		f.Permanent = true
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

// finalAction returns a report recipient's action and status, corrected
// where an MTA is known to report a final outcome as a delay. OpenSMTPD
// before 7.3 expires an envelope with its fixed text "Envelope expired",
// status X.4.7 and the temporary class (usr.sbin/smtpd/queue.c), so its
// bounce process writes the delay template with "Action: delayed" and
// "Status: 4.4.7" although the envelope is deleted; OpenSMTPD's commit
// 69642ec2 ("Fix incorrect status code for expired mails resulting in a
// misleading bounce report", 2021) made it 5.4.7 and "failed". Such a
// report is the failure OpenSMTPD now writes.
func finalAction(a dsn.Action, status bounce.EnhancedCode, diag string) (dsn.Action, bounce.EnhancedCode) {
	if a == dsn.ActionDelayed && status == (bounce.EnhancedCode{4, 4, 7}) && strings.EqualFold(strings.TrimSpace(diag), "Envelope expired") {
		return dsn.ActionFailed, bounce.EnhancedCode{5, 4, 7}
	}
	return a, status
}

// gaveUp reports whether a temporary failure in a "failed" report says
// no more than that the reporting MTA stopped trying: RFC 3464 section
// 2.3.3 "failed" with a 4.x.x status, a persistent transient failure whose
// persistence "has caused abandonment" of delivery (RFC 3463 section 3.1).
// Postfix returns a message so when maximal_queue_lifetime has passed
// (postconf(5); its queue manager logs "status=expired, returned to
// sender"), with the last temporary failure's status and reply. The reason
// is then expired, unless the failure names its own cause, as sisimai
// keeps it ("452 4.3.2 Connection rate limit exceeded", "Disk quota
// exceeded"): expired stands where the reason came from nothing more than
// the absence of words (undefined), a host that did not answer (a network
// error other than DNS or a loop, which are the cause and not a matter of
// waiting), or a reply code and status that only say "try later": 421 or
// 451 under no or a generic status (X.0.0, X.3.0) and no phrase of the
// reply naming a cause ("451 4.3.0 temporary failure, try again later"),
// the same as "450 4.0.0 Temporary failure", which gave undefined.
func gaveUp(f bounce.Failure, diag string) bool {
	switch f.Reason {
	case bounce.ReasonUndefined:
		return true
	case bounce.ReasonNetworkError:
		return !dnsOrLoop(f.EnhancedCode, diag)
	case bounce.ReasonSystemError:
		c := f.EnhancedCode
		generic := c.IsZero() || c.Detail() == 0 && (c.Subject() == 0 || c.Subject() == 3)
		return generic && bounce.ClassifyText(diag) == bounce.ReasonUndefined
	}
	return false
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
// only a full mailbox or disk in it counts, and a mailbox full status;
// otherwise the program failed, temporarily or not.
//
// The Status of such a failure is the reporting MTA's translation of the
// program's exit status, not a word about the mail system: Postfix's
// local(8) and pipe(8) map sysexits.h codes through global/sys_exits.c and
// write its text as the x-unix diagnostic (EX_TEMPFAIL is 4.3.0
// "temporary failure", EX_SOFTWARE 5.3.0 "internal software error", an
// unknown exit status 5.3.0 "unknown mail system error N", EX_NOUSER 5.1.1
// "user unknown"), so its X.3.0 says no more than that the program failed,
// and the temporary failure is the same reason as the permanent one. A
// mailbox write that failed with EDQUOT or EFBIG is 5.2.2 under the x-unix
// text "input/output error" (global/mbox_open.c mbox_dsn,
// global/mail_copy.c): X.2.2 is mailbox full (RFC 3463 section 3.3), as
// sisimai also reads an x-unix diagnostic's status first. Only a
// diagnostic without words, a bare exit status as Sendmail writes it
// ("X-Unix; 77"), leaves an X.3.x status to say that the mail system
// failed (RFC 3463 section 3.4), as sisimai reads it.
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
	switch {
	case r.status.IsZero():
	case r.status.Subject() == 2 && r.status.Detail() == 2:
		f.Reason = bounce.ReasonMailboxFull
	case r.status.Subject() == 3 && isExitStatus(r.diagnostic):
		f.Reason = bounce.ReasonSystemError
	}
	if r.action == dsn.ActionFailed && !f.Permanent && f.Reason == bounce.ReasonMailerError {
		// The program asked to be tried again (EX_TEMPFAIL) until the
		// queue gave up: expired, as gaveUp reads a "try later" reply.
		f.Reason = bounce.ReasonExpired
	}
	return f
}

// isExitStatus reports whether an x-unix diagnostic is a bare exit status,
// digits only.
func isExitStatus(diag string) bool {
	d := strings.TrimSpace(diag)
	if d == "" {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
