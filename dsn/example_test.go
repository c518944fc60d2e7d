package dsn_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/bouncekit/bouncekit/dsn"
)

func ExampleMessage_Compose() {
	m := &dsn.Message{
		From:              "postmaster@mx.example.org",
		To:                "alice@example.com",
		MessageID:         "dsn-42@mx.example.org",
		Date:              time.Date(2025, 3, 1, 9, 31, 0, 0, time.UTC),
		OriginalMessageID: "<orig-42@example.com>",
		ReportingMTA:      "mx.example.org",
		TextBody:          "Your message could not be delivered.\n",
		Recipients: []dsn.Recipient{{
			FinalRecipient: "bob@example.net",
			Action:         dsn.ActionFailed,
			Status:         "5.1.1",
			RemoteMTA:      "mx.example.net",
			DiagnosticCode: "550 5.1.1 no such user",
		}},
		Original: []byte("Message-ID: <orig-42@example.com>\r\nSubject: hi\r\n\r\nhello\r\n"),
		Ret:      dsn.RetHeaders,
	}
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		log.Fatal(err)
	}

	// Reading it back, as a remote host would.
	p, _, err := dsn.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	r := p.Recipients[0]
	fmt.Println(p.OriginalMessageID, r.FinalRecipient, r.Action, r.Status, r.DiagnosticCode)
	// Output: <orig-42@example.com> bob@example.net failed 5.1.1 550 5.1.1 no such user
}

func ExampleParse() {
	f, err := os.Open("testdata/corpus/kumomta/rfc3464/2.eml")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, _, err := dsn.Parse(f)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range m.Recipients {
		fmt.Println(r.FinalRecipient, r.Action, r.Status)
	}
	// Output:
	// arathib@vnet.ibm.com failed 5.0.0
	// johnh@hpnjld.njd.hp.com delayed 4.0.0
	// wsnell@sdcc13.ucsd.edu failed 5.0.0
}

func ExampleDecode() {
	status := "Reporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; bob@example.net\r\nAction: delayed\r\nStatus: 4.4.1 (no answer from host)\r\n" +
		"Will-Retry-Until: Thu, 6 Mar 2025 09:00:00 +0000\r\n"
	m, err := dsn.Decode(bytes.NewReader([]byte(status)), false)
	if err != nil {
		log.Fatal(err)
	}
	r := m.Recipients[0]
	fmt.Println(r.Action, r.Status, r.StatusComment, r.WillRetryUntil.Format(time.DateOnly))
	// Output: delayed 4.4.1 no answer from host 2025-03-06
}
