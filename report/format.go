package report

import (
	"net/mail"
	"strings"
)

// Format names the software or service whose report layout Read
// recognised, or how the report was read, for logs and statistics: recipients are found by the same
// rules whatever the format.
type Format string

// Formats. The software formats are named by the signatures below; the
// last ones (and FormatARF) say how the report was read instead.
const (
	FormatQmail        Format = "qmail"
	FormatExim         Format = "exim"
	FormatPostfix      Format = "postfix"
	FormatGoogleGroups Format = "googlegroups" // Google Groups: the group does not exist or the sender may not post to it.
	FormatGmail        Format = "gmail"
	FormatYahoo        Format = "yahoo"
	FormatAmazonSES    Format = "amazonses"
	FormatExchange     Format = "exchange"
	FormatOffice365    Format = "office365"
	FormatSendmail     Format = "sendmail"
	FormatCourier      Format = "courier"
	FormatOpenSMTPD    Format = "opensmtpd"
	FormatDragonfly    Format = "dragonfly"
	FormatNotes        Format = "notes" // Lotus (HCL) Notes/Domino.

	FormatRFC3464   Format = "rfc3464"   // A standard DSN (RFC 3464) from software no signature names.
	FormatGeneric   Format = "generic"   // None recognised: read by the generic rules.
	FormatAutoReply Format = "autoreply" // An automatic reply, not a bounce.
)

// signature is a phrase that identifies the software that wrote a bounce.
type signature struct {
	format Format
	where  byte   // 'b' body text, 'f' From, 's' Subject, 'h' any header value listed in fields.
	phrase string // Lower case.
}

// signatures are checked in order; the first match names the format. Body
// phrases come first: they are the most specific.
var signatures = []signature{
	{FormatQmail, 'b', "this is the qmail-send program"},
	{FormatQmail, 'b', "qmail-send"},
	{FormatExim, 'b', "this message was created automatically by mail delivery software"},
	{FormatPostfix, 'b', "this is the mail system at host"},
	{FormatPostfix, 'b', "this is the postfix program"},
	{FormatGoogleGroups, 'b', "groups.google.com/support"}, // In every language of its "you may not post" bounce.
	{FormatGmail, 'b', "google tried to deliver your message"},
	{FormatGmail, 'b', "delivery to the following recipient failed"},
	{FormatGmail, 'b', "delivery to the following recipients failed"},
	{FormatYahoo, 'b', "sorry, we were unable to deliver your message"},
	{FormatAmazonSES, 'b', "amazon ses"},
	{FormatExchange, 'b', "did not reach the following recipient"},
	{FormatExchange, 'b', "delivery has failed to these recipients"},
	{FormatOffice365, 'b', "office 365"},
	{FormatOffice365, 'b', "outlook.com"},
	{FormatSendmail, 'b', "----- transcript of session follows -----"},
	{FormatSendmail, 'b', "the original message was received at"},
	{FormatCourier, 'b', "this is a delivery status notification from"},
	{FormatOpenSMTPD, 'b', "this is the mailer-daemon at"},
	{FormatOpenSMTPD, 'b', "an error has occurred while attempting to deliver a message"},
	{FormatDragonfly, 'b', "this is the dragonfly mail agent"},
	{FormatNotes, 'b', "lotus smtp mta"},
	{FormatAmazonSES, 'h', "amazonses.com"},
	{FormatGmail, 'f', "googlemail.com"},
	{FormatGmail, 'f', "google.com"},
	{FormatYahoo, 'f', "yahoo"},
	{FormatExchange, 'h', "microsoft exchange"},
	{FormatOffice365, 'h', "outlook.com"},
}

// detectFormat names the software that wrote a bounce, or FormatGeneric.
func detectFormat(h mail.Header, text string) Format {
	body := strings.ToLower(text[:min(len(text), 8192)])
	from := strings.ToLower(decodeHeader(h.Get("From")))
	subj := strings.ToLower(decodeHeader(h.Get("Subject")))
	var hdrs strings.Builder
	for _, k := range []string{"X-Mailer", "Message-Id", "Received", "X-SES-Outgoing", "Feedback-Id", "X-MS-Exchange-Message-Is-Ndr", "Return-Path"} {
		for _, v := range h[k] {
			hdrs.WriteString(strings.ToLower(v))
			hdrs.WriteByte('\n')
		}
	}
	hv := hdrs.String()
	for _, s := range signatures {
		var in string
		switch s.where {
		case 'b':
			in = body
		case 'f':
			in = from
		case 's':
			in = subj
		case 'h':
			in = hv
		}
		if strings.Contains(in, s.phrase) {
			return s.format
		}
	}
	return FormatGeneric
}

