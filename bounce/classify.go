package bounce

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"

	"github.com/emersion/go-smtp"
)

// Classify turns the error of a failed delivery attempt into a Failure. It
// understands, also when wrapped with %w at any depth (or in errors.Join):
//
//   - *SMTPError (ours), *textproto.Error (net/smtp) and go-smtp's
//     *smtp.SMTPError: an SMTP reply, see below;
//   - *net.DNSError: IsNotFound is permanent hostunknown (NXDOMAIN); a
//     timeout, SERVFAIL or any other DNS failure is temporary networkerror;
//   - crypto/tls and crypto/x509 errors (tls.RecordHeaderError,
//     tls.AlertError, *tls.CertificateVerificationError,
//     x509.UnknownAuthorityError, x509.HostnameError,
//     x509.CertificateInvalidError): temporary securityerror, or
//     failedstarttls when the error is wrapped in an *SMTPError whose Stage
//     is StageTLS (the only way to tell that TLS failed at the STARTTLS
//     step; go-smtp and net/smtp do not say);
//   - context.Canceled: temporary onhold, our side gave up on the attempt;
//   - timeouts (context.DeadlineExceeded, os.ErrDeadlineExceeded, a net.Error
//     with Timeout) and connection refused, reset or unreachable, io.EOF and
//     io.ErrUnexpectedEOF: temporary networkerror;
//   - anything else: temporary undefined.
//
// Failure.Detail tells the non-reply cases apart, and Failure.Stage says
// where the attempt broke off when the error shows it (see Stage).
// Classify(nil) returns a temporary Failure with Reason undefined and a nil
// Err.
//
// Classify looks into err only with errors.As and errors.Is: an Unwrap or
// As method of a foreign error type that panics panics through Classify,
// as it would through the standard library's errors package.
//
// # Replies
//
// The reason comes from the enhanced status code first (RFC 3463 and the
// IANA "SMTP Enhanced Status Codes" registry), then from the reply code, then
// from the reply text. Where the text and the enhanced code disagree in a way
// real MTAs are known for, the text wins: "550 5.1.1 ... too many
// recipients" is toomanyconn, Microsoft's "550 5.1.10
// RESOLVER.ADR.RecipientNotFound" is userunknown although IANA assigns 5.1.10
// to null MX, Gmail's "550 5.2.1 ... receiving mail at a rate" is speeding,
// Yahoo's "554 5.7.9 ... policy reasons" is policyviolation. Only distinctive
// phrases override a specific enhanced code; generic codes (X.0.0, X.N.0,
// X.7.1 and vendor-specific details such as Microsoft's 5.7.606) let any
// matching phrase decide. See text.go for the phrases. A few phrases decide
// only under one code they contradict (see codeTextRules): "User unknown"
// under 5.2.1 (mailbox disabled) is userunknown when the reply answered RCPT
// TO, and Exchange Online's "550 5.4.1 Recipient address rejected: Access
// denied" is userunknown.
//
// Addresses a reply echoes are never read as its words: "550 5.1.1
// <virus@example.org>: Recipient address rejected: User unknown" is
// userunknown, not virusdetected. Angle-bracketed paths, bare addr-specs and
// quoted localparts or user names are skipped.
//
// A reply about us, the sending side, is never a hard bounce of the
// recipient (see Failure.HardBounce), whatever its code: where the code and
// text give userunknown, hostunknown, hasmoved or notaccept but the text
// names our client, HELO name, envelope sender or rate (Postfix "Client host
// rejected", "Helo command rejected", "Sender address rejected", Exim "Sender
// verify failed", Postfix anvil's "too much mail from"), the reason is
// blocked, requireptr, rejected, speeding or toomanyconn instead. A permanent
// X.3.2 (Postfix postscreen's "521 5.3.2" and "550 5.3.2" for a client it
// rejects) is blocked unless the text says the host accepts no mail. The
// stage counts too: such a reply to MAIL FROM (StageMail) is rejected,
// whatever its text, and no failure at a stage before RCPT TO is a hard
// bounce (see Stage.AboutSender).
//
// Permanence follows the reply code class (5xx permanent, anything else
// temporary), or the enhanced code's class when there is no reply code. The
// one exception: a 552 reply that says "too many recipients" is temporary, as
// RFC 5321 section 4.5.3.1.10 tells clients to treat it (RFC 821 listed 552
// where 452 is meant). The Permanent field of an *SMTPError is used only when
// there is no reply code.
func Classify(err error) Failure {
	if err == nil {
		return Failure{Reason: ReasonUndefined}
	}
	var se *SMTPError
	if errors.As(err, &se) && se != nil {
		return classifySMTPError(se, err)
	}
	var ge *smtp.SMTPError
	if errors.As(err, &ge) && ge != nil {
		return classifyGoSMTP(ge, err)
	}
	var te *textproto.Error
	if errors.As(err, &te) && te != nil {
		return classifyTextproto(te, err)
	}
	return classifyOther(err, StageUnknown)
}

