package report

import (
	"bytes"
	"errors"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// Kind says what a returned message is.
type Kind string

// Kinds of message Read tells apart.
const (
	KindDSN          Kind = "dsn"          // A delivery status notification with a delivery-status part (RFC 3464, RFC 6533).
	KindBounce       Kind = "bounce"       // A bounce without a readable delivery-status part (qmail, Exim, Exchange, ...), read from its text.
	KindFeedback     Kind = "feedback"     // A feedback report (RFC 5965 ARF), such as a spam complaint.
	KindNotification Kind = "notification" // A sending service's own notification (Amazon SES): a bounce, delivery or complaint.
	KindAutoReply    Kind = "autoreply"    // An automatic reply (RFC 3834), such as a vacation message; never a bounce.
	KindNone         Kind = "none"         // None of the above.
)

// FormatARF is the Format of an RFC 5965 feedback report.
const FormatARF Format = "arf"

// Report is what Read found in a returned message.
type Report struct {
	// Kind says what the message is; Format names the software or
	// service whose layout was recognised, when it was (empty for
	// KindNone).
	Kind   Kind
	Format Format

	// MessageID and Subject are the returned message's own Message-ID
	// (without angle brackets) and Subject (RFC 2047 encoded words
	// decoded): the report's, not the original message's.
	MessageID string
	Subject   string

	// EnvelopeID is the Original-Envelope-Id of a DSN (RFC 3464 section
	// 2.2.1): the ENVID the sender gave (RFC 3461 section 4.4).
	EnvelopeID string

	// OriginalMessageID is the Message-ID of the message the report is
	// about, without angle brackets, from the returned message or header
	// block; empty if the report does not include it.
	OriginalMessageID string

	// OriginalHeader is the header of the returned message, where the
	// bounce text reader found one (a message/rfc822 or
	// text/rfc822-headers part, or a header block after the text); nil
	// otherwise.
	OriginalHeader mail.Header

	// Recipients holds one entry per recipient the report is about, in
	// the order of the report, at most MaxRecipients. Empty for a
	// feedback report, an auto-reply, and a bounce that names no address
	// that could be found.
	Recipients []Recipient

	// Truncated is set when the report named more than MaxRecipients
	// recipients and the rest were dropped.
	Truncated bool

	// Feedback is set for KindFeedback, and for a KindNotification that
	// is a complaint.
	Feedback *Feedback

	// DSNError says why a message with a delivery-status part could not
	// be read as an RFC 3464 DSN (package dsn's error); nil otherwise.
	DSNError error
}

// Recipient is one recipient of the original message that a report is
// about.
type Recipient struct {
	// Address is the recipient's address as the report gives it: the
	// Final-Recipient of a DSN (RFC 3464 section 2.3.2), without its type;
	// for a pipe or a non-Internet mail system it may not contain an "@".
	Address string

	// OriginalRecipient is the Original-Recipient of a DSN (RFC 3464
	// section 2.3.1), the address as the sender gave it (ORCPT), if given.
	OriginalRecipient string

	// ActualRecipient is where the message went when that differs from
	// Address: the X-Actual-Recipient field Postfix adds (a pipe, an
	// alias), or the Final-Recipient of a DSN, such as a pipe or file,
	// when the text names the address it was for (then Address). Empty
	// otherwise.
	ActualRecipient string

	// Action is what the reporting MTA did (RFC 3464 section 2.3.3).
	// Without a delivery-status part it is failed or delayed, judged from
	// the codes and wording of the bounce.
	Action dsn.Action

	// Status is the enhanced status code (RFC 3463), zero when the report
	// has none or it does not parse.
	Status bounce.EnhancedCode

	// Code is the first SMTP reply code (RFC 5321) in the diagnostic (in
	// a DSN, one of type smtp), or 0.
	Code int

	// RemoteMTA is the Remote-MTA of a DSN (RFC 3464 section 2.3.5), the
	// host that gave the diagnostic; empty if not given.
	RemoteMTA string

	// DiagnosticType is the lower-case type of a DSN's Diagnostic-Code
	// (RFC 3464 section 2.3.6), such as "smtp" or "x-unix"; empty
	// otherwise.
	DiagnosticType string

	// Diagnostic is the remote server's reply or the bounce's error
	// sentence, with line breaks replaced by spaces: the text a classifier
	// searches.
	Diagnostic string

	// Stage is the SMTP command the reply answered, when the report says
	// it: a transcript (">>> RCPT To:" then "<<< 550 ..."), or the
	// diagnostic's words (Postfix "in reply to RCPT TO command", Exim
	// "after RCPT TO", "in reply to MAIL FROM command").
	Stage bounce.Stage

	// LastAttempt is the Last-Attempt-Date of a DSN (RFC 3464 section
	// 2.3.7); zero if absent.
	LastAttempt time.Time
}

// MaxHeader is how much of a message Read reads for the message's own
// header (Message-ID, Subject, auto-reply fields).
const MaxHeader = 256 << 10

// Read reads a returned message held in memory: see ReadAt.
func Read(msg []byte) *Report {
	return ReadAt(bytes.NewReader(msg), int64(len(msg)))
}

// ReadAt reads the returned message of size bytes in r: a DSN (RFC 3464,
// read by package dsn), a feedback report (RFC 5965), a provider
// notification, a bounce in another format, an auto-reply (RFC 3834), or
// anything else (KindNone). It never fails: what it cannot read is
// KindNone, and a delivery-status part that package dsn refused is reported
// in DSNError. Only the first MaxSize bytes are read; line endings may be
// CRLF, LF or CR.
//
// The message is walked once, by dsn.Parse, and read from r in bounded
// pieces: a host can pass a file or a database blob without loading it,
// and the memory ReadAt needs does not follow the message's size beyond
// the limits in the package documentation.
func ReadAt(r io.ReaderAt, size int64) *Report {
	msg, m, err := newMessage(r, size)
	rep := &Report{Kind: KindNone}
	rep.MessageID = trimMessageID(msg.header.Get("Message-Id"))
	rep.Subject = decodeHeader(msg.header.Get("Subject"))

	if m != nil {
		rep.EnvelopeID = strings.TrimSpace(m.OriginalEnvelopeID)
		rep.OriginalMessageID = trimMessageID(m.OriginalMessageID)
	}
	if err == nil && len(m.Recipients) > 0 {
		readDSN(rep, m, msg)
		return rep
	}
	if err != nil && !errors.Is(err, dsn.ErrNotDSN) && !errors.Is(err, dsn.ErrNoRecipients) {
		rep.DSNError = err
	}

	tr, fb, err := readTextOrFeedback(msg)
	switch {
	case fb != nil:
		rep.Kind, rep.Format, rep.Feedback = KindFeedback, FormatARF, fb
		if rep.OriginalMessageID == "" {
			rep.OriginalMessageID = fb.MessageID
		}
		return rep
	case err != nil:
		if isAutoReply(msg.header) {
			rep.Kind, rep.Format = KindAutoReply, FormatAutoReply
		}
		return rep
	}
	rep.Format = tr.Format
	if rep.OriginalMessageID == "" {
		rep.OriginalMessageID = trimMessageID(tr.OriginalMessageID)
	}
	rep.OriginalHeader = tr.OriginalHeader
	switch {
	case tr.Complaint != nil:
		c := tr.Complaint
		rep.Kind = KindNotification
		rep.Feedback = &Feedback{Type: c.FeedbackType, UserAgent: c.UserAgent, OriginalRcptTo: c.Recipients, MessageID: trimMessageID(tr.OriginalMessageID)}
		return rep
	case tr.AutoReply:
		rep.Kind = KindAutoReply
		return rep
	case tr.notification:
		rep.Kind = KindNotification
	case tr.DSN && len(tr.Recipients) > 0:
		rep.Kind = KindDSN
	default:
		rep.Kind = KindBounce
	}
	rep.Truncated = tr.Truncated
	for _, tc := range tr.Recipients {
		rep.Recipients = append(rep.Recipients, fromText(tc))
	}
	return rep
}

// readDSN fills r from the RFC 3464 DSN m that package dsn read from msg.
// Where a recipient lacks a diagnostic, or the diagnostic does not say
// which command it answered, the bounce text reader completes it: some
// MTAs put the reply, or the command, only in the text part.
func readDSN(r *Report, m *dsn.Message, msg *message) {
	r.Kind, r.Format = KindDSN, FormatRFC3464
	rcpts := m.Recipients
	r.Truncated = m.Truncated
	if len(rcpts) > MaxRecipients {
		rcpts = rcpts[:MaxRecipients]
		r.Truncated = true
	}
	r.Recipients = make([]Recipient, 0, len(rcpts))
	var tr *textReport // Read once, when a recipient needs it.
	textRead := false
	for i, dr := range rcpts {
		rc := Recipient{
			Address:           strings.TrimSpace(dr.FinalRecipient),
			OriginalRecipient: strings.TrimSpace(dr.OriginalRecipient),
			ActualRecipient:   strings.TrimSpace(firstValue(dr.Extra["X-Actual-Recipient"])),
			Action:            dr.Action,
			Status:            enhancedCode(dr.Status),
			RemoteMTA:         dr.RemoteMTA,
			DiagnosticType:    dr.DiagnosticType,
			Diagnostic:        unlabeledISO2022JP(dr.DiagnosticCode),
			LastAttempt:       dr.LastAttemptDate,
		}
		if rc.DiagnosticType == "smtp" || rc.DiagnosticType == "" {
			// RFC 3464 section 2.3.6: an smtp diagnostic is the reply.
			rc.Code, _ = codes(rc.Diagnostic)
		}
		rc.Stage = stageOf("", rc.Diagnostic)
		if rc.Diagnostic == "" && (rc.Action == dsn.ActionFailed || rc.Action == dsn.ActionDelayed) || rc.Stage == bounce.StageUnknown {
			if !textRead {
				tr, _, _ = readTextWith(msg, m.Recipients)
				textRead = true
			}
			completeFromText(&rc, tr, i, len(rcpts))
		}
		r.Recipients = append(r.Recipients, rc)
	}
	if tr != nil && tr.Format != "" && tr.Format != FormatGeneric {
		r.Format = tr.Format
	}
	if r.OriginalMessageID == "" && tr != nil {
		r.OriginalMessageID = trimMessageID(tr.OriginalMessageID)
	}
	if tr != nil {
		r.OriginalHeader = tr.OriginalHeader
	}
}

// completeFromText completes DSN recipient i of n from the bounce text
// reader's recipient of the same address, or of the same position when the
// text names as many recipients but under other addresses (Exim names the
// address a file or pipe delivery was for).
func completeFromText(rc *Recipient, tr *textReport, i, n int) {
	if tr == nil {
		return
	}
	for j, t := range tr.Recipients {
		if !strings.EqualFold(t.Address, rc.Address) && !(j == i && len(tr.Recipients) == n && !strings.Contains(rc.Address, "@")) {
			continue
		}
		if !strings.Contains(rc.Address, "@") && strings.Contains(t.Address, "@") {
			// A file or pipe: the text names the address it was for.
			if rc.ActualRecipient == "" {
				rc.ActualRecipient = rc.Address
			}
			rc.Address = t.Address
		}
		if rc.Diagnostic == "" {
			rc.Diagnostic = t.Diagnostic
		}
		if rc.Stage == bounce.StageUnknown {
			rc.Stage = stageOf(t.Command, t.Diagnostic+" "+t.Context)
		}
		if rc.Code == 0 {
			rc.Code = t.Code
		}
		if rc.Status.IsZero() {
			rc.Status = enhancedCode(t.Status)
		}
		return
	}
}

// fromText returns the Recipient of a recipient the bounce text reader found.
func fromText(t textRecipient) Recipient {
	return Recipient{
		Address:           strings.TrimSpace(t.Address),
		OriginalRecipient: strings.TrimSpace(t.OriginalRecipient),
		Action:            dsn.Action(t.Action),
		Status:            enhancedCode(t.Status),
		Code:              t.Code,
		Diagnostic:        t.Diagnostic,
		Stage:             stageOf(t.Command, t.Diagnostic),
	}
}

// stageOf returns the stage a reply answered: the command a transcript
// shows, else what the reporting MTA's own words around the reply say (see
// stagePhrases). RCPT TO and the data stages decide whether "user
// unknown" is about the recipient; the greeting, EHLO and MAIL FROM say the
// reply was about our client or sender. The remote
// server's own words are not read for a command: a sink's "554 message
// rejected after data" names no command.
func stageOf(command, s string) bounce.Stage {
	switch command {
	case "MAIL":
		return bounce.StageMail
	case "RCPT":
		return bounce.StageRcpt
	case "DATA", "BDAT":
		return bounce.StageData
	}
	s = strings.ToLower(s)
	for _, p := range stagePhrases {
		if strings.Contains(s, p.phrase) {
			return p.stage
		}
	}
	return bounce.StageUnknown
}

// stagePhrases are the words with which MTAs name the command a reply
// answered, lower case, tried in order: the end of the data before DATA,
// which it contains.
var stagePhrases = []struct {
	phrase string
	stage  bounce.Stage
}{
	// "end of data" is the reply after the message (RFC 5321 section
	// 4.1.1.4), in every MTA's wording: Postfix smtp(8) "(in reply to end
	// of DATA command)", Exim's smtp transport "after end of data" and
	// "after pipelined end of data", its LMTP transport "LMTP error after
	// end of data".
	{"end of data", bounce.StageDataEnd},
	// Postfix smtp(8): "(in reply to DATA command)".
	{"in reply to data", bounce.StageData},
	// Exim's smtp transport writes "SMTP error from remote mail server
	// after %s%s: %s", an optional "pipelined " and the command as sent,
	// then a colon (transports/smtp.c); its LMTP transport "LMTP error
	// after %s: %s". The colon tells Exim's DATA from a reply's prose.
	{"after data:", bounce.StageData},
	{"after pipelined data:", bounce.StageData},
	// Sendmail's session transcript: ">>> DATA".
	{">>> data", bounce.StageData},
	// RCPT TO in any of them: Postfix "(in reply to RCPT TO command)",
	// Exim "after RCPT TO:<x>" and "after pipelined RCPT TO:<x>", Sendmail
	// ">>> RCPT To:<x>".
	{"rcpt to", bounce.StageRcpt},
	{">>> rcpt", bounce.StageRcpt},
	{"in reply to rcpt", bounce.StageRcpt},
	{"after rcpt", bounce.StageRcpt},
	{"after pipelined rcpt", bounce.StageRcpt},
	// MAIL FROM, after RCPT TO: a transcript that reached RCPT TO passed
	// MAIL FROM. Postfix "(in reply to MAIL FROM command)", Exim "after
	// MAIL FROM:<x> SIZE=n:" (the command as sent), Sendmail ">>> MAIL
	// From:<x>". A reply to MAIL FROM is about our sender, never a hard
	// bounce of the recipient.
	{"in reply to mail from", bounce.StageMail},
	{"after mail from", bounce.StageMail},
	{"after pipelined mail from", bounce.StageMail},
	{">>> mail from", bounce.StageMail},
	// EHLO or HELO: Postfix "(in reply to EHLO command)", Exim "after
	// EHLO x:" and "after HELO x:".
	{"in reply to ehlo", bounce.StageEHLO},
	{"in reply to helo", bounce.StageEHLO},
	{"in reply to lhlo", bounce.StageEHLO},
	{"after ehlo", bounce.StageEHLO},
	{"after helo", bounce.StageEHLO},
	// The greeting: Postfix smtp(8) "host x[ip] refused to talk to me:
	// 554 ..." (a 4xx or 5xx greeting), Exim "SMTP error from remote mail
	// server after initial connection:".
	{"refused to talk to me", bounce.StageConnect},
	{"after initial connection", bounce.StageConnect},
}

// enhancedCode parses a Status; an invalid one counts as none.
func enhancedCode(s string) bounce.EnhancedCode {
	c, _ := bounce.ParseEnhancedCode(s)
	return c
}

// trimMessageID returns a Message-ID without spaces and angle brackets.
func trimMessageID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

// firstValue returns the first of a field's values, or empty.
func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
