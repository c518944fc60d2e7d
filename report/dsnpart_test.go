package report

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/dsn"
)

// TestParseDeliveryStatus checks the adapter from package dsn's lenient
// reader to the text reader's recipients: where it takes the diagnostic,
// reply code and status from, and its policies.
func TestParseDeliveryStatus(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []textRecipient
	}{
		{"fields pasted into text",
			"Your message could not be delivered.\n\n  Final-Recipient: rfc822; <bob@example.net>\n  Original-Recipient: rfc822; Bob@example.net\n" +
				"  Action: failed\n  Status: 5.1.1\n  Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>:\n    user unknown\n\nThe postmaster\n",
			[]textRecipient{{Address: "bob@example.net", OriginalRecipient: "Bob@example.net", Action: "failed", Status: "5.1.1", Code: 550,
				Diagnostic: "550 5.1.1 <bob@example.net>: user unknown"}}},
		// RFC 3464 section 2.3.4: dsn keeps a Status that is not only a
		// code in Extra; the code in it is found.
		{"status with a reply code before it",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 550 5.2.2\n",
			[]textRecipient{{Address: "bob@example.net", Action: "failed", Status: "5.2.2"}}},
		{"status from the diagnostic, action left to the text",
			"Final-Recipient: rfc822; bob@example.net\nDiagnostic-Code: smtp; 452 4.2.2 mailbox full\n",
			[]textRecipient{{Address: "bob@example.net", Status: "4.2.2", Code: 452, Diagnostic: "452 4.2.2 mailbox full"}}},
		{"status comment as the diagnostic",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.4.4 (Illegal host/domain name found)\n",
			[]textRecipient{{Address: "bob@example.net", Action: "failed", Status: "5.4.4", Diagnostic: "Illegal host/domain name found"}}},
		{"generic status comment is no diagnostic",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.0.0 (permanent failure)\n",
			[]textRecipient{{Address: "bob@example.net", Action: "failed", Status: "5.0.0"}}},
		{"repeated codes of a folded multi-line reply dropped",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550-5.7.1 Messages with multiple\n 550-5.7.1 addresses in From: are not accepted\n",
			[]textRecipient{{Address: "bob@example.net", Action: "failed", Status: "5.7.1", Code: 550,
				Diagnostic: "550-5.7.1 Messages with multiple addresses in From: are not accepted"}}},
		{"expired read as failed", "Final-Recipient: rfc822; bob@example.net\nAction: expired\nDiagnostic-Code: X-Unix; connection timed out\n",
			[]textRecipient{{Address: "bob@example.net", Action: "failed", Diagnostic: "connection timed out"}}},
		{"no address", "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 no\n", nil},
		{"no fields", "Hello.\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, truncated := parseDeliveryStatus([]byte(tc.in))
			if !reflect.DeepEqual(got, tc.want) || truncated {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestParseDeliveryStatusTruncated checks that fields naming more
// recipients than dsn.DecodeLenient keeps give its first MaxRecipients and
// truncated, which readText passes on, and that exactly MaxRecipients do
// not.
func TestParseDeliveryStatusTruncated(t *testing.T) {
	rcpt := "Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\n\n"
	cases := []struct {
		n, want   int
		truncated bool
	}{
		{MaxRecipients, MaxRecipients, false},
		{dsn.MaxRecipients + 1, dsn.MaxRecipients, true},
		{dsn.MaxRecipients * 3, dsn.MaxRecipients, true},
	}
	for _, tc := range cases {
		got, truncated := parseDeliveryStatus([]byte(strings.Repeat(rcpt, tc.n)))
		if len(got) != tc.want || truncated != tc.truncated || got[0].Address != "a@example.net" || got[len(got)-1].Address != "a@example.net" {
			t.Errorf("%d recipients: got %d, truncated %v; want %d, %v", tc.n, len(got), truncated, tc.want, tc.truncated)
		}
	}
	r, err := readText([]byte("From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nFailed.\n" +
		"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n" + strings.Repeat(rcpt, dsn.MaxRecipients+1) + "--b--\n"))
	if err != nil || len(r.Recipients) != MaxRecipients || !r.Truncated || r.Recipients[MaxRecipients-1].Address != "a@example.net" {
		t.Fatalf("got %v, %d recipients, truncated %v", err, len(r.Recipients), r != nil && r.Truncated)
	}
}

// BenchmarkParseDeliveryStatus reads a typical delivery-status part, one
// with dsn.MaxRecipients recipients, and a bounce text without fields
// (the text reader tries every bounce's text).
func BenchmarkParseDeliveryStatus(b *testing.B) {
	rcpt := "Final-Recipient: rfc822; bob@example.net\nOriginal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n" +
		"Remote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected:\n    User unknown in local recipient table\n\n"
	head := "Reporting-MTA: dns; mx.example.org\nX-Postfix-Queue-ID: 4ABC123\nArrival-Date: Sat, 29 Nov 2026 10:00:00 +0000\n\n"
	text := strings.Repeat("This is the mail system at host mx.example.org. I'm sorry to have to inform you that your message could not\n"+
		"be delivered to one or more recipients. It's attached below.\n\n", 500)
	cases := []struct {
		name string
		in   []byte
	}{
		{"3 recipients", []byte(head + strings.Repeat(rcpt, 3))},
		{"1000 recipients", []byte(head + strings.Repeat(rcpt, dsn.MaxRecipients))},
		{"100 KB text", []byte(text)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for i := 0; i < b.N; i++ {
				parseDeliveryStatus(c.in)
			}
		})
	}
}

// TestNamesRecipient checks the cheap test before the lenient decoder: any
// case of the word, in text or bytes.
func TestNamesRecipient(t *testing.T) {
	for _, c := range []struct {
		s    string
		want bool
	}{
		{"Final-Recipient: rfc822; bob@example.net", true},
		{"ORIGINAL-RECIPIENT: rfc822; bob@example.net", true},
		{"final-recipient:rfc822;bob@example.net", true},
		{"Hi. This is the qmail-send program.\n<bob@example.net>:\n550 no", false},
		{"recipien", false},
		{"", false},
	} {
		if got := namesRecipient(c.s); got != c.want {
			t.Errorf("namesRecipient(%q) = %v, want %v", c.s, got, c.want)
		}
		if got := namesRecipient([]byte(c.s)); got != c.want {
			t.Errorf("namesRecipient([]byte(%q)) = %v, want %v", c.s, got, c.want)
		}
	}
}