// ClassifyReply classifies reply text, e.g. from a DSN's Diagnostic-Code and
// Status fields (RFC 3464 section 2.3.6 and 2.3.4). The text is parsed with
// ParseReply, so it may be multi-line with code prefixes and may start with
// a diagnostic type ("smtp; 550 ..."). A non-zero code and a valid enhanced
// code override those found in the text; a 2xx or 3xx code found in the
// text is dropped under a failing (4.x.x or 5.x.x) enhanced code. Failure.Err
// is the *SMTPError that was classified.
func ClassifyReply(code int, enhanced EnhancedCode, text string) Failure {
	e := ParseReply(text)
	if code != 0 {
		e.Code = code
		e.Permanent = code/100 == 5
	}
	if enhanced.Valid() {
		if code == 0 && e.Code/100 < 4 && enhanced[0] != 2 && e.Code != 0 {
			// A positive reply in the text under a failing status (a
			// quoted greeting with no failing reply after it) is not the
			// failure's reply: the status decides.
			e.Code = 0
		}
		e.EnhancedCode = enhanced
		if code == 0 && e.Code == 0 {
			e.Permanent = enhanced.Permanent()
		}
	}
	return classifySMTPError(e, e)
}

// ClassifyText returns the reason the phrases of text give (see text.go),
// or ReasonUndefined when none matches. It reads no codes and applies no
// about-us rules: it is for text that is not an SMTP reply, such as the
// message of a local delivery program in a DSN.
func ClassifyText(text string) Reason {
	if ri := matchText(text, nil, len(textRules)); ri >= 0 {
		return textRules[ri].reason
	}
	return ReasonUndefined
}

func classifySMTPError(e *SMTPError, err error) Failure {
	if e.Code == 0 && e.Err != nil && !e.EnhancedCode.Valid() {
		// No reply: the connection or TLS failed. Classify the cause, and keep
		// the client's verdict if it says permanent. A client that gives an
		// enhanced code with its own error (a null MX, 5.1.10; a message
		// too big for the server's SIZE, 5.3.4) is read by that code below,
		// with Err kept for errors.Is.
		f := classifyOther(err, e.Stage)
		f.Permanent = f.Permanent || e.Permanent
		return f
	}

	enh := e.EnhancedCode
	line := e.Line
	if !enh.Valid() {
		enh = EnhancedCode{}
		// The client may have left the enhanced code in the text.
		if c, rest, ok := CutEnhancedCode(line); ok {
			enh, line = c, rest
		}
	}
	f := Failure{
		Code:         e.Code,
		EnhancedCode: enh,
		Stage:        e.Stage,
		Err:          err,
	}
	if len(e.MoreLines) == 0 {
		if e.Line != "" {
			f.Lines = []string{e.Line}
		}
	} else {
		f.Lines = make([]string, 0, 1+len(e.MoreLines))
		f.Lines = append(f.Lines, e.Line)
		f.Lines = append(f.Lines, e.MoreLines...)
	}
	f.Reason, f.Detail = replyReason(e.Code, enh, line, e.MoreLines, e.Stage)
	f.Permanent = replyPermanent(e.Code, enh, f.Detail)
	if e.Code == 0 && enh.IsZero() {
		f.Permanent = e.Permanent
	}
	settleTemporary(&f)
	if e.Stage == StageTLS && e.Code/100 != 2 && f.Reason != ReasonTooManyConn && f.Reason != ReasonSpeeding {
		// A refused STARTTLS: whatever the reply says, TLS did not start.
		f.Reason = ReasonFailedSTARTTLS
	}
	return f
}

