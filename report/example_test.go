package report_test

import (
	"fmt"
	"os"

	"github.com/bouncekit/bouncekit/report"
)

func ExampleRead() {
	msg := "From: MAILER-DAEMON@mx.example.org\n" +
		"To: sender@example.com\n" +
		"Subject: failure notice\n" +
		"Message-ID: <bounce1@mx.example.org>\n" +
		"\n" +
		"Hi. This is the qmail-send program at mx.example.org.\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
		"This is a permanent error; I've given up. Sorry it didn't work out.\n" +
		"\n" +
		"<alice@example.net>:\n" +
		"Remote host said: 550 5.1.1 <alice@example.net>... User unknown\n" +

		"\n" +
		"--- Below this line is a copy of the message.\n" +
		"\n" +
		"Message-ID: <1234@example.com>\n" +
		"To: alice@example.net\n"

	r := report.Read([]byte(msg))
	switch r.Kind {
	case report.KindNone:
		fmt.Println("not a report")
		return
	case report.KindAutoReply:
		fmt.Println("auto-reply, ignore")
		return
	}
	fmt.Println(r.Kind, r.Format, r.MessageID, r.OriginalMessageID)
	for _, rc := range r.Recipients {
		fmt.Println(rc.Address, rc.Action, rc.Code, rc.Status, rc.Status.Permanent())
		fmt.Println(rc.Diagnostic)
	}
	// Output:
	// bounce qmail bounce1@mx.example.org 1234@example.com
	// alice@example.net failed 550 5.1.1 true
	// Remote host said: 550 5.1.1 <alice@example.net>... User unknown
}

func ExampleReadAt() {
	// A DSN as a host may keep it: in a file (or a database blob), read
	// in pieces rather than loaded whole.
	dsn := "From: MAILER-DAEMON@mx.example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n" +
		"\r\n" +
		"--b\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"<bob@example.net>: host mx.example.net said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)\r\n" +
		"--b\r\n" +
		"Content-Type: message/delivery-status\r\n" +
		"\r\n" +
		"Reporting-MTA: dns; mx.example.org\r\n" +
		"Original-Envelope-Id: env-7\r\n" +
		"\r\n" +
		"Final-Recipient: rfc822; bob@example.net\r\n" +
		"Action: delayed\r\n" +
		"Status: 4.2.2\r\n" +
		"\r\n" +
		"--b\r\n" +
		"Content-Type: text/rfc822-headers\r\n" +
		"\r\n" +
		"Message-ID: <5678@example.com>\r\n" +
		"--b--\r\n"
	f, err := os.CreateTemp("", "dsn")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.WriteString(dsn); err != nil {
		fmt.Println(err)
		return
	}
	fi, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}

	r := report.ReadAt(f, fi.Size())
	fmt.Println(r.Kind, r.EnvelopeID, r.OriginalMessageID)
	for _, rc := range r.Recipients {
		fmt.Println(rc.Address, rc.Action, rc.Status, rc.Stage)
		fmt.Println(rc.Diagnostic)
	}
	// Output:
	// dsn env-7 5678@example.com
	// bob@example.net delayed 4.2.2 rcpt
	// host mx.example.net said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)
}
