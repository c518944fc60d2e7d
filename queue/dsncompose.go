package queue

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// defaultComposer composes DSNs with package dsn, with English text. It is
// used when Handler.DSNComposer is nil.
type defaultComposer struct{}

// ComposeDSN implements DSNComposer.
func (defaultComposer) ComposeDSN(req DSNRequest) ([]byte, error) {
	m := req.Msg
	msg := dsn.Message{
		From:                 req.From,
		To:                   req.To,
		Subject:              dsnSubject(req.Kind),
		MessageID:            req.MessageID,
		Date:                 req.Date,
		SMTPUTF8:             m.SMTPUTF8,
		TextBody:             dsnText(req),
		OriginalEnvelopeID:   m.EnvID, // RFC 3464 section 2.2.1.
		ReportingMTA:         req.Hostname,
		ArrivalDate:          m.Queued,
		FutureReleaseRequest: m.FutureReleaseRequest,
		Original:             req.Original,
		Ret:                  dsn.RetFull,
	}
	if m.MessageID != "" {
		msg.OriginalMessageID = "<" + m.MessageID + ">"
	}
	if req.HeadersOnly {
		msg.Ret = dsn.RetHeaders // RFC 3461 section 4.3.
	}
	for _, r := range req.Recipients {
		msg.Recipients = append(msg.Recipients, dsnRecipient(req.Kind, r))
	}
	var buf bytes.Buffer
	if err := msg.Compose(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dsnSubject(kind DSNKind) string {
	switch kind {
	case DSNDelayed:
		return "Mail delivery delayed"
	case DSNRelayed, DSNExpanded:
		return "Mail delivery report"
	}
	return "Mail delivery failed"
}

// dsnAction returns the Action field of kind, RFC 3464 section 2.3.3.
func dsnAction(kind DSNKind) dsn.Action {
	switch kind {
	case DSNDelayed:
		return dsn.ActionDelayed
	case DSNRelayed:
		return dsn.ActionRelayed
	case DSNExpanded:
		return dsn.ActionExpanded
	}
	return dsn.ActionFailed
}

// dsnRecipient returns the per-recipient fields, RFC 3464 section 2.3.
func dsnRecipient(kind DSNKind, r DSNRecipient) dsn.Recipient {
	m, f := r.Msg, r.Failure
	rcpt := dsn.Recipient{
		FinalRecipient:  m.RecipientAddress,
		Action:          dsnAction(kind),
		Status:          dsnStatus(kind, f.EnhancedCode),
		RemoteMTA:       m.Attempt.RemoteMTA,
		RemoteIP:        m.Attempt.RemoteIP,
		LastAttemptDate: m.LastAttempt,
	}
	if kind == DSNDelayed {
		rcpt.WillRetryUntil = r.WillRetryUntil
	}
	if typ, addr, ok := strings.Cut(m.ORcpt, ";"); ok { // RFC 3464 section 2.3.1.
		rcpt.OriginalRecipientType = strings.ToLower(strings.TrimSpace(typ))
		rcpt.OriginalRecipient = strings.TrimSpace(addr)
	}
	if f.Code != 0 {
		rcpt.DiagnosticCode = smtpDiagnostic(f)
	} else if f.Err != nil {
		rcpt.StatusComment = strings.ReplaceAll(remoteText(f.Text()), "\n", " ")
	}
	return rcpt
}

// dsnStatus returns the Status field: the failure's enhanced code with its
// class set to 5 for failed, 4 for delayed (a temporary failure that
// exhausted its attempts is a failure now) and 2 for the success kinds, or
// the generic 5.0.0, 4.0.0 and 2.0.0.
func dsnStatus(kind DSNKind, enhanced bounce.EnhancedCode) string {
	class := 5
	switch kind {
	case DSNDelayed:
		class = 4
	case DSNRelayed, DSNExpanded:
		class = 2
	}
	if enhanced.IsZero() {
		enhanced = bounce.EnhancedCode{class, 0, 0}
	}
	return enhanced.WithClass(class).String()
}

// smtpDiagnostic returns the remote reply as a diagnostic code of type
// smtp, as the remote sent it (bounce.Failure.Text).
func smtpDiagnostic(f bounce.Failure) string {
	return remoteText(f.Text())
}

// remoteText replaces the control characters (but the line breaks between
// reply lines) and DEL in text from a remote server by spaces: Compose
// refuses them, and a reply must never keep its message from being failed.
func remoteText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// dsnText is the human-readable part.
func dsnText(req DSNRequest) string {
	var b strings.Builder
	switch req.Kind {
	case DSNDelayed:
		b.WriteString("Delivery of your message has been delayed for these recipients:\n\n")
	case DSNRelayed:
		b.WriteString("Your message was passed on for these recipients to a system that sends no delivery notifications:\n\n")
	case DSNExpanded:
		b.WriteString("Your message was delivered to these addresses, which pass it on to further recipients:\n\n")
	default:
		b.WriteString("Delivery of your message has failed permanently for these recipients:\n\n")
	}
	for _, r := range req.Recipients {
		fmt.Fprintf(&b, "\t%s\n", r.Msg.RecipientAddress)
	}
	switch req.Kind {
	case DSNRelayed, DSNExpanded:
		// A success has no error to quote and no attempts to come.
		return b.String()
	case DSNDelayed:
		until := req.Recipients[0].WillRetryUntil
		b.WriteString("\nWe will keep trying to deliver it")
		if !until.IsZero() {
			fmt.Fprintf(&b, " until %s", until.UTC().Format(time.RFC1123))
		}
		b.WriteString(". You do not need to send it again. If all attempts fail, you will receive a notice.\n")
	default:
		b.WriteString("\nNo further attempts will be made.\n")
	}
	f := req.Recipients[0].Failure
	if text := f.Text(); text != "" {
		b.WriteString("\nError during the last delivery attempt:\n\n\t" + strings.ReplaceAll(text, "\n", "\n\t") + "\n")
	}
	return b.String()
}