func classifyGoSMTP(e *smtp.SMTPError, err error) Failure {
	// NoEnhancedCode ({-1,-1,-1}) and EnhancedCodeNotSet (the zero value)
	// are not Valid: the reply had none; then look in the text.
	if c := EnhancedCode(e.EnhancedCode); c.Valid() {
		return classifyMessage(e.Code, c, e.Message, err)
	}
	code, msg := findEnhancedCode(e.Message)
	return classifyMessage(e.Code, code, msg, err)
}

func classifyTextproto(e *textproto.Error, err error) Failure {
	code, msg := findEnhancedCode(e.Msg)
	return classifyMessage(e.Code, code, msg, err)
}

// classifyMessage classifies a "\n"-joined reply message whose first line is
// without its enhanced code.
func classifyMessage(code int, enh EnhancedCode, msg string, err error) Failure {
	f := Failure{Code: code, EnhancedCode: enh, Err: err}
	f.Lines = splitLines(msg, enh)
	var first string
	var more []string
	if len(f.Lines) > 0 {
		first, more = f.Lines[0], f.Lines[1:]
	}
	f.Reason, f.Detail = replyReason(code, enh, first, more, StageUnknown)
	f.Permanent = replyPermanent(code, enh, f.Detail)
	settleTemporary(&f)
	return f
}

// settleTemporary corrects a reason that contradicts a temporary reply: a
// domain that "does not exist" in a 4xx reply (Postfix's "450 4.1.2 Domain
// not found", Gmail's delayed "DNS Error ... NXDOMAIN") is a DNS lookup
// that failed for now, a network error, until a permanent answer says so.
// Without any code the reply says nothing about permanence, and the reason
// stands.
func settleTemporary(f *Failure) {
	if !f.Permanent && f.Reason == ReasonHostUnknown && (f.Code != 0 || !f.EnhancedCode.IsZero()) {
		f.Reason = ReasonNetworkError
	}
}

// findEnhancedCode finds the enhanced code of a "\n"-joined reply message: at
// the start of the first line (RFC 2034 section 4), or else at the start of
// the last line, where go-smtp's server puts it in multi-line replies. It
// returns the message with the code cut from the first line.
func findEnhancedCode(msg string) (code EnhancedCode, rest string) {
	if c, r, ok := CutEnhancedCode(msg); ok {
		return c, r
	}
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		if c, _, ok := CutEnhancedCode(msg[i+1:]); ok {
			return c, msg
		}
	}
	return EnhancedCode{}, msg
}

// splitLines splits a "\n"-joined multi-line reply message (as net/textproto
// returns it) and removes the repeated enhanced code from each further line.
// The first line must already be without it.
func splitLines(msg string, enh EnhancedCode) []string {
	if msg == "" {
		return nil
	}
	lines := make([]string, 0, 1+strings.Count(msg, "\n"))
	for {
		line, rest, more := strings.Cut(msg, "\n")
		line = strings.TrimSuffix(line, "\r")
		if len(lines) > 0 && !enh.IsZero() {
			if c, r, ok := CutEnhancedCode(line); ok && c == enh {
				line = r
			}
		}
		lines = append(lines, line)
		if !more {
			return lines
		}
		msg = rest
	}
}

// replyPermanent decides permanence from the reply code class, or the
// enhanced code's class when there is no reply code.
func replyPermanent(code int, enh EnhancedCode, detail Detail) bool {
	switch code / 100 {
	case 5:
		// RFC 5321 section 4.5.3.1.10: a 552 "too many recipients" is to be
		// treated as temporary; the remaining recipients go in a new
		// transaction.
		if code == 552 && detail == DetailTooManyRecipients {
			return false
		}
		return true
	case 0:
		return enh[0] == 5
	}
	return false
}

