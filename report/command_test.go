package report

import "testing"

const sendmailTranscript = `Return-Path: <>
From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>
To: sender@example.com
Subject: Returned mail: see transcript for details

The original message was received at Thu, 29 Apr 2010 23:34:45 +0900
from localhost [127.0.0.1]

   ----- The following addresses had permanent fatal errors -----
<alice@example.net>
<bob@example.net>
<carol@example.org>

   ----- Transcript of session follows -----
While talking to mx.example.net:
>>> RCPT TO:<alice@example.net>
<<< 553 Invalid recipient alice@example.net (Mode: normal)
>>> DATA
<<< 554 Message refused
554 <bob@example.net>... Message refused
While talking to mx.example.org:
>>> DATA
<<< 550 <carol@example.org>: User unknown
550 5.1.1 <carol@example.org>... User unknown
<<< 503 need RCPT command
`

// TestTranscriptCommand checks that the command a Sendmail transcript shows
// is reported: the ">>> RCPT" line naming the recipient, or the ">>> "
// line before the reply that precedes the recipient's line.
func TestTranscriptCommand(t *testing.T) {
	r, err := readText([]byte(sendmailTranscript))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	// carol's reply came after DATA was sent, but with PIPELINING it
	// answered her RCPT TO: DATA's own reply follows it.
	want := map[string]string{"alice@example.net": "RCPT", "bob@example.net": "DATA", "carol@example.org": "RCPT"}
	if len(r.Recipients) != len(want) {
		t.Fatalf("recipients: %+v", r.Recipients)
	}
	for _, rc := range r.Recipients {
		if rc.Command != want[rc.Address] {
			t.Errorf("%s: command %q, want %q", rc.Address, rc.Command, want[rc.Address])
		}
	}

	for line, verb := range map[string]string{
		">>> RCPT To:<x@example.com>": "RCPT",
		"  >>> DATA":                  "DATA",
		">>> QUIT":                    "QUIT",
		">>> 250 ok":                  "",
		">>> ":                        "",
		"<<< 550 no":                  "",
		"RCPT TO:<x@example.com>":     "",
	} {
		if got := transcriptVerb(line); got != verb {
			t.Errorf("transcriptVerb(%q) = %q, want %q", line, got, verb)
		}
	}
}

func TestExchangeStatus(t *testing.T) {
	for diag, want := range map[string]string{
		"The recipient name is not recognized MSEXCH:IMS:NNN:KIJITORACAT:NEKO 0 (000C05A6) Unknown Recipient": "5.1.1",
		"MSEXCH:IMS:X:Y:Z 0 (000c0595) Ambiguous Recipient":                                                   "5.1.4",
		"MSEXCH:IMC:NEKO:KIJITORA:CAT (note) 0 (00120270) Too Many Hops":                                      "5.4.6",
		"MSEXCH:IMS:X 0 (12345678) unknown code":                                                              "",
		"Unknown Recipient (000C05A6) without the MSEXCH marker":                                              "",
		"MSEXCH:IMS:X 0 (000C05A6":                                                                            "",
	} {
		if got := exchangeStatus(diag); got != want {
			t.Errorf("exchangeStatus(%q) = %q, want %q", diag, got, want)
		}
	}
}
