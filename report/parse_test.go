package report

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"
)

// crlf turns LF line endings into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const qmailBounce = `Return-Path: <>
From: MAILER-DAEMON@mx.example.org
To: sender@example.com
Subject: failure notice

Hi. This is the qmail-send program at mx.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<alice@example.net>:
192.0.2.1 does not like recipient.
Remote host said: 550 5.1.1 <alice@example.net>... User unknown
Giving up on 192.0.2.1.

<bob@example.net>:
192.0.2.1 does not like recipient.
Remote host said: 452 4.2.2 Mailbox full, try later

--- Below this line is a copy of the message.

Return-Path: <sender@example.com>
Message-ID: <orig-1@example.com>
From: sender@example.com
To: alice@example.net, bob@example.net
Subject: hello

hi
`

const eximQP = `From: Mail Delivery System <Mailer-Daemon@mail.example.org>
To: sender@example.com
Subject: Mail delivery failed: returning message to sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  carol@example.net
    host mx.example.net [192.0.2.7]
    SMTP error from remote mail server after RCPT TO:<carol@example.net>:
    550-5.1.1 The email account that you tried to reach does not exist. Pl=
ease
    550 5.1.1 try double-checking the recipient's email address for typos.

--b1
Content-Type: message/rfc822

Message-ID: <orig-2@example.com>
From: sender@example.com
To: carol@example.net
Subject: hi

hi
--b1--
`

const office365 = `From: Microsoft Outlook <postmaster@contoso.example>
To: sender@example.com
Subject: Undeliverable: report
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="x"

--x
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64

` + "RGVsaXZlcnkgaGFzIGZhaWxlZCB0byB0aGVzZSByZWNpcGllbnRzIG9yIGdyb3VwczoKCmphbmVA\nY29udG9zby5leGFtcGxlClRoZSBlbWFpbCBhZGRyZXNzIHlvdSBlbnRlcmVkIGNvdWxkbid0IGJl\nIGZvdW5kLgoKRGlhZ25vc3RpYyBpbmZvcm1hdGlvbiBmb3IgYWRtaW5pc3RyYXRvcnM6CgpHZW5l\ncmF0aW5nIHNlcnZlcjogQk42UFIwME1CMDAwMC5vdXRsb29rLmV4YW1wbGUKCmphbmVAY29udG9z\nby5leGFtcGxlClJlbW90ZSBTZXJ2ZXIgcmV0dXJuZWQgJzU1MCA1LjEuMSBSRVNPTFZFUi5BRFIu\nUmVjaXBOb3RGb3VuZDsgbm90IGZvdW5kJwo=" + `
--x
Content-Type: text/rfc822-headers

