package ndr_test

import (
	"errors"
	"fmt"

	"github.com/bouncekit/bouncekit/internal/ndr"
)

func ExampleParse() {
	msg := "From: MAILER-DAEMON@mx.example.org\n" +
		"To: sender@example.com\n" +
		"Subject: failure notice\n" +
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

	r, err := ndr.Parse([]byte(msg))
	if errors.Is(err, ndr.ErrNotBounce) {
		fmt.Println("not a bounce")
		return
	} else if err != nil {
		fmt.Println(err)
		return
	}
	if r.AutoReply {
		fmt.Println("auto-reply, ignore")
		return
	}
	fmt.Println(r.Format, r.OriginalMessageID)
	for _, rc := range r.Recipients {
		fmt.Println(rc.Address, rc.Action, rc.Code, rc.Status, rc.Permanent())
		fmt.Println(rc.Diagnostic)
	}
	// Output:
	// qmail 1234@example.com
	// alice@example.net failed 550 5.1.1 true
	// Remote host said: 550 5.1.1 <alice@example.net>... User unknown
}
