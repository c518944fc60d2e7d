package workload

import (
	"bytes"
	"fmt"
	"time"

	"github.com/bouncekit/bouncekit/dsn"
)

// ClockStart is where the simulated clock of a run starts. The Date of
// every workload message (see Header) is this moment.
func ClockStart() time.Time {
	return time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
}

// SenderAddress is the MAIL FROM address of an account's messages.
func SenderAddress(account string) string {
	return account + "@sender.example"
}

// Header is the header of a workload message, as the Handler's
// MessageOpener returns it and a late DSN returns it.
func Header(from, to, subject, messageID string) string {
	return "From: " + from + "\r\n" +
		"To: " + to + "\r\n" +
		"Subject: " + subject + "\r\n" +
		"Message-ID: <" + messageID + ">\r\n" +
		"Date: " + ClockStart().Format(time.RFC1123Z) + "\r\n" +
		"\r\n"
}

// Late is a DSN that a remote MTA sends after it accepted a message: the
// recipient does not exist after all (a forward or an alias that bounced).
type Late struct {
	MsgID     int64  // The queue message; also makes the DSN's Message-ID.
	Account   string // The sender account.
	RcptTo    string // Where the DSN is sent: the sender, or its FromID address.
	Recipient string
	MessageID string // The original message's, without <>.
	Subject   string // The original message's.
	// NoOriginal leaves the returned header out, so the DSN can be matched
	// only by the address it came to.
	NoOriginal bool
}

// Compose returns the DSN, dated now: RFC 3464 with the returned header
// (RET=HDRS, RFC 3461 section 4.3) unless NoOriginal.
func (l Late) Compose(now time.Time) ([]byte, error) {
	m := &dsn.Message{
		From:         "MAILER-DAEMON@mx.remote.example",
		To:           l.RcptTo,
		Subject:      "Undelivered Mail Returned to Sender",
		MessageID:    fmt.Sprintf("bounce-%d@mx.remote.example", l.MsgID),
		Date:         now,
		TextBody:     "The mailbox does not exist.\n",
		ReportingMTA: "mx.remote.example",
		Recipients: []dsn.Recipient{{
			FinalRecipient: l.Recipient,
			Action:         dsn.ActionFailed,
			Status:         "5.1.1",
			DiagnosticType: "smtp",
			DiagnosticCode: "550 5.1.1 <" + l.Recipient + ">: mailbox does not exist",
		}},
		Ret: dsn.RetHeaders,
	}
	if !l.NoOriginal {
		m.Original = []byte(Header(SenderAddress(l.Account), l.Recipient, l.Subject, l.MessageID))
	}
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		return nil, fmt.Errorf("workload: composing dsn for message %d: %w", l.MsgID, err)
	}
	return buf.Bytes(), nil
}