// replyReason decides the reason of a reply: enhanced code, reply code, text.
// stage is the command the reply answered, if known.
func replyReason(code int, enh EnhancedCode, first string, more []string, stage Stage) (Reason, Detail) {
	if code/100 == 2 || code == 0 && enh[0] == 2 {
		return ReasonDelivered, ""
	}
	enhReason, generic := enhancedReason(enh)
	limit := len(textRules)
	if enhReason != "" && !generic {
		// Only strong phrases override a specific enhanced code.
		limit = firstWeakRule
	}
	if enh[0] == 5 && enh[1] == 3 && enh[2] == 2 {
		// X.3.2 under a permanent reply is Postfix postscreen's answer to a
		// client it rejects ("521 5.3.2 Service currently unavailable" for
		// its access list, "550 5.3.2" for other tests), also under RFC
		// 7504's 521: about our client unless the text says the host
		// accepts no mail ("521 5.3.2 mail.example.org does not accept
		// mail") or a strong phrase says more.
		if ri := matchText(first, more, len(textRules)); ri >= 0 && (textRules[ri].strong || textRules[ri].reason == ReasonNotAccept) {
			limit = len(textRules)
		} else {
			return ReasonBlocked, ""
		}
	}
	ri, about := scanText(first, more, limit, true)
	r, d := textReason(code, enh, enhReason, ri)
	if ri < 0 && enh[0] == 5 {
		if cr, ok := codeTextReason(enh, first, more, stage); ok {
			r, d = cr, ""
		}
	}
	if about >= 0 && (r == ReasonUserUnknown || r == ReasonHostUnknown || r == ReasonHasMoved || r == ReasonNotAccept) {
		// A reply about us (our client, HELO, sender or rate) is never a
		// hard bounce of the recipient: "550 5.1.1 <x>: Sender address
		// rejected: undeliverable address" is about our sender, and Exim's
		// "Unrouteable address ... Sender verify failed" about our
		// sender's domain.
		return aboutUsRules[about].reason, ""
	}
	if stage == StageMail && (r == ReasonUserUnknown || r == ReasonHostUnknown || r == ReasonHasMoved || r == ReasonNotAccept) {
		// A reply to MAIL FROM names no recipient (RFC 5321 section 3.3):
		// "550 5.1.1 User unknown" there is about our envelope sender,
		// sisimai's rejected, which no suppression policy holds against
		// the recipients.
		return ReasonRejected, ""
	}
	return r, d
}

// codeTextRule is a phrase that decides under one permanent enhanced code
// (X.subject.detail), where an MTA uses that code for something else than
// the registry's meaning and says so in its text.
type codeTextRule struct {
	subject, detail int
	phrase          string // Lower case ASCII, matched as textRules are.
	reason          Reason
	rcpt            bool // Only for a reply to RCPT TO (see codeTextReason).
}

// codeTextRules is read-only. They are tried only when no strong phrase
// matched, so an about-us reply ("Sender address rejected") still wins.
var codeTextRules = [...]codeTextRule{
	// X.2.1 is "mailbox disabled" (RFC 3463 section 3.3: the mailbox
	// exists), yet servers answer RCPT TO for an address they do not have
	// with a Sendmail-style "550 5.2.1 <x@example.org>... User Unknown"
	// (sisimai's Exim, Yandex, Zoho, Amazon WorkMail and PowerMTA bounces
	// quote it), and Yandex's bounce help reads "User unknown", "No such
	// user here" and "User not found" in a Diagnostic-Code as an address
	// that does not exist. The text wins where it answers RCPT TO, as
	// sisimai's userunknown rule decides for a status outside X.1.x; a
	// reply whose command is unknown keeps the code's meaning, since a
	// "user unknown" that could answer the data is no proof that the
	// address is gone (the same judgment as queue's reading of DSNs).
	{2, 1, "user unknown", ReasonUserUnknown, true},
	{2, 1, "unknown user", ReasonUserUnknown, true},
	{2, 1, "no such user", ReasonUserUnknown, true},
	{2, 1, "user not found", ReasonUserUnknown, true},
	{2, 1, "user does not exist", ReasonUserUnknown, true},
	{2, 1, "unknown recipient", ReasonUserUnknown, true},
	{2, 1, "recipient unknown", ReasonUserUnknown, true},
	{2, 1, "no such recipient", ReasonUserUnknown, true},
	{2, 1, "no such mailbox", ReasonUserUnknown, true},
	{2, 1, "mailbox does not exist", ReasonUserUnknown, true},

	// Exchange Online's directory based edge blocking answers a recipient
	// that is not in the tenant's directory with "550 5.4.1 Recipient
	// address rejected: Access denied" (Microsoft's Exchange Online NDR
	// documentation for 5.4.1; AS(201806281) is matched in textRules). The
	// same text under another code is Postfix's default reply for an
	// access(5) REJECT of the recipient, a policy, so it is scoped to
	// X.4.1, which the registry reserves for "no answer from host".
	{4, 1, "recipient address rejected: access denied", ReasonUserUnknown, false},
}

