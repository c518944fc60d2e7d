package report_test

import (
	"fmt"
	"strings"

	"github.com/bouncekit/bouncekit/report"
)

func ExampleReadIncoming() {
	msg := "From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
		"Message-ID: <m1@example.org>\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n" +
		"\r\n" +
		"--b\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Gr=FC=DFe\r\n" +
		"--b\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n" +
		"\r\n" +
		"<p>Grüße</p>\r\n" +
		"--b--\r\n"
	in, err := report.ReadIncoming(strings.NewReader(msg), int64(len(msg)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(in.From[0].Name, in.From[0].Address)
	fmt.Println(in.Subject, in.MessageID)
	fmt.Printf("%q %q\n", in.Text, in.HTML)
	for _, p := range in.Structure.Parts {
		fmt.Println(p.ContentType, p.ContentTypeParams["charset"], p.DecodedSize)
	}
	// Output:
	// Jörg joerg@example.org
	// Grüße <m1@example.org>
	// "Grüße" "<p>Grüße</p>"
	// text/plain iso-8859-1 5
	// text/html utf-8 14
}