Message-ID: <orig-3@example.com>
From: sender@example.com
To: jane@contoso.example
--x--
`

func TestParse(t *testing.T) {
	type rcpt struct {
		addr, action, status string
		code                 int
		diag                 string // Substring of Diagnostic.
	}
	tests := []struct {
		name   string
		msg    string
		format Format
		msgid  string
		rcpts  []rcpt
	}{
		{"qmail LF", qmailBounce, "qmail", "orig-1@example.com", []rcpt{
			{"alice@example.net", "failed", "5.1.1", 550, "Remote host said: 550 5.1.1 <alice@example.net>... User unknown"},
			{"bob@example.net", "delayed", "4.2.2", 452, "Mailbox full, try later"},
		}},
		{"qmail CRLF", crlf(qmailBounce), "qmail", "orig-1@example.com", []rcpt{
			{"alice@example.net", "failed", "5.1.1", 550, "User unknown"},
			{"bob@example.net", "delayed", "4.2.2", 452, "Mailbox full"},
		}},
		{"qmail CR", strings.ReplaceAll(qmailBounce, "\n", "\r"), "qmail", "orig-1@example.com", []rcpt{
			{"alice@example.net", "failed", "5.1.1", 550, "User unknown"},
			{"bob@example.net", "delayed", "4.2.2", 452, "Mailbox full"},
		}},
		{"exim quoted-printable, multi-line reply joined", eximQP, "exim", "orig-2@example.com", []rcpt{
			{"carol@example.net", "failed", "5.1.1", 550, "does not exist. Please try double-checking"},
		}},
		{"office365 base64", office365, "exchange", "orig-3@example.com", []rcpt{
			{"jane@contoso.example", "failed", "5.1.1", 550, "couldn't be found"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := readText([]byte(tc.msg))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if r.Format != tc.format || r.OriginalMessageID != tc.msgid || r.AutoReply {
				t.Errorf("got format %q msgid %q autoreply %v, want %q %q false", r.Format, r.OriginalMessageID, r.AutoReply, tc.format, tc.msgid)
			}
			if len(r.Recipients) != len(tc.rcpts) {
				t.Fatalf("got %d recipients %+v, want %d", len(r.Recipients), r.Recipients, len(tc.rcpts))
			}
			for i, w := range tc.rcpts {
				g := r.Recipients[i]
				if g.Address != w.addr || g.Action != w.action || g.Status != w.status || g.Code != w.code || !strings.Contains(g.Diagnostic, w.diag) {
					t.Errorf("recipient %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// The 8-bit bytes of an unencoded Japanese or Latin-1 bounce must not stop
// parsing.
func TestParse8bit(t *testing.T) {
	msg := strings.Replace(qmailBounce, "Sorry it didn't work out.", "Sorry \xe9\xff\x80 it didn't work out.", 1)
	r, err := readText([]byte(msg))
	if err != nil || len(r.Recipients) != 2 {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestNotBounce(t *testing.T) {
	plain := "From: alice@example.com\nTo: bob@example.net\nSubject: lunch\n\nSee you at 550 Main Street, bob@example.net.\n"
	arf := "From: fbl@isp.example\nTo: abuse@example.com\nSubject: complaint\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\n\n--b\nContent-Type: text/plain\n\nThis is an abuse report.\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n--b--\n"
	for _, msg := range []string{plain, arf} {
		if r, err := readText([]byte(msg)); !errors.Is(err, errNotBounce) {
			t.Errorf("got %+v, %v, want ErrNotBounce", r, err)
		}
	}
}

func TestAutoReply(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"Auto-Submitted: auto-replied\nSubject: Re: hello", true},
		{"Auto-Submitted: no\nSubject: Re: hello", false},
		{"X-Autoreply: yes\nSubject: Re: hello", true},
		{"Precedence: auto_reply\nSubject: Re: hello", true},
		{"Subject: Out of Office: hello", true},
		{"Subject: Automatic reply: hello", true},
		{"Subject: =?utf-8?q?Automatic_reply=3A_hello?=", true},
		{"Subject: I'm on vacation", true},
		{"Precedence: bulk\nSubject: Re: hello", false},
	}
	for _, tc := range tests {
		m, err := mail.ReadMessage(strings.NewReader("From: a@example.org\n" + tc.header + "\n\nbody\n"))
		if err != nil {
			t.Fatalf("%q: %v", tc.header, err)
		}
		if got := isAutoReply(m.Header); got != tc.want {
			t.Errorf("IsAutoReply(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}

	// Parse reports a vacation message as an auto-reply, not a bounce, even
	// though it names an address and a date.
	vacation := "From: bob@example.net\nTo: alice@example.com\nSubject: Out of Office: lunch\nAuto-Submitted: auto-replied\n\nI am away until 5 May.\nFor urgent matters write to carol@example.net.\n"
	r, err := readText([]byte(vacation))
	if err != nil || !r.AutoReply || len(r.Recipients) != 0 {
		t.Fatalf("vacation: got %+v, %v", r, err)
	}
	// A bounce marked auto-replied (as Exim does) is still a bounce.
	r, err = readText([]byte(eximQP))
	if err != nil || r.AutoReply || len(r.Recipients) != 1 {
		t.Fatalf("exim bounce: got %+v, %v", r, err)
	}
}

func TestLimits(t *testing.T) {
	// Only the first MaxSize bytes are read: a delivery-status part after
	// them is not seen.
	dsnAfter := func(fill int) []byte {
		var b bytes.Buffer
		b.WriteString("From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\n")
		b.Write(bytes.Repeat([]byte("filler line\n"), fill/12))
		b.WriteString("--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; late@example.net\nAction: failed\nStatus: 5.1.1\n--b--\n")
		return b.Bytes()
	}
	if r := Read(dsnAfter(1000)); r.Kind != KindDSN || len(r.Recipients) != 1 || r.Recipients[0].Address != "late@example.net" {
		t.Errorf("small: got %s, %v", r.Kind, r.Recipients)
	}
	if r := Read(dsnAfter(MaxSize)); r.Kind == KindDSN || len(r.Recipients) != 0 {
		t.Errorf("past MaxSize: got %s, %v", r.Kind, r.Recipients)
	}

	// A DSN with 10,000 recipients is cut at MaxRecipients.
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@example.org\nTo: s@example.com\nSubject: Undelivered Mail\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; example.org\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "\nFinal-Recipient: rfc822; r%d@example.net\nAction: failed\nStatus: 5.1.1\n", i)
	}
	b.WriteString("--b--\n")
	r, err := readText(b.Bytes())
	if err != nil {
		t.Fatalf("many recipients: %v", err)
	}
	if len(r.Recipients) != MaxRecipients || !r.Truncated || r.Recipients[0].Address != "r0@example.net" {
		t.Errorf("many recipients: got %d, truncated %v", len(r.Recipients), r.Truncated)
	}

	// Truncated MIME: the closing boundary and half the DSN part are missing.
	trunc := "From: MAILER-DAEMON@example.org\nTo: s@example.com\nSubject: Undelivered Mail\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nThis is the mail system at host example.org.\n\n<dave@example.net>: host mx.example.net said: 550 5.1.1 no such user\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; example.org\n\nFinal-Recipient: rfc822; dave@example.net\nAction: fail"
	r, err = readText([]byte(trunc))
	if err != nil || len(r.Recipients) != 1 || r.Recipients[0].Address != "dave@example.net" || r.Recipients[0].Code != 550 {
		t.Errorf("truncated MIME: got %+v, %v", r, err)
	}

	// Deep nesting is cut off, not followed.
	deep := "From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail\nContent-Type: multipart/mixed; boundary=b0\n\n"
	for i := range 50 {
		deep += fmt.Sprintf("--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	if _, err := readText([]byte(deep)); err != nil && !errors.Is(err, errNotBounce) {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestBadHeader(t *testing.T) {
	if _, err := readText([]byte("no header here")); err == nil || errors.Is(err, errNotBounce) {
		t.Errorf("got %v, want a header error", err)
	}
}

func TestRecipientClass(t *testing.T) {
	tests := []struct {
		r    textRecipient
		want int
	}{
		{textRecipient{Status: "4.2.2", Code: 550}, 4},
		{textRecipient{Code: 550}, 5},
		{textRecipient{Action: "delayed"}, 4},
		{textRecipient{Action: "delivered"}, 2},
		{textRecipient{}, 5},
	}
	for _, tc := range tests {
		if got := tc.r.Class(); got != tc.want {
			t.Errorf("%+v: class %d, want %d", tc.r, got, tc.want)
		}
		if tc.r.Permanent() != (tc.want == 5) {
			t.Errorf("%+v: Permanent() wrong", tc.r)
		}
	}
}