// codeTextReason returns the reason of the first of codeTextRules for enh
// that matches the reply. A rule for replies to RCPT TO needs stage
// StageRcpt, or, when the stage is unknown, a reply text that names the
// command: Exim's "SMTP error from remote mail server after RCPT TO:<x>",
// Postfix's "(in reply to RCPT TO command)".
func codeTextReason(enh EnhancedCode, first string, more []string, stage Stage) (Reason, bool) {
	var t *foldedReply
	for k := range codeTextRules {
		r := &codeTextRules[k]
		if r.subject != enh[1] || r.detail != enh[2] {
			continue
		}
		if r.rcpt && stage != StageRcpt && stage != StageUnknown {
			continue
		}
		if t == nil {
			t = &foldedReply{}
			t.fold(first, more)
		}
		if !t.contains(r.phrase) {
			continue
		}
		if r.rcpt && stage == StageUnknown && !t.contains("rcpt to") {
			continue
		}
		return r.reason, true
	}
	return "", false
}

// textReason decides from the matched text rule ri (or -1), then the
// enhanced code's reason, then the reply code.
func textReason(code int, enh EnhancedCode, enhReason Reason, ri int) (Reason, Detail) {
	if ri >= 0 {
		r := &textRules[ri]
		d := r.detail
		if d == "" && r.reason == ReasonTooManyConn && enh[1] == 5 && enh[2] == 3 {
			d = DetailTooManyRecipients
		}
		return r.reason, d
	}
	if enhReason != "" {
		if enhReason == ReasonTooManyConn && enh[1] == 5 && enh[2] == 3 {
			return enhReason, DetailTooManyRecipients
		}
		return enhReason, ""
	}
	return codeReason(code), ""
}

// codeReason gives the reason for a reply code alone (RFC 5321 section
// 4.2.2 and 4.2.3, RFC 7504, RFC 4954).
func codeReason(code int) Reason {
	switch code {
	case 421: // Service not available, closing transmission channel.
		return ReasonSystemError
	case 451: // Local error in processing.
		return ReasonSystemError
	case 452: // Insufficient system storage.
		return ReasonSystemFull
	case 454, 530, 534, 535, 538: // TLS or AUTH temporarily or permanently unavailable (RFC 3207, RFC 4954).
		return ReasonSecurityError
	case 455, 555: // Server unable to accommodate parameters; MAIL/RCPT parameters not recognized.
		return ReasonSyntaxError
	case 500, 501, 502, 503, 504: // Syntax error, bad sequence, not implemented.
		return ReasonSyntaxError
	case 521, 556: // Host or domain does not accept mail (RFC 7504).
		return ReasonNotAccept
	case 525: // User account disabled (RFC 5248, 5.7.13).
		return ReasonSuspend
	case 551: // User not local; please try <forward-path>.
		return ReasonHasMoved
	case 552: // Exceeded storage allocation.
		return ReasonMailboxFull
	}
	if code/100 == 2 {
		return ReasonDelivered
	}
	// 450, 550, 553, 554 and the rest say too little.
	return ReasonUndefined
}

