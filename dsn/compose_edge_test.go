package dsn

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// edgeMessage is a small valid DSN to change in one way per test.
func edgeMessage() Message {
	m := baseMessage()
	m.TextBody = "Delivery failed.\n"
	m.Recipients = []Recipient{{
		FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.1.1",
		RemoteMTA: "mx.example.net", DiagnosticCode: "550 5.1.1 no such user", LastAttemptDate: tAttempt,
	}}
	return m
}

// composeEdge composes m, runs the conformance checker, parses the output
// back, and returns both.
func composeEdge(t *testing.T, m *Message) (string, *Message, *Part) {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		t.Fatalf("compose: %v", err)
	}
	out := buf.Bytes()
	checkConform(t, out, m.SMTPUTF8)
	pm, part, err := Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, out)
	}
	return string(out), pm, part
}

// TestComposeEdgeCases covers output that was wrong before: each case
// composes a DSN with one awkward value and checks the conformance of the
// output, what Parse reads back, and the wire form of the field concerned.
func TestComposeEdgeCases(t *testing.T) {
	run := strings.Repeat("é", 1000)  // 2000 octets, 6000 escaped.
	cjk := strings.Repeat("日本語", 400) // 3600 octets without a space.
	cases := []struct {
		name   string
		change func(m *Message)
		check  func(t *testing.T, out string, m *Message, part *Part)
	}{
		{"bare CR in original", func(m *Message) {
			m.Original = []byte("Subject: a\rX-Odd: b\r\nMessage-ID: <orig-1@example.com>\r\n\r\nbody\rmore\r\n")
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if !strings.Contains(out, "Subject: a\r\nX-Odd: b\r\n") || !strings.Contains(out, "body\r\nmore\r\n") {
				t.Errorf("bare CR not written as CRLF:\n%s", out)
			}
		}},
		{"NUL in full original", func(m *Message) {
			m.Original = []byte("Subject: x\r\nMessage-ID: <orig-1@example.com>\r\n\r\nbody\x00with NUL\r\n")
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if m.Ret != RetHeaders || !strings.Contains(out, "Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n") {
				t.Errorf("original with NUL not returned as header only: %s\n%s", m.Ret, out)
			}
		}},
		{"NUL in original header", func(m *Message) {
			m.Original = []byte("Subject: x\x00y\r\nMessage-ID: <orig-1@example.com>\r\n\r\nbody\r\n")
		}, func(t *testing.T, out string, m *Message, part *Part) {
			p := part.Parts[2]
			b, _ := io.ReadAll(p.Body(strings.NewReader(out)))
			if p.TransferEncoding != "base64" || !bytes.Contains(b, []byte("x\x00y")) {
				t.Errorf("header with NUL: %s %q", p.TransferEncoding, b)
			}
		}},
		{"NUL in original smtputf8", func(m *Message) {
			m.SMTPUTF8 = true
			m.Original = []byte("Subject: x\r\nMessage-ID: <orig-1@example.com>\r\n\r\nbody\x00\r\n")
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if !strings.Contains(out, "Content-Type: message/global\r\nContent-Transfer-Encoding: base64\r\n") {
				t.Errorf("original with NUL with SMTPUTF8:\n%s", out)
			}
		}},
		{"NUL in text", func(m *Message) { m.TextBody = "nul\x00here\n" }, func(t *testing.T, out string, m *Message, part *Part) {
			if m.TextBody != "nul\x00here\n" || !strings.Contains(out, "Content-Transfer-Encoding: quoted-printable\r\n\r\nnul=00here") {
				t.Errorf("text %q:\n%s", m.TextBody, out)
			}
		}},
		{"idna hosts", func(m *Message) {
			m.ReportingMTA = "mx.bücher.example"
			m.DSNGateway = "gw.bücher.example"
			m.ReceivedFromMTA = "client.bücher.example"
			m.Recipients[0].RemoteMTA = "mx.παράδειγμα.example"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			for _, want := range []string{
				"Reporting-MTA: dns; mx.xn--bcher-kva.example\r\n", "DSN-Gateway: dns; gw.xn--bcher-kva.example\r\n",
				"Received-From-MTA: dns; client.xn--bcher-kva.example\r\n", "Remote-MTA: dns; mx.xn--hxajbheg2az3al.example\r\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q", want)
				}
			}
			if m.ReportingMTA != "mx.xn--bcher-kva.example" {
				t.Errorf("parsed reporting-mta %q", m.ReportingMTA)
			}
		}},
		{"non-ascii original message-id", func(m *Message) {
			m.OriginalMessageID = "<orig-ü@example.com>"
			m.References = "<thread-0@example.com> <bad-ü@example.com> not-an-id"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if strings.Contains(out, "In-Reply-To") || !strings.Contains(out, "References: <thread-0@example.com>\r\n") {
				t.Errorf("non-ascii or invalid msg-ids not left out:\n%s", out)
			}
		}},
		{"non-ascii message-ids with smtputf8", func(m *Message) {
			m.SMTPUTF8 = true
			m.MessageID = "<dsn-ü@mx.example.org>"
			m.OriginalMessageID = "<orig-ü@example.com>"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if !strings.Contains(out, "In-Reply-To: <orig-ü@example.com>\r\n") || m.MessageID != "<dsn-ü@mx.example.org>" {
				t.Errorf("UTF-8 msg-ids with SMTPUTF8:\n%s", out)
			}
		}},
		{"rfc822 type with non-ascii address", func(m *Message) {
			m.Recipients[0].FinalRecipient = "zoë@example.net"
			m.Recipients[0].FinalRecipientType = "rfc822"
			m.Recipients[0].OriginalRecipient = "Zoë+x@example.net"
			m.Recipients[0].OriginalRecipientType = "RFC822"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			r := m.Recipients[0]
			if !strings.Contains(out, `Final-Recipient: utf-8; zo\x{EB}@example.net`) || r.FinalRecipient != "zoë@example.net" || r.FinalRecipientType != "utf-8" {
				t.Errorf("final recipient %q %q:\n%s", r.FinalRecipientType, r.FinalRecipient, out)
			}
			if !strings.Contains(out, `Original-Recipient: utf-8; Zo\x{EB}\x{2B}x@example.net`) || r.OriginalRecipient != "Zoë+x@example.net" {
				t.Errorf("original recipient %q:\n%s", r.OriginalRecipient, out)
			}
		}},
		{"utf-8 address with smtputf8 is unitext", func(m *Message) {
			m.SMTPUTF8 = true
			m.Recipients[0].FinalRecipient = "zoë+x@example.net"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if !strings.Contains(out, `Final-Recipient: utf-8; zoë\x{2B}x@example.net`) || m.Recipients[0].FinalRecipient != "zoë+x@example.net" {
				t.Errorf("unitext address:\n%s", out)
			}
		}},
		{"long run of escapes", func(m *Message) { m.Recipients[0].DiagnosticCode = "550 " + run }, func(t *testing.T, out string, m *Message, part *Part) {
			// The split adds spaces, never inside an escape: the text
			// decodes, and is the run with spaces.
			got := m.Recipients[0].DiagnosticCode
			if strings.ReplaceAll(got, " ", "") != "550"+run || !strings.HasPrefix(got, "550 é") {
				t.Errorf("diagnostic %q", got)
			}
		}},
		{"long UTF-8 run", func(m *Message) {
			m.SMTPUTF8 = true
			m.Recipients[0].DiagnosticCode = "550 " + cjk
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if got := m.Recipients[0].DiagnosticCode; strings.ReplaceAll(got, " ", "") != "550"+cjk {
				t.Errorf("diagnostic %q", got)
			}
		}},
		{"long ascii run in subject", func(m *Message) { m.Subject = strings.Repeat("x", 2000) }, func(t *testing.T, out string, m *Message, part *Part) {
			if m.Subject != strings.Repeat("x", 2000) {
				t.Errorf("subject changed: %d octets", len(m.Subject))
			}
		}},
		{"subject with encoded-word text", func(m *Message) { m.Subject = "re: =?utf-8?q?x?= literally" }, func(t *testing.T, out string, m *Message, part *Part) {
			if m.Subject != "re: =?utf-8?q?x?= literally" {
				t.Errorf("subject %q", m.Subject)
			}
		}},
		{"empty and blank lines in diagnostic", func(m *Message) {
			m.Recipients[0].DiagnosticCode = "550-5.7.1 first\n\n550-5.7.1   \n550 5.7.1 last"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if got := m.Recipients[0].DiagnosticCode; got != "550-5.7.1 first  550-5.7.1    550 5.7.1 last" {
				t.Errorf("diagnostic %q", got)
			}
		}},
		{"multi-line reply keeps codes and marks", func(m *Message) {
			m.Recipients[0].DiagnosticCode = "451-4.7.1 Greylisted, see\n451-4.7.1 https://example.net/grey\n451 4.7.1 try again later"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			want := "Diagnostic-Code: smtp; 451-4.7.1 Greylisted, see\r\n 451-4.7.1 https://example.net/grey\r\n 451 4.7.1 try again later\r\n"
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}},
		{"dates without day of week", func(m *Message) {
			m.Recipients[0].Action = ActionDelayed
			m.Recipients[0].Status = "4.4.1"
			m.Recipients[0].WillRetryUntil = tRetry
		}, func(t *testing.T, out string, m *Message, part *Part) {
			for _, want := range []string{
				"\r\nDate: Sat, 01 Mar 2025 09:31:00 +0100\r\n", "\r\nArrival-Date: 01 Mar 2025 09:00:00 +0100\r\n",
				"\r\nLast-Attempt-Date: 01 Mar 2025 09:30:15 +0100\r\n", "\r\nWill-Retry-Until: 06 Mar 2025 09:00:00 +0100\r\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q", want)
				}
			}
			r := m.Recipients[0]
			if !r.WillRetryUntil.Equal(tRetry) || !r.LastAttemptDate.Equal(tAttempt) || !m.ArrivalDate.Equal(tArrival) {
				t.Errorf("dates read back: %v %v %v", m.ArrivalDate, r.LastAttemptDate, r.WillRetryUntil)
			}
		}},
		{"remote ip", func(m *Message) { m.Recipients[0].RemoteIP = netip.MustParseAddr("2001:db8::25") }, func(t *testing.T, out string, m *Message, part *Part) {
			r := m.Recipients[0]
			if !strings.Contains(out, "Remote-MTA: dns; mx.example.net (2001:db8::25)\r\n") || r.RemoteMTA != "mx.example.net" || r.RemoteIP != netip.MustParseAddr("2001:db8::25") {
				t.Errorf("remote-mta %q %v:\n%s", r.RemoteMTA, r.RemoteIP, out)
			}
		}},
		{"backslash escapes in text", func(m *Message) {
			m.Recipients[0].DiagnosticCode = `550 literal \x{41} and C:\path`
			m.Recipients[0].StatusComment = `a\b`
		}, func(t *testing.T, out string, m *Message, part *Part) {
			r := m.Recipients[0]
			if r.DiagnosticCode != `550 literal \x{41} and C:\path` || r.StatusComment != `a\b` {
				t.Errorf("read back %q %q:\n%s", r.DiagnosticCode, r.StatusComment, out)
			}
		}},
		{"quoted local-part with space in To", func(m *Message) { m.To = `"alice smith"@example.com` }, func(t *testing.T, out string, m *Message, part *Part) {
			// Parse reports the address as net/mail does, unquoted.
			if !strings.Contains(out, "\r\nTo: <\"alice smith\"@example.com>\r\n") || m.To != "alice smith@example.com" {
				t.Errorf("To %q:\n%s", m.To, out)
			}
		}},
		{"identifier with white space around", func(m *Message) {
			m.OriginalEnvelopeID = "  " + strings.Repeat("q", 890) + strings.Repeat(" ", 90)
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if m.OriginalEnvelopeID != strings.Repeat("q", 890) {
				t.Errorf("envelope id %q", m.OriginalEnvelopeID)
			}
		}},
		{"boundary in diagnostic", func(m *Message) {
			b := makeBoundary(msgID(m.MessageID), func(string) bool { return false })
			m.Recipients[0].DiagnosticCode = "550 " + strings.Repeat("x", 70) + " --" + b + " y"
		}, func(t *testing.T, out string, m *Message, part *Part) {
			if len(part.Parts) != 2 || len(m.Recipients) != 1 {
				t.Errorf("structure: %d parts", len(part.Parts))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := edgeMessage()
			tc.change(&m)
			out, pm, part := composeEdge(t, &m)
			tc.check(t, out, pm, part)
		})
	}
}