// bounceSubjects are subject phrases of bounces, lower case.
var bounceSubjects = []string{
	"undeliver", "undelivered", "delivery fail", "delivery status notification", "failure notice",
	"returned mail", "mail delivery", "delivery problem", "non-delivery", "nondelivery", "non delivery",
	"could not be delivered", "couldn't be delivered", "not delivered", "delivery report", "delivery notification",
	"bounce", "rejected", "mail system error", "delivery error", "delivery has failed", "warning: could not send",
	"delayed mail", "delivery delayed", "message delayed", "error sending", "permanent error", "unzustellbar",
	"nicht zustellbar", "non remis", "returned to sender", "message not delivered", "mail failure", "delivery failure",
	"failed delivery", "returned message", "unable to deliver", "not be delivered", "notification", "error",
}

// bounceSenders are local parts of addresses that send bounces.
var bounceSenders = []string{"mailer-daemon", "post_master", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon", "mail delivery", "mailer daemon", "mail administrator", "mail delivery subsystem", "mail delivery system", "bounce", "daemon"}

// bounceWords are body phrases of bounces, lower case.
var bounceWords = []string{
	"could not be delivered", "couldn't be delivered", "was not delivered", "wasn't able to deliver", "not able to deliver",
	"unable to deliver", "delivery failed", "delivery has failed", "permanent error", "permanent failure",
	"undeliverable", "did not reach", "failed recipient", "following address", "following recipient",
	"returned mail", "delivery to the following", "user unknown", "unknown user", "no such user", "mailbox unavailable",
	"transcript of session", "could not deliver", "delivery problem", "message delivery", "delivery status",
	"has not been delivered", "not yet been delivered", "remote host said", "smtp error", "rejected",
	"invalid user", "error message below", "delivery to the following",
}

// strongBounceWords are body phrases that on their own mark a bounce, lower
// case.
var strongBounceWords = []string{
	"could not be delivered to:", "delivery to the following recipient", "the following addresses had delivery problems",
	"error message below:", "your message could not be delivered", "was not delivered to", "message not delivered",
	"undeliverable:", "delivery has failed", "the following address(es) failed", "permanent error",
}

// bounceEvidence reports whether the message looks like a bounce at all. Auto
// replies and ordinary mail with addresses and numbers in them must not get
// through to the recipient heuristics.
func bounceEvidence(h mail.Header, p *parts, text string) bool {
	if len(p.dsn) > 0 {
		return true
	}
	if strings.Contains(strings.ToLower(h.Get("Content-Type")), "report-type=delivery-status") {
		return true
	}
	if h.Get("X-Failed-Recipients") != "" {
		return true
	}
	from := strings.ToLower(decodeHeader(h.Get("From")))
	subj := strings.ToLower(decodeHeader(h.Get("Subject")))
	body := strings.ToLower(text[:min(len(text), 16384)])
	score := 0
	for _, s := range bounceSenders {
		if strings.Contains(from, s) {
			score++
			break
		}
	}
	rp := strings.TrimSpace(h.Get("Return-Path"))
	if rp == "<>" || rp == "" && h.Get("Return-Path") != "" {
		score++
	}
	for _, s := range bounceSubjects {
		if strings.Contains(subj, s) {
			score++
			break
		}
	}
	for _, w := range bounceWords {
		if strings.Contains(body, w) {
			score++
			break
		}
	}
	for _, s := range signatures {
		if s.where == 'b' && strings.Contains(body, s.phrase) {
			score += 2
			break
		}
	}
	for _, w := range strongBounceWords {
		if strings.Contains(body, w) {
			score += 2
			break
		}
	}
	if isAutoReply(h) {
		// An auto-reply needs the bounce's own wording to count as a bounce.
		return score >= 3
	}
	return score >= 2
}