// enhancedReason maps an enhanced code to a reason (the IANA registry of
// enhanced status codes, RFC 3463 and later). generic is true for codes that
// say little, for which a matching text phrase decides instead: X.0.0, the
// X.N.0 "other" codes, X.7.1 ("delivery not authorized", used for anything
// from DNSBL listings to spam) and details the registry does not have
// (vendor codes such as Microsoft's 5.7.606); then the returned reason is the
// fallback when no phrase matches, and "" means the reply code decides.
func enhancedReason(c EnhancedCode) (r Reason, generic bool) {
	if c[0] == 0 {
		return "", true
	}
	temp := c[0] == 4
	switch c[1]*1000 + c[2] {
	case 0: // X.0.0 Other undefined status.
		return "", true

	case 1000: // X.1.0 Other address status; "#5.1.0 Address rejected".
		return ReasonUserUnknown, true
	case 1001: // X.1.1 Bad destination mailbox address.
		return ReasonUserUnknown, false
	case 1002: // X.1.2 Bad destination system address.
		return ReasonHostUnknown, false
	case 1003: // X.1.3 Bad destination mailbox address syntax.
		return ReasonUserUnknown, false
	case 1004: // X.1.4 Destination mailbox address ambiguous; as sisimai.
		return ReasonFiltered, false
	case 1005: // X.1.5 Destination address valid.
		return ReasonDelivered, false
	case 1006: // X.1.6 Destination mailbox has moved, no forwarding address.
		return ReasonHasMoved, false
	case 1007, 1008: // X.1.7, X.1.8 Bad sender's mailbox address syntax / system address.
		return ReasonRejected, false
	case 1009: // X.1.9 Message relayed to non-compliant mailer.
		return ReasonSystemError, false
	case 1010: // X.1.10 Recipient address has null MX (RFC 7505).
		return ReasonNotAccept, false

	case 2000: // X.2.0 Other or undefined mailbox status; as sisimai.
		if temp {
			return "", true
		}
		return ReasonFiltered, true
	case 2001: // X.2.1 Mailbox disabled, not accepting messages. sisimai says
		// filtered (5.x) or blocked (4.x); the registry's text is sisimai's
		// own definition of suspend.
		return ReasonSuspend, false
	case 2002: // X.2.2 Mailbox full.
		return ReasonMailboxFull, false
	case 2003: // X.2.3 Message length exceeds administrative limit.
		return ReasonExceedLimit, false
	case 2004: // X.2.4 Mailing list expansion problem; as sisimai.
		return ReasonFiltered, false

	case 3000: // X.3.0 Other or undefined mail system status.
		return ReasonSystemError, true
	case 3001: // X.3.1 Mail system full.
		return ReasonSystemFull, false
	case 3002: // X.3.2 System not accepting network messages.
		if temp {
			return ReasonNotAccept, false
		}
		// A state of the receiving system (shutdown, load), not of the
		// address, and Postfix postscreen's reply to a client it rejects:
		// never a hard bounce by itself. sisimai says notaccept. See
		// replyReason for the texts that still make it notaccept.
		return ReasonBlocked, false
	case 3003, 3005: // X.3.3 System not capable of selected features; X.3.5 incorrectly configured.
		return ReasonSystemError, false
	case 3004: // X.3.4 Message too big for system.
		return ReasonMesgTooBig, false

	case 4000: // X.4.0 Other or undefined network or routing status.
		return ReasonNetworkError, true
	case 4001, 4002: // X.4.1 No answer from host; X.4.2 bad connection. sisimai
		// says expired for 4.4.1, as seen in DSNs written when giving up; a
		// live reply or attempt is a network error.
		return ReasonNetworkError, false
	case 4003: // X.4.3 Directory server failure.
		return ReasonSystemError, false
	case 4004: // X.4.4 Unable to route: permanent means no such domain.
		if temp {
			return ReasonNetworkError, false
		}
		return ReasonHostUnknown, false
	case 4005: // X.4.5 Mail system congestion; as sisimai.
		return ReasonSystemFull, false
	case 4006: // X.4.6 Routing loop detected.
		return ReasonNetworkError, false
	case 4007: // X.4.7 Delivery time expired: the queue gave up, and the
		// text may say on what.
		return ReasonExpired, true

	case 5000: // X.5.0 Other or undefined protocol status.
		return ReasonSyntaxError, true
	case 5001, 5002, 5004, 5005, 5006: // Invalid command, syntax error, invalid arguments, wrong version, AUTH line too long.
		return ReasonSyntaxError, false
	case 5003: // X.5.3 Too many recipients.
		return ReasonTooManyConn, false

	case 6000: // X.6.0 Other or undefined media error.
		return ReasonContentError, true
	case 6001, 6002, 6003, 6004, 6005, 6006, 6007, 6008, 6009, 6010: // Media, conversion, SMTPUTF8 (RFC 6531).
		return ReasonContentError, false

	case 7000: // X.7.0 Other or undefined security status.
		if temp {
			return "", true
		}
		return ReasonSecurityError, true
	case 7001: // X.7.1 Delivery not authorized, message refused; as sisimai.
		if temp {
			return ReasonBlocked, true
		}
		return ReasonSecurityError, true
	case 7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009, 7010, 7011, 7012, 7014, 7015, 7019:
		// List expansion prohibited, security conversion, crypto, AUTH
		// (RFC 4954), trust relationship, priority too low (RFC 6710), RRVS
		// cannot be completed (RFC 7293).
		return ReasonSecurityError, false
	case 7013: // X.7.13 User account disabled (RFC 5248).
		return ReasonSuspend, false
	case 7016: // X.7.16 Message too big for the specified priority (RFC 6710).
		return ReasonMesgTooBig, false
	case 7017, 7018: // X.7.17 Mailbox owner changed; X.7.18 domain owner changed (RFC 7293).
		return ReasonHasMoved, false
	case 7020, 7021, 7022, 7023, 7024, 7026, 7029: // DKIM, SPF, multiple checks (RFC 7372), ARC (RFC 8617).
		return ReasonAuthFailure, false
	case 7025: // X.7.25 Reverse DNS validation failed (RFC 7372).
		return ReasonRequirePTR, false
	case 7027: // X.7.27 Sender address has null MX (RFC 7505). sisimai says
		// notaccept, which would make the recipient a hard bounce for a
		// problem of the sender's domain.
		return ReasonRejected, false
	case 7028: // X.7.28 Mail flood detected (RFC 8689 registry entry).
		return ReasonSpamDetected, false
	case 7030: // X.7.30 REQUIRETLS support required (RFC 8689).
		return ReasonFailedSTARTTLS, false
	}
	// A detail the registry does not have: the subject's "other" code.
	if c[2] != 0 && c[1] >= 1 && c[1] <= 7 {
		r, _ := enhancedReason(EnhancedCode{c[0], c[1], 0})
		return r, true
	}
	return "", true
}