// TestComposeRefuses checks the values Compose cannot write: it returns an
// error that names the field and writes nothing.
func TestComposeRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(m *Message)
		want   string
		is     error
	}{
		{"host with space", func(m *Message) { m.ReportingMTA = "mx example.org" }, "ReportingMTA", ErrNotHostName},
		{"host with comment", func(m *Message) { m.Recipients[0].RemoteMTA = "mx.example.net (evil)" }, "recipient 1: RemoteMTA", ErrNotHostName},
		{"invalid idna", func(m *Message) { m.DSNGateway = "a\u200db.example" }, "DSNGateway", ErrNotHostName},
		{"hyphen label", func(m *Message) { m.ReportingMTA = "-" }, "ReportingMTA", ErrNotHostName},
		{"empty label", func(m *Message) { m.ReceivedFromMTA = "a..example" }, "ReceivedFromMTA", ErrNotHostName},
		{"ip with zone", func(m *Message) { m.Recipients[0].RemoteMTA = "fe80::1%eth0" }, "RemoteMTA", ErrNotHostName},
		{"non-ascii message-id", func(m *Message) { m.MessageID = "<dsn-ü@mx.example.org>" }, "MessageID", ErrMsgID},
		{"message-id without @", func(m *Message) { m.MessageID = "<dsn-1>" }, "MessageID", ErrMsgID},
		{"non-ascii address other type", func(m *Message) {
			m.Recipients[0].FinalRecipient = "zoë"
			m.Recipients[0].FinalRecipientType = "x-local"
		}, "FinalRecipient", ErrNeedsSMTPUTF8},
		{"address with comment", func(m *Message) { m.Recipients[0].FinalRecipient = "bob(x)@example.net" }, "parenthesis", nil},
		{"long log id", func(m *Message) { m.Recipients[0].FinalLogID = strings.Repeat("q", 10000) }, "FinalLogID", ErrFold},
		{"long envelope id", func(m *Message) { m.OriginalEnvelopeID = strings.Repeat("é", 200) }, "OriginalEnvelopeID", ErrFold},
		{"long white space", func(m *Message) { m.Recipients[0].DiagnosticCode = "550" + strings.Repeat(" ", 200) + "x" }, "DiagnosticCode", ErrFold},
		{"invalid utf-8 address", func(m *Message) { m.Recipients[0].FinalRecipient = "b\xffb@example.net" }, "invalid utf-8", nil},
		{"bad diagnostic type", func(m *Message) { m.Recipients[0].DiagnosticType = "smtp; x" }, "DiagnosticType", nil},
		{"year before 1900", func(m *Message) { m.ArrivalDate = time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC) }, "ArrivalDate", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := edgeMessage()
			tc.change(&m)
			var buf bytes.Buffer
			err := m.Compose(&buf)
			if err == nil || !strings.HasPrefix(err.Error(), "dsn: compose: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, expected error about %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %d bytes for an invalid message", buf.Len())
			}
		})
	}
}

