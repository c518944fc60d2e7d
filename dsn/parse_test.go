package dsn

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		utf8  bool
		check func(t *testing.T, m *Message)
	}{
		{"folded, odd case, comments, x-fields, LF", "reporting-mta: DNS; mx.example.org (Postfix)\n" +
			"X-Postfix-Queue-ID: ABC123\nARRIVAL-DATE: Thu, 29 Apr 2015 23:34:45 +0900 (JST)\n\n" +
			"final-recipient: RFC822; <bob@example.net> (bob)\nACTION: Failed\nStatus: 5.1.1 (user unknown)\n" +
			"Diagnostic-Code: X-Postfix; host mx.example.net said: 550 no\n\tsuch user\nX-Extra: one\n",
			false, func(t *testing.T, m *Message) {
				r := m.Recipients[0]
				tcompare(t, m.ReportingMTA, "mx.example.org")
				tcompare(t, m.Extra["X-Postfix-Queue-Id"], []string{"ABC123"})
				tcompare(t, m.ArrivalDate.Equal(time.Date(2015, 4, 29, 14, 34, 45, 0, time.UTC)), true)
				tcompare(t, r.FinalRecipientType+";"+r.FinalRecipient, "rfc822;bob@example.net")
				tcompare(t, r.Action, ActionFailed)
				tcompare(t, r.Status, "5.1.1")
				tcompare(t, r.StatusComment, "user unknown")
				tcompare(t, r.DiagnosticType, "x-postfix")
				tcompare(t, r.DiagnosticCode, "host mx.example.net said: 550 no\tsuch user")
				tcompare(t, r.Extra["X-Extra"], []string{"one"})
			}},
		{"several recipients without blank lines, x-unix", "Reporting-MTA: dns; a\n\n" +
			"Original-Recipient: rfc822;a@x\nFinal-Recipient: rfc822;a@x\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 255\n" +
			"Original-Recipient: rfc822;b@x\nFinal-Recipient: rfc822;b@x\nAction: delayed\nStatus: 4.4.7\n\n\n" +
			"Final-Recipient: rfc822;c@x\nAction: delivered\nStatus: 2.0.0\n",
			false, func(t *testing.T, m *Message) {
				tcompare(t, len(m.Recipients), 3)
				tcompare(t, m.Recipients[0].DiagnosticType+" "+m.Recipients[0].DiagnosticCode, "x-unix 255")
				tcompare(t, m.Recipients[1].FinalRecipient+" "+string(m.Recipients[1].Action), "b@x delayed")
				tcompare(t, m.Recipients[2].Status, "2.0.0")
			}},
		{"missing optional and tolerated fields", "\n\nFinal-Recipient: a@x\nStatus: 5.2.2\nWill-Retry-Until: not a date\n",
			false, func(t *testing.T, m *Message) {
				r := m.Recipients[0]
				tcompare(t, r.FinalRecipientType, "rfc822")
				tcompare(t, r.Action, ActionFailed) // From the status class.
				tcompare(t, r.WillRetryUntil.IsZero(), true)
				tcompare(t, r.Extra["Will-Retry-Until"], []string{"not a date"})
			}},
		{"expired action, obsolete date", "Reporting-MTA: dns; a\nArrival-Date: Thu, 02 Jul 26 18:55:38 UTC\n\nOriginal-Recipient: rfc822;o@x\nAction: Expired\nStatus: 4.4.7\n",
			false, func(t *testing.T, m *Message) {
				tcompare(t, m.Recipients[0].Action, ActionFailed)
				tcompare(t, m.Recipients[0].FinalRecipient, "o@x") // From Original-Recipient.
				tcompare(t, m.ArrivalDate.Year(), 2026)
			}},
		{"global delivery status", "Reporting-MTA: dns; a\r\n\r\nFinal-Recipient: utf-8; d\\x{F6}rte@b\\x{FC}cher.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
			true, func(t *testing.T, m *Message) {
				tcompare(t, m.SMTPUTF8, true)
				tcompare(t, m.Recipients[0].FinalRecipient, "dörte@bücher.example")
			}},
		{"8-bit bytes and CR line endings", "Reporting-MTA: dns; a\r\rFinal-Recipient: rfc822; b@x\rAction: failed\rStatus: 5.0.0\rDiagnostic-Code: smtp; 550 caf\xe9\r",
			false, func(t *testing.T, m *Message) {
				tcompare(t, m.Recipients[0].DiagnosticCode, "550 caf\xe9")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(tc.in), tc.utf8)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name, in string
		field    string
		rcpt     int
		is       error
	}{
		{"no recipients", "Reporting-MTA: dns; a\n", "", 0, ErrNoRecipients},
		{"empty", "", "", 0, ErrNoRecipients},
		{"bad action", "Final-Recipient: rfc822; a@x\nAction: bounced\nStatus: 5.0.0\n", "action", 1, nil},
		{"bad status", "Final-Recipient: rfc822; a@x\nAction: failed\nStatus: 5.0\n", "status", 1, nil},
		{"no address", "Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; a@x\nAction: failed\n\nAction: failed\nStatus: 5.0.0\n", "final-recipient", 2, nil},
		{"no action or status", "Final-Recipient: rfc822; a@x\n", "action", 1, nil},
		{"bad escape", "Final-Recipient: utf-8; a\\x{zz}@x\nAction: failed\n", "final-recipient", 1, nil},
		{"field too long", "X-Long: " + strings.Repeat("a", MaxFieldSize+10) + "\n", "", 0, errFieldTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in), false)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "dsn: ") {
				t.Errorf("error %q without package prefix", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, expected %v", err, tc.is)
			}
			var fe *FieldError
			if tc.field != "" {
				if !errors.As(err, &fe) || fe.Field != tc.field || fe.Recipient != tc.rcpt {
					t.Errorf("got %v (%#v), expected field error for %s of recipient %d", err, fe, tc.field, tc.rcpt)
				}
			}
		})
	}
}

