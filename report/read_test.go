package report

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// dsnMessage is an RFC 3464 DSN with the per-message and per-recipient
// fields Read reports: ENVID, Remote-MTA, Last-Attempt-Date, a pipe
// recipient, and a diagnostic that says the command it answered.
const dsnMessage = `From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This is the mail system at host mx.example.org.

<alice@example.net>: host mx.example.net said: 550 5.1.1 User unknown

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Original-Envelope-Id: env-42

Final-Recipient: rfc822; alice@example.net
Original-Recipient: rfc822; Alice@Example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)
Last-Attempt-Date: Mon, 2 Nov 2026 10:00:00 +0000

Final-Recipient: x-unix; |/usr/bin/procmail
Action: failed
Status: 5.3.0
Diagnostic-Code: x-unix; Command died with status 1

--b1
Content-Type: text/rfc822-headers

Message-ID: <orig1@example.com>
From: sender@example.com
To: alice@example.net
Subject: hello

--b1--
`

// transcriptDSN is a Sendmail DSN whose delivery-status part has no
// Diagnostic-Code: the reply, and the command it answered, are only in the
// session transcript of the text part.
const transcriptDSN = `From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>
To: sender@example.com
Subject: Returned mail: see transcript for details
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2"

--b2
Content-Type: text/plain

The original message was received at Mon, 2 Nov 2026 10:00:00 GMT

   ----- The following addresses had permanent fatal errors -----
<carol@example.net>
    (reason: 550 5.1.1 <carol@example.net>... User unknown)

   ----- Transcript of session follows -----
... while talking to mx.example.net.:
>>> RCPT To:<carol@example.net>
<<< 550 5.1.1 <carol@example.net>... User unknown
550 5.1.1 <carol@example.net>... User unknown

--b2
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: RFC822; carol@example.net
Action: failed
Status: 5.1.1

--b2--
`

// arfMessage is an RFC 5965 feedback report with every field Read reports.
const arfMessage = `From: <abuse@isp.example>
To: <fbl@example.com>
Subject: FW: Earn money
Message-ID: <fbl1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1"

--part1
Content-Type: text/plain

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.

--part1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <somespammer@example.net>
Original-Rcpt-To: <user@example.com>
Received-Date: Thu, 8 Mar 2005 14:00:00 EDT
Source-IP: 192.0.2.1
Reporting-MTA: dns; mail.example.com

--part1
Content-Type: message/rfc822
Content-Disposition: inline

From: <somespammer@example.net>
To: <user@example.com>
Subject: =?utf-8?q?Earn_money_=E2=82=AC?=
Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.net>

Spam, spam, spam
--part1--
`

const autoReply = `From: bob@example.net
To: sender@example.com
Subject: Out of office: hello
Auto-Submitted: auto-replied

I am away until Monday.
`

const ordinary = `From: bob@example.net
To: sender@example.com
Subject: lunch?
Message-ID: <lunch@example.net>

Shall we have lunch at 12:30 in room 550?
`