// TestFoldLine checks the folding of single values: lines within limits,
// never white space alone, cut points between characters.
func TestFoldLine(t *testing.T) {
	cases := []struct {
		name, value string
		split       bool
		want        string
	}{
		{"short", "a b", false, "X: a b\r\n"},
		{"newline folds", "a\nb", false, "X: a\r\n b\r\n"},
		{"empty line", "a\n\nb", false, "X: a\r\n  b\r\n"},
		{"spaces before newline", "a \nb", false, "X: a\r\n  b\r\n"},
		{"soft limit", strings.Repeat("w ", 40) + "end", false, "X: " + strings.Repeat("w ", 37) + "w\r\n w w end\r\n"},
		{"split run", strings.Repeat("a", 1000), true, "X: " + strings.Repeat("a", 900) + "\r\n " + strings.Repeat("a", 100) + "\r\n"},
		{"split before escape", strings.Repeat("a", 895) + `\x{E9}` + strings.Repeat("b", 200), true, "X: " + strings.Repeat("a", 895) + "\r\n " + `\x{E9}` + strings.Repeat("b", 200) + "\r\n"},
		{"split before utf-8", strings.Repeat("a", 899) + "é" + strings.Repeat("b", 200), true, "X: " + strings.Repeat("a", 899) + "\r\n é" + strings.Repeat("b", 200) + "\r\n"},
		{"no split needed", strings.Repeat("a", 995), true, "X: " + strings.Repeat("a", 995) + "\r\n"},
		{"white space around", " \t" + strings.Repeat("a", 900) + strings.Repeat(" ", 97), false, "X: " + strings.Repeat("a", 900) + "\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := composer{w: &buf}
			c.fieldText("X", tc.value, tc.split)
			c.flush()
			if got := buf.String(); got != tc.want {
				t.Fatalf("got\n%q\nexpected\n%q", got, tc.want)
			}
		})
	}
}