// TestDecodeTruncated checks that recipients past MaxRecipients are not
// kept: Decode and Parse return the first MaxRecipients, with Truncated set,
// and stop reading there (a bad field after the cap is not seen).
func TestDecodeTruncated(t *testing.T) {
	group := func(i int) string {
		return fmt.Sprintf("Final-Recipient: rfc822; r%d@x\nAction: failed\nStatus: 5.1.1\n\n", i)
	}
	var b strings.Builder
	b.WriteString("Reporting-MTA: dns; a\n\n")
	for i := 0; i < MaxRecipients; i++ {
		b.WriteString(group(i))
	}
	exact := b.String()
	cases := []struct {
		name      string
		in        string
		truncated bool
	}{
		{"exactly MaxRecipients", exact, false},
		{"one more", exact + group(MaxRecipients), true},
		{"one more without blank line", strings.TrimSuffix(exact, "\n") + group(MaxRecipients), true},
		{"bad fields after the cap", exact + group(MaxRecipients) + "Final-Recipient: rfc822; z@x\nAction: bounced\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(c.in), false)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Recipients) != MaxRecipients || m.Truncated != c.truncated {
				t.Fatalf("%d recipients, truncated %v; want %d, %v", len(m.Recipients), m.Truncated, MaxRecipients, c.truncated)
			}
			if first, last := m.Recipients[0].FinalRecipient, m.Recipients[MaxRecipients-1].FinalRecipient; first != "r0@x" || last != fmt.Sprintf("r%d@x", MaxRecipients-1) {
				t.Fatalf("recipients %s ... %s", first, last)
			}
			msg := "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n" + c.in + "--b--\n"
			pm, _, err := Parse(strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			if len(pm.Recipients) != MaxRecipients || pm.Truncated != c.truncated {
				t.Fatalf("Parse: %d recipients, truncated %v; want %d, %v", len(pm.Recipients), pm.Truncated, MaxRecipients, c.truncated)
			}
		})
	}
}

