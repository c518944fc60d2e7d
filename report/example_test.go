package report_test

import (
	"fmt"

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