// TestParseRemoteMTA reads the forms of Remote-MTA with an IP address that
// MTAs send.
func TestParseRemoteMTA(t *testing.T) {
	cases := []struct{ in, name, ip string }{
		{"dns; mx.example.net", "mx.example.net", ""},
		{"dns; mx.example.net (192.0.2.1)", "mx.example.net", "192.0.2.1"},
		{"dns; mfsmax.example.jp [203.0.113.112]", "mfsmax.example.jp", "203.0.113.112"},
		{"dns; [192.0.2.222]", "[192.0.2.222]", "192.0.2.222"},
		{"dns; mx.example.jp. (198.51.100.225, the server for the domain example.jp.)", "mx.example.jp.", "198.51.100.225"},
		{"dns;mx.example.jp (TCP|17.111.174.66|34042|198.51.100.225|25)", "mx.example.jp", ""},
		{"dns; mx.example.net [IPv6:2001:db8::1]", "mx.example.net", "2001:db8::1"},
	}
	for _, tc := range cases {
		name, ip := parseMTAIP(tc.in)
		want := netip.Addr{}
		if tc.ip != "" {
			want = netip.MustParseAddr(tc.ip)
		}
		if name != tc.name || ip != want {
			t.Errorf("%q: got %q %v, expected %q %v", tc.in, name, ip, tc.name, want)
		}
	}
}