func TestParse(t *testing.T) {
	const status = "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
	cases := []struct {
		name string
		in   string
		err  error
		rcpt string
		msg  string // Expected OriginalMessageID.
		ret  Ret
	}{
		{"not a dsn", "Subject: hi\n\nhello\n", ErrNotDSN, "", "", ""},
		{"empty", "", ErrNotDSN, "", "", ""},
		{"multipart without status", "Content-Type: multipart/mixed; boundary=b\n\n--b\n\ntext\n--b--\n", ErrNotDSN, "", "", ""},
		{"plain report, headers part base64", "Content-Type: multipart/report; boundary=\"b\"\n\n--b\n\ntext\n--b\nContent-Type: message/delivery-status\n\n" + status +
			"--b\nContent-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n\nTWVzc2FnZS1JZDogPGFAYj4K\n--b--\n", nil, "bob@example.net", "<a@b>", RetHeaders},
		{"mixed with status in nested forward", "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n\nsee below\n--outer\nContent-Type: message/rfc822\n\n" +
			"Subject: bounce\nContent-Type: multipart/report; report-type=delivery-status; boundary=inner\n\n--inner\n\ntext\n--inner\nContent-Type: Message/Delivery-Status\n\n" + status +
			"--inner\nContent-Type: message/rfc822\n\nMessage-ID: <orig@x>\n\nbody\n--inner--\n--outer--\n", nil, "bob@example.net", "<orig@x>", RetFull},
		{"truncated, no closing boundary", "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n" + status, nil, "bob@example.net", "", ""},
		{"missing top content-type", "Subject: x\n\n--b\n\ntext\n--b\nContent-Type: message/delivery-status\n\n" + status + "--b--\n", nil, "bob@example.net", "", ""},
		{"status part base64", "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n" +
			b64(status) + "\n--b--\n", nil, "bob@example.net", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, part, err := Parse(strings.NewReader(tc.in))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, expected %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkPartOffsets(t, part, int64(len(tc.in)))
			tcompare(t, len(m.Recipients), 1)
			tcompare(t, m.Recipients[0].FinalRecipient, tc.rcpt)
			tcompare(t, m.OriginalMessageID, tc.msg)
			tcompare(t, m.Ret, tc.ret)
		})
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i <= MaxParts; i++ {
		b.WriteString("--b\n\nx\n")
	}
	if _, _, err := Parse(strings.NewReader(b.String())); !errors.Is(err, errTooManyParts) {
		t.Fatalf("got %v, expected too many parts", err)
	}

	// Deep nesting stops at MaxDepth: the innermost parts are leaves, no error.
	b.Reset()
	for i := 0; i < MaxDepth+5; i++ {
		b.WriteString("Content-Type: message/rfc822\n\n")
	}
	b.WriteString("x\n")
	if _, _, err := Parse(strings.NewReader(b.String())); !errors.Is(err, ErrNotDSN) {
		t.Fatalf("got %v, expected ErrNotDSN", err)
	}
}

// checkPartOffsets checks that all offsets are ordered and within the input.
func checkPartOffsets(t testing.TB, p *Part, size int64) {
	t.Helper()
	if p.HeaderOffset < 0 || p.HeaderOffset > p.BodyOffset || p.BodyOffset > p.EndOffset || p.EndOffset > size {
		t.Fatalf("bad offsets %d %d %d for size %d (%s)", p.HeaderOffset, p.BodyOffset, p.EndOffset, size, p.MediaType)
	}
	for i := range p.Parts {
		c := &p.Parts[i]
		if c.HeaderOffset < p.BodyOffset || c.EndOffset > p.EndOffset {
			t.Fatalf("child %s [%d,%d] outside parent %s [%d,%d]", c.MediaType, c.HeaderOffset, c.EndOffset, p.MediaType, p.BodyOffset, p.EndOffset)
		}
		checkPartOffsets(t, c, size)
	}
}

func tcompare[T any](t *testing.T, got, want T) {
	t.Helper()
	if !equalAny(got, want) {
		t.Errorf("got %#v, expected %#v", got, want)
	}
}

func b64(s string) string {
	var out bytes.Buffer
	c := composer{w: &out}
	c.base64([]byte(s))
	c.flush()
	return out.String()
}