// TestRead checks the Report of each kind of message: kind, format,
// identifiers and every recipient field.
func TestRead(t *testing.T) {
	lastAttempt := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	corpus := func(name string) string {
		b, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cases := []struct {
		name   string
		msg    string
		want   Report // OriginalHeader, Feedback and DSNError are checked apart.
		header bool   // OriginalHeader is set.
		fb     *Feedback
	}{
		{"dsn", dsnMessage, Report{
			Kind: KindDSN, Format: FormatPostfix, MessageID: "dsn1@mx.example.org", Subject: "Undelivered Mail Returned to Sender",
			EnvelopeID: "env-42", OriginalMessageID: "orig1@example.com",
			Recipients: []Recipient{
				{Address: "alice@example.net", OriginalRecipient: "Alice@Example.net", Action: dsn.ActionFailed, Status: bounce.EnhancedCode{5, 1, 1}, Code: 550, RemoteMTA: "mx.example.net", DiagnosticType: "smtp",
					Diagnostic: "550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)", Stage: bounce.StageRcpt, LastAttempt: lastAttempt},
				{Address: "|/usr/bin/procmail", Action: dsn.ActionFailed, Status: bounce.EnhancedCode{5, 3, 0}, DiagnosticType: "x-unix",
					Diagnostic: "Command died with status 1"},
			},
		}, true, nil},
		{"dsn completed from text", transcriptDSN, Report{
			Kind: KindDSN, Format: FormatSendmail, Subject: "Returned mail: see transcript for details",
			Recipients: []Recipient{
				{Address: "carol@example.net", Action: dsn.ActionFailed, Status: bounce.EnhancedCode{5, 1, 1}, Code: 550,
					Diagnostic: "(reason: 550 5.1.1 <carol@example.net>... User unknown)", Stage: bounce.StageRcpt},
			},
		}, false, nil},
		{"feedback", arfMessage, Report{
			Kind: KindFeedback, Format: FormatARF, MessageID: "fbl1@isp.example", Subject: "FW: Earn money",
			OriginalMessageID: "8787KJKJ3K4J3K4J3K4J3.mail@example.net",
		}, false, &Feedback{
			Type: "abuse", UserAgent: "SomeGenerator/1.0", OriginalRcptTo: []string{"user@example.com"}, OriginalMailFrom: "somespammer@example.net",
			ReportingMTA: "dns; mail.example.com", SourceIP: "192.0.2.1", MessageID: "8787KJKJ3K4J3K4J3K4J3.mail@example.net", Subject: "Earn money €",
		}},
		{"feedback CR line ends", strings.ReplaceAll(arfMessage, "\n", "\r"), Report{
			Kind: KindFeedback, Format: FormatARF, MessageID: "fbl1@isp.example", Subject: "FW: Earn money",
			OriginalMessageID: "8787KJKJ3K4J3K4J3K4J3.mail@example.net",
		}, false, &Feedback{
			Type: "abuse", UserAgent: "SomeGenerator/1.0", OriginalRcptTo: []string{"user@example.com"}, OriginalMailFrom: "somespammer@example.net",
			ReportingMTA: "dns; mail.example.com", SourceIP: "192.0.2.1", MessageID: "8787KJKJ3K4J3K4J3K4J3.mail@example.net", Subject: "Earn money €",
		}},
		{"text bounce", qmailBounce, Report{
			Kind: KindBounce, Format: FormatQmail, Subject: "failure notice",
			OriginalMessageID: "orig-1@example.com",
			Recipients: []Recipient{
				{Address: "alice@example.net", Action: dsn.ActionFailed, Status: bounce.EnhancedCode{5, 1, 1}, Code: 550,
					Diagnostic: "192.0.2.1 does not like recipient. Remote host said: 550 5.1.1 <alice@example.net>... User unknown Giving up on 192.0.2.1."},
				{Address: "bob@example.net", Action: dsn.ActionDelayed, Status: bounce.EnhancedCode{4, 2, 2}, Code: 452,
					Diagnostic: "192.0.2.1 does not like recipient. Remote host said: 452 4.2.2 Mailbox full, try later"},
			},
		}, true, nil},
		{"provider complaint", corpus("sisimai/bsd/lhost-amazonses-11.eml"), Report{
			Kind: KindNotification, Format: FormatAmazonSES, MessageID: "01010158992beedd-7d62a0c4-97e7-40d9-8bd9-8df84f891f1a-000000@us-west-2.amazonses.com", Subject: "AWS Notification Message",
		}, false, &Feedback{Type: "abuse", UserAgent: "Amazon SES Mailbox Simulator", OriginalRcptTo: []string{"complaint@simulator.amazonses.com"}}},
		{"auto-reply", autoReply, Report{Kind: KindAutoReply, Format: FormatAutoReply, Subject: "Out of office: hello"}, false, nil},
		{"ordinary mail", ordinary, Report{Kind: KindNone, MessageID: "lunch@example.net", Subject: "lunch?"}, false, nil},
		{"empty", "", Report{Kind: KindNone}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Read([]byte(c.msg))
			if (r.OriginalHeader != nil) != c.header {
				t.Errorf("original header %v, want one: %v", r.OriginalHeader, c.header)
			}
			if !reflect.DeepEqual(r.Feedback, c.fb) {
				t.Errorf("feedback\ngot  %+v\nwant %+v", r.Feedback, c.fb)
			}
			if r.DSNError != nil {
				t.Errorf("dsn error %v", r.DSNError)
			}
			got := *r
			got.OriginalHeader, got.Feedback = nil, nil
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("report\ngot  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestReadDSNError checks that a delivery-status part package dsn refuses
// is reported, and that the text is still read.
func TestReadDSNError(t *testing.T) {
	msg := strings.Replace(dsnMessage, "Action: failed\nStatus: 5.1.1", "Action: failed\nStatus: 5.1.1\nLast-Attempt-Date: not a date at all", 1)
	msg = strings.Replace(msg, "Reporting-MTA: dns; mx.example.org\n", "Reporting-MTA\n", 1)
	r := Read([]byte(msg))
	if r.DSNError == nil {
		t.Skipf("package dsn accepts this DSN; kind %s", r.Kind)
	}
	if !strings.HasPrefix(r.DSNError.Error(), "dsn: ") {
		t.Errorf("dsn error %q without the dsn package prefix", r.DSNError)
	}
	if r.Kind != KindDSN && r.Kind != KindBounce || len(r.Recipients) == 0 {
		t.Errorf("kind %s with %d recipients, want the text reader's reading", r.Kind, len(r.Recipients))
	}
}

// TestReadMaxSize checks that input over MaxSize is read up to MaxSize,
// not refused: the text that names recipients comes first.
func TestReadMaxSize(t *testing.T) {
	msg := qmailBounce + strings.Repeat("x", MaxSize)
	r := Read([]byte(msg))
	if r.Kind != KindBounce || len(r.Recipients) != 2 || r.Recipients[0].Address != "alice@example.net" {
		t.Fatalf("got kind %s, recipients %+v", r.Kind, r.Recipients)
	}
}

// TestStageOf checks how the command a reply answered is read from a
// transcript's command or the diagnostic's words.
func TestStageOf(t *testing.T) {
	cases := []struct {
		command, diag string
		want          bounce.Stage
	}{
		{"RCPT", "550 No such user here", bounce.StageRcpt},
		{"DATA", "550 5.1.1 No such user here", bounce.StageData},
		{"BDAT", "", bounce.StageData},
		{"", "host mx.example[192.0.2.1] said: 550 Unknown user (in reply to RCPT TO command)", bounce.StageRcpt},
		{"", "host mx.example[192.0.2.1] said: 550 5.7.1 spam (in reply to end of DATA command)", bounce.StageDataEnd},
		{"", "SMTP error from remote mail server after end of data: 550 5.1.1 user unknown", bounce.StageDataEnd},
		{"", "SMTP error from remote mail server after RCPT TO:<x@example.jp>: 550 5.1.1 user unknown", bounce.StageRcpt},
		{"", ">>> DATA <<< 554 5.7.1 rejected", bounce.StageData},
		{"", "550 Unknown user x@example.jp", bounce.StageUnknown},
		// Exim's framing, with PIPELINING: "after pipelined end of data",
		// "after pipelined DATA:"; its DATA always takes the colon.
		{"", "SMTP error from remote mail server after pipelined end of data: 554 5.7.1 message rejected after data", bounce.StageDataEnd},
		{"", "SMTP error from remote mail server after DATA: 554 5.7.1 no", bounce.StageData},
		{"", "SMTP error from remote mail server after pipelined DATA: 554 5.7.1 no", bounce.StageData},
		{"", "host mx.example[192.0.2.1] said: 554 5.7.1 no (in reply to DATA command)", bounce.StageData},
		// The remote server's own prose names no command.
		{"", "554 5.7.1 message rejected after data", bounce.StageUnknown},
		{"MAIL", "550 5.7.1 sender rejected", bounce.StageMail},
		// MAIL FROM, EHLO and the greeting in the MTAs' framing; RCPT TO
		// wins in a transcript that shows both.
		{"", "host mx.example[192.0.2.1] said: 553 5.1.8 sender domain unknown (in reply to MAIL FROM command)", bounce.StageMail},
		{"", "SMTP error from remote mail server after MAIL FROM:<s@example.org> SIZE=1022: 553 5.1.0 no", bounce.StageMail},
		{"", ">>> MAIL From:<s@example.org> SIZE=100 <<< 250 ok >>> RCPT To:<x@example.jp> <<< 550 5.1.1 unknown", bounce.StageRcpt},
		{"", "host mx.example[192.0.2.1] said: 550 5.7.1 go away (in reply to EHLO command)", bounce.StageEHLO},
		{"", "SMTP error from remote mail server after EHLO mx.example.org: 550 no", bounce.StageEHLO},
		{"", "host mx.example[192.0.2.1] refused to talk to me: 554 5.7.1 blocked", bounce.StageConnect},
		{"", "SMTP error from remote mail server after initial connection: 554 blocked", bounce.StageConnect},
	}
	for _, c := range cases {
		if got := stageOf(c.command, c.diag); got != c.want {
			t.Errorf("stageOf(%q, %q) = %q, want %q", c.command, c.diag, got, c.want)
		}
	}
}

// TestReadStageFromParagraph: a DSN recipient whose Diagnostic-Code leaves
// out the command gets its stage from the paragraph of the bounce text that
// names it, as Postfix ("(in reply to RCPT TO command)") and Exim ("SMTP
// error from remote mail server after RCPT TO:<...>") write it.
func TestReadStageFromParagraph(t *testing.T) {
	dsnMsg := func(text, diag string) []byte {
		return []byte("From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\n" + text + "\r\n" +
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
			"Final-Recipient: rfc822; unknown@sink.example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
			"Diagnostic-Code: smtp; " + diag + "\r\n--b--\r\n")
	}
	for _, c := range []struct {
		name, text string
		want       bounce.Stage
	}{
		{"postfix", "<unknown@sink.example.com>: host mx.sink.example.com[127.0.0.30] said: 550\r\n    5.1.1 <unknown@sink.example.com>: user unknown (in reply to RCPT TO\r\n    command)\r\n", bounce.StageRcpt},
		{"exim", "  unknown@sink.example.com\r\n    host mx.sink.example.com [127.0.0.30]\r\n    SMTP error from remote mail server after RCPT TO:<unknown@sink.example.com>:\r\n    550 5.1.1 <unknown@sink.example.com>: user unknown\r\n", bounce.StageRcpt},
		{"postfix end of data", "<unknown@sink.example.com>: host mx.sink.example.com[127.0.0.30] said: 550\r\n    5.1.1 user unknown (in reply to end of DATA command)\r\n", bounce.StageDataEnd},
		{"no command", "<unknown@sink.example.com>: 550 5.1.1 user unknown\r\n\r\nIn reply to RCPT TO of another recipient.\r\n", bounce.StageUnknown},
	} {
		r := Read(dsnMsg(c.text, "550 5.1.1 <unknown@sink.example.com>: user unknown"))
		if len(r.Recipients) != 1 || r.Recipients[0].Stage != c.want {
			t.Errorf("%s: recipients %+v, want stage %q", c.name, r.Recipients, c.want)
		}
	}
}

// TestReadQuotedGreeting: a bounce that quotes the server's greeting (or
// another positive reply) before the reply that failed takes the failing
// reply's code, so the recipient is not read as delivered.
func TestReadQuotedGreeting(t *testing.T) {
	for _, c := range []struct {
		name, reply string
		code        int
		action      dsn.Action
	}{
		{"greeting then 550", "    220 mx.example.com ESMTP ready\r\n    550 <bob@example.com>: user unknown\r\n", 550, dsn.ActionFailed},
		{"250 then 452", "    250 2.1.0 sender ok\r\n    452 4.2.2 mailbox full\r\n", 452, dsn.ActionDelayed},
	} {
		msg := "From: MAILER-DAEMON@mx.example.org\r\nTo: alice@example.org\r\nSubject: Mail delivery failed: returning message to sender\r\n\r\n" +
			"This message was created automatically by mail delivery software.\r\n\r\nA message that you sent could not be delivered to one or more of its\r\n" +
			"recipients. The following address(es) failed:\r\n\r\n  bob@example.com\r\n" + c.reply
		r := Read([]byte(msg))
		if len(r.Recipients) != 1 || r.Recipients[0].Code != c.code || r.Recipients[0].Action != c.action {
			t.Errorf("%s: recipients %+v, want code %d action %s", c.name, r.Recipients, c.code, c.action)
		}
	}
}

// TestReadRecipientTextsApart: a DSN part without Diagnostic-Code fields,
// completed from a text that lists one "address: reply" line per
// recipient (OpenSMTPD's bounce), gives each recipient its own reply only.
func TestReadRecipientTextsApart(t *testing.T) {
	msg := []byte("From: Mailer Daemon <MAILER-DAEMON@mx.example.org>\r\nSubject: Delivery status notification: failed\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed;boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Description: Notification\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"    An error has occurred while attempting to deliver a message for\r\n    the following list of recipients:\r\n\r\n" +
		"a@sink.example.com: 550 5.1.1 <a@sink.example.com>: user unknown\r\n" +
		"b@sink.example.com: 552 5.2.2 <b@sink.example.com>: mailbox full\r\n\r\n" +
		"    Below is a copy of the original message:\r\n\r\n" +
		"--b\r\nContent-Description: Delivery Report\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n" +
		"Final-Recipient: rfc822; a@sink.example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\n" +
		"Final-Recipient: rfc822; b@sink.example.com\r\nAction: failed\r\nStatus: 5.0.0\r\n\r\n--b--\r\n")
	r := Read(msg)
	want := map[string]string{
		"a@sink.example.com": "550 5.1.1 <a@sink.example.com>: user unknown",
		"b@sink.example.com": "552 5.2.2 <b@sink.example.com>: mailbox full",
	}
	if len(r.Recipients) != len(want) {
		t.Fatalf("recipients %+v, want %d", r.Recipients, len(want))
	}
	for _, rc := range r.Recipients {
		if rc.Diagnostic != want[rc.Address] {
			t.Errorf("%s: diagnostic %q, want %q", rc.Address, rc.Diagnostic, want[rc.Address])
		}
	}
}

// TestReadLineEndings checks that a message reads the same with LF, CRLF
// and bare CR line endings, quoted-printable and base64 parts included:
// the one walk and the one transfer decoder see the same lines.
func TestReadLineEndings(t *testing.T) {
	base64Text := "From: MAILER-DAEMON@mx.example.org\nSubject: failure notice\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" +
		"SGkuIFRoaXMgaXMgdGhlIHFtYWlsLXNlbmQgcHJvZ3JhbS4KCjxhbGljZUBleGFtcGxlLm5ldD46\nCjU1MCA1LjEuMSB1c2VyIHVua25vd24K\n--b--\n"
	for _, c := range []struct{ name, msg string }{
		{"dsn", dsnMessage},
		{"transcript", transcriptDSN},
		{"qmail", qmailBounce},
		{"exim quoted-printable", eximQP},
		{"base64 text", base64Text},
		{"arf", arfMessage},
	} {
		t.Run(c.name, func(t *testing.T) {
			lf := strings.ReplaceAll(c.msg, "\r\n", "\n")
			want := Read([]byte(lf))
			if want.Kind == KindNone || want.Kind != KindFeedback && len(want.Recipients) == 0 {
				t.Fatalf("LF: kind %s, %d recipients", want.Kind, len(want.Recipients))
			}
			for _, eol := range []string{"\r\n", "\r"} {
				got := Read([]byte(strings.ReplaceAll(lf, "\n", eol)))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%q line endings:\n%+v\nLF:\n%+v", eol, got, want)
				}
			}
		})
	}
}