// classifyOther classifies errors that are not SMTP replies. stage is the
// stage the host's SMTPError named, if any; a TLS error at StageTLS is
// failedstarttls. Without one, the kind of error sets it where it implies
// one (DNS, dial, TLS).
func classifyOther(err error, stage Stage) Failure {
	f := Failure{Reason: ReasonUndefined, Stage: stage, Err: err}
	implied := func(s Stage) {
		if f.Stage == StageUnknown {
			f.Stage = s
		}
	}
	tlsFailure := func(d Detail) Failure {
		f.Reason, f.Detail = ReasonSecurityError, d
		if stage == StageTLS {
			f.Reason = ReasonFailedSTARTTLS
		}
		implied(StageTLS)
		return f
	}

	// Canceled first: net errors wrap it when a dial or read is canceled.
	if errors.Is(err, context.Canceled) {
		f.Reason, f.Detail = ReasonOnHold, DetailCanceled
		return f
	}

	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr != nil {
		implied(StageDNS)
		switch {
		case dnsErr.IsNotFound:
			// NXDOMAIN: the domain (or its MX host) does not exist.
			f.Permanent, f.Reason, f.Detail = true, ReasonHostUnknown, DetailDNSNotFound
		case dnsErr.IsTimeout:
			f.Reason, f.Detail = ReasonNetworkError, DetailDNSTimeout
		default:
			// SERVFAIL ("server misbehaving") and other temporary failures.
			f.Reason, f.Detail = ReasonNetworkError, DetailDNSTemporary
		}
		return f
	}

	// Certificate errors before TLS handshake errors: the x509 errors are
	// wrapped in a *tls.CertificateVerificationError.
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verification *tls.CertificateVerificationError
	var recordHeader tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &unknownAuthority):
		return tlsFailure(DetailCertificateUnknownAuthority)
	case errors.As(err, &hostname):
		return tlsFailure(DetailCertificateHostname)
	case errors.As(err, &invalid):
		return tlsFailure(DetailCertificateInvalid)
	case errors.As(err, &verification):
		return tlsFailure(DetailCertificate)
	case errors.As(err, &recordHeader):
		return tlsFailure(DetailTLSRecordHeader)
	case errors.As(err, &alert):
		return tlsFailure(DetailTLSAlert)
	}

	f.Reason = ReasonNetworkError
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr != nil && opErr.Op == "dial" {
		implied(StageDial)
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		// A deadline on the attempt and an I/O timeout are the same to the
		// retry policy: the peer was too slow or unreachable.
		f.Detail = DetailTimeout
	case errors.As(err, &netErr) && netErr != nil && netErr.Timeout():
		f.Detail = DetailTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		f.Detail = DetailConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		f.Detail = DetailConnectionReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		f.Detail = DetailUnreachable
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The server hung up mid-conversation.
		f.Detail = DetailEOF
	case opErr != nil:
		f.Detail = DetailNetwork
	default:
		f.Reason = ReasonUndefined
	}
	return f
}
