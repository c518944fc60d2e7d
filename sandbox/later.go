package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"net/textproto"
	"strings"
	"time"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/queue"
)

// original is what the simulator keeps of an accepted message for a later
// report about it.
type original struct {
	mailFrom string // Envelope sender: the report goes there.
	rcpt     string
	orcpt    string // "type;address" from ORCPT, or empty.
	envID    string // ENVID, or empty.
	header   []byte
	arrival  time.Time
}

// field returns the value of the header field name of the original.
func (o original) field(name string) string {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(o.header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return ""
	}
	return strings.TrimSpace(h.Get(name))
}

// composeLater composes the report of kind about o, with Message-ID id
// (without <>) and Date now.
func composeLater(kind queue.IncomingKind, o original, hostname, id string, now time.Time) ([]byte, error) {
	switch kind {
	case queue.IncomingDSN:
		return composeDSN(o, hostname, id, now)
	case queue.IncomingFeedback:
		return composeARF(o, hostname, id, now), nil
	case queue.IncomingAutoReply:
		return composeAutoReply(o, id, now), nil
	}
	return nil, fmt.Errorf("sandbox: no later report of kind %q", kind)
}

// composeDSN makes the failed DSN (RFC 3464) of a remote MTA that accepted
// the message and then found the mailbox gone, as MTAs that accept first
// and deliver later do.
func composeDSN(o original, hostname, id string, now time.Time) ([]byte, error) {
	r := dsn.Recipient{
		FinalRecipient: o.rcpt,
		Action:         dsn.ActionFailed,
		Status:         "5.1.1", // RFC 3463: bad destination mailbox address.
		RemoteMTA:      hostname,
		DiagnosticType: "smtp",
		DiagnosticCode: "550 5.1.1 <" + o.rcpt + ">: mailbox does not exist (sandbox: localpart ends in asyncdsn)",
	}
	if typ, addr, ok := strings.Cut(o.orcpt, ";"); ok {
		r.OriginalRecipientType, r.OriginalRecipient = strings.ToLower(typ), addr
	}
	m := &dsn.Message{
		From:               "MAILER-DAEMON@" + hostname,
		To:                 o.mailFrom,
		Subject:            "Undelivered Mail Returned to Sender",
		MessageID:          id,
		Date:               now,
		OriginalMessageID:  o.field("Message-ID"),
		TextBody:           "The message was accepted, but could not be delivered to the mailbox:\n\n  <" + o.rcpt + ">: mailbox does not exist\n",
		OriginalEnvelopeID: o.envID, // RFC 3464 section 2.2.1.
		ReportingMTA:       hostname,
		ArrivalDate:        o.arrival,
		Recipients:         []dsn.Recipient{r},
		Original:           o.header,
		Ret:                dsn.RetHeaders,
	}
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		return nil, fmt.Errorf("sandbox: composing dsn: %w", err)
	}
	return buf.Bytes(), nil
}

// composeARF makes an abuse feedback report (RFC 5965) about o, as a
// mailbox provider's feedback loop sends when the recipient clicks "this
// is spam": a text part, the machine-readable report, and the original
// header.
func composeARF(o original, hostname, id string, now time.Time) []byte {
	boundary := "sandbox-arf-" + strings.Map(boundaryChar, id)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("From: Sandbox Feedback Loop <fbl@%s>", hostname)
	w("To: <%s>", o.mailFrom)
	w("Subject: Abuse report")
	w("Date: %s", now.Format(time.RFC1123Z))
	w("Message-ID: <%s>", id)
	w("MIME-Version: 1.0")
	// RFC 5965 section 2: multipart/report with report-type feedback-report.
	w(`Content-Type: multipart/report; report-type=feedback-report; boundary="%s"`, boundary)
	w("")
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=us-ascii")
	w("")
	w("This is an abuse report: the recipient <%s> marked the message as spam.", o.rcpt)
	w("--%s", boundary)
	w("Content-Type: message/feedback-report")
	w("")
	// RFC 5965 section 3.1 (required) and 3.2 (optional) fields.
	w("Feedback-Type: abuse")
	w("User-Agent: bouncekit-sandbox/0")
	w("Version: 1")
	w("Original-Mail-From: <%s>", o.mailFrom)
	w("Original-Rcpt-To: <%s>", o.rcpt)
	w("Arrival-Date: %s", o.arrival.Format(time.RFC1123Z))
	w("Reporting-MTA: dns; %s", hostname)
	w("Source-IP: 127.0.0.1")
	w("")
	w("--%s", boundary)
	// RFC 5965 section 2 item d: the original header only is allowed.
	w("Content-Type: text/rfc822-headers")
	w("")
	b.WriteString(strings.TrimRight(toCRLF(string(o.header)), "\r\n") + "\r\n")
	w("")
	w("--%s--", boundary)
	return []byte(b.String())
}

// composeAutoReply makes a vacation reply (RFC 3834) from the recipient to
// the envelope sender (section 4: the Return-Path), marked auto-replied
// (section 5) and threaded with the original (section 3.1.4).
func composeAutoReply(o original, id string, now time.Time) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	w("From: <%s>", o.rcpt)
	w("To: <%s>", o.mailFrom)
	// RFC 3834 section 3.1.5: "Auto:" before the original subject.
	w("Subject: Auto: %s", o.field("Subject"))
	w("Date: %s", now.Format(time.RFC1123Z))
	w("Message-ID: <%s>", id)
	if mid := o.field("Message-ID"); mid != "" {
		w("In-Reply-To: %s", mid)
		w("References: %s", mid)
	}
	w("Auto-Submitted: auto-replied")
	w("MIME-Version: 1.0")
	w("Content-Type: text/plain; charset=us-ascii")
	w("")
	w("I am out of the office and will read your message when I am back.")
	w("(sandbox: localpart ends in autoreply)")
	return []byte(b.String())
}

func boundaryChar(r rune) rune {
	if r < 128 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
		return r
	}
	return '-'
}

// toCRLF makes every line end in CRLF.
func toCRLF(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
