package dsn

import (
	"errors"
	"io"
	"net/mail"
	"strings"
	"testing"
	"testing/iotest"
)

// lenientRcpt is what TestDecodeLenient compares of a Recipient.
type lenientRcpt struct {
	final, finalType, orig string
	action                 Action
	status, comment        string
	diagType, diag         string
	extra                  map[string][]string
}

func lenientOf(rs []Recipient) []lenientRcpt {
	var out []lenientRcpt
	for _, r := range rs {
		out = append(out, lenientRcpt{r.FinalRecipient, r.FinalRecipientType, r.OriginalRecipient, r.Action,
			r.Status, r.StatusComment, r.DiagnosticType, r.DiagnosticCode, r.Extra})
	}
	return out
}

func TestDecodeLenient(t *testing.T) {
	bob := lenientRcpt{final: "bob@example.net", finalType: "rfc822", action: ActionFailed, status: "5.1.1"}
	with := func(r lenientRcpt, f func(*lenientRcpt)) lenientRcpt {
		f(&r)
		return r
	}
	cases := []struct {
		name string
		in   string
		want []lenientRcpt
	}{
		// RFC 3464 section 2.1: the per-message group comes first; pasted
		// fields often have none, and text stands around them.
		{"pasted into text, no per-message group",
			"Hello,\n\nyour message could not be delivered.\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n" +
				"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\nRegards,\nthe postmaster\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.diagType, r.diag = "smtp", "550 5.1.1 user unknown" })}},
		// RFC 5322 section 2.2.3 folding, relative to the indent of quoted
		// fields.
		{"indented fields, folded further in",
			"  Final-Recipient: rfc822; bob@example.net\n  Action: failed\n  Status: 5.1.1\n  Diagnostic-Code: smtp; 550 5.1.1 no\n      such user\n  After: text\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) {
				r.diagType, r.diag = "smtp", "550 5.1.1 no      such user"
				r.extra = map[string][]string{"After": {"text"}}
			})}},
		{"a text line ending in a colon is not unfolded",
			"The following recipient failed:\n    Final-Recipient: rfc822; bob@example.net\n    Status: 5.1.1\n",
			[]lenientRcpt{bob}},
		// RFC 3464 section 2.1: groups are separated by blank lines; in text
		// a line of spaces is one.
		{"a line of white space ends the recipient",
			"  Final-Recipient: rfc822; bob@example.net\n  Action: failed\n  Diagnostic-Code: smtp; 550 no\n      \n      Status: 5.1.1\n",
			[]lenientRcpt{{final: "bob@example.net", finalType: "rfc822", action: ActionFailed, diagType: "smtp", diag: "550 no"}}},
		{"unindented folding",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 no\n\tsuch user\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.diagType, r.diag = "smtp", "550 5.1.1 no\tsuch user" })}},
		// RFC 3464 section 2.3.4: Status is a code with an optional comment.
		{"status that is not a code, kept in Extra",
			"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 550 5.1.1 (mailbox unknown)\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) {
				r.status, r.comment = "", "mailbox unknown"
				r.extra = map[string][]string{"Status": {"550 5.1.1 (mailbox unknown)"}}
			})}},
		// RFC 3464 section 2.3.3: five action values.
		{"unknown action, kept in Extra, derived from the status",
			"Final-Recipient: rfc822; bob@example.net\nAction: bounced\nStatus: 5.1.1\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.extra = map[string][]string{"Action": {"bounced"}} })}},
		{"no action and no status",
			"Final-Recipient: rfc822; bob@example.net\nDiagnostic-Code: smtp; 550 no\n",
			[]lenientRcpt{{final: "bob@example.net", finalType: "rfc822", diagType: "smtp", diag: "550 no"}}},
		{"expired and success synonyms",
			"Final-Recipient: rfc822; a@example.net\nAction: expired\n\nFinal-Recipient: rfc822; b@example.net\nAction: success\n",
			[]lenientRcpt{{final: "a@example.net", finalType: "rfc822", action: ActionFailed}, {final: "b@example.net", finalType: "rfc822", action: ActionDelivered}}},
		// RFC 3464 section 2.3.2: Final-Recipient is required.
		{"group without an address dropped, the next kept",
			"Action: failed\nStatus: 5.0.0\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n",
			[]lenientRcpt{bob}},
		// RFC 3464 section 2.3.1.
		{"only Original-Recipient",
			"Original-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.orig = r.final })}},
		// RFC 6533 section 3: \x{HEX} escapes in utf-8 addresses.
		{"malformed utf-8 address kept in Extra",
			"Final-Recipient: utf-8; b\\x{zz}b@example.net\nOriginal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) {
				r.orig = r.final
				r.extra = map[string][]string{"Final-Recipient": {"utf-8; b\\x{zz}b@example.net"}}
			})}},
		// RFC 3464 section 2.2: per-message fields are not returned; other
		// fields outside a recipient are text.
		{"per-message fields and text fields outside recipients",
			"Reporting-MTA: dns; mx.example.org\nSubject: hello\nNote: see below\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n",
			[]lenientRcpt{bob}},
		// RFC 3464 section 2.4: extension fields.
		{"extension field in a recipient",
			"Final-Recipient: rfc822; bob@example.net\nX-Actual-Recipient: rfc822; b@example.net\nAction: failed\nStatus: 5.1.1\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.extra = map[string][]string{"X-Actual-Recipient": {"rfc822; b@example.net"}} })}},
		{"repeated field starts a recipient",
			"Final-Recipient: rfc822; a@example.net\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@example.net\nStatus: 4.2.2\n",
			[]lenientRcpt{{final: "a@example.net", finalType: "rfc822", action: ActionFailed, status: "5.1.1"}, {final: "b@example.net", finalType: "rfc822", action: ActionDelayed, status: "4.2.2"}}},
		// RFC 3464 section 2.3.6: diagnostic-type is an atom.
		{"diagnostic without a type",
			"Final-Recipient: rfc822; bob@example.net\nStatus: 5.1.1\nDiagnostic-Code: 550 5.1.1 <bob@example.net>; user unknown\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.diag = "550 5.1.1 <bob@example.net>; user unknown" })}},
		{"mixed CRLF, CR and LF line endings",
			"Final-Recipient: rfc822; a@example.net\r\nStatus: 5.1.1\rDiagnostic-Code: smtp; 550 a\r\n b\n\r\nFinal-Recipient: rfc822; b@example.net\rStatus: 5.1.1\n",
			[]lenientRcpt{{final: "a@example.net", finalType: "rfc822", action: ActionFailed, status: "5.1.1", diagType: "smtp", diag: "550 a b"},
				{final: "b@example.net", finalType: "rfc822", action: ActionFailed, status: "5.1.1"}}},
		// RFC 5322 section 2.2: no line break in a field, escaped or not.
		{"escaped line break left as written",
			"Final-Recipient: rfc822; bob@example.net\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 a\\x{A}b\n",
			[]lenientRcpt{with(bob, func(r *lenientRcpt) { r.diagType, r.diag = "smtp", "550 a\\x{A}b" })}},
		{"no fields", "Hello,\n\nnothing to see here: move on.\n", nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := DecodeLenient(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			tcompare(t, lenientOf(rs), tc.want)
		})
	}
}

func TestDecodeLenientLimits(t *testing.T) {
	rcpt := "Final-Recipient: rfc822; a@example.net\nAction: failed\n\n"
	long := "Final-Recipient: rfc822; bob@example.net\nAction: failed\nDiagnostic-Code: smtp; 550 " + strings.Repeat("x", MaxFieldSize+100) + "\n\n"
	cases := []struct {
		name    string
		in      io.Reader
		n       int    // Recipients.
		last    string // Address of the last recipient.
		maxDiag int    // Longest diagnostic.
		err     error
	}{
		{"exactly MaxRecipients", strings.NewReader(strings.Repeat(rcpt, MaxRecipients)), MaxRecipients, "a@example.net", 0, nil},
		{"one more than MaxRecipients", strings.NewReader(strings.Repeat(rcpt, MaxRecipients) + "Final-Recipient: rfc822; b@example.net\n"),
			MaxRecipients, "a@example.net", 0, ErrTooManyRecipients},
		{"text after MaxRecipients is no recipient", strings.NewReader(strings.Repeat(rcpt, MaxRecipients) + "Action: failed\nStatus: 5.0.0\n"),
			MaxRecipients, "a@example.net", 0, nil},
		{"field longer than MaxFieldSize cut off", strings.NewReader(long + "Final-Recipient: rfc822; c@example.net\n"),
			2, "c@example.net", MaxFieldSize, nil},
		{"reading stops after MaxStatusSize", strings.NewReader(rcpt + strings.Repeat("text\n", MaxStatusSize/5) + "Final-Recipient: rfc822; late@example.net\n"),
			1, "a@example.net", 0, nil},
		{"read error after a recipient", io.MultiReader(strings.NewReader(rcpt), iotest.ErrReader(errTest)),
			1, "a@example.net", 0, errTest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := DecodeLenient(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("got error %v, expected %v", err, tc.err)
			}
			if len(rs) != tc.n || rs[len(rs)-1].FinalRecipient != tc.last {
				t.Fatalf("got %d recipients, the last %q; expected %d, the last %q", len(rs), rs[len(rs)-1].FinalRecipient, tc.n, tc.last)
			}
			longest := 0
			for _, r := range rs {
				longest = max(longest, len(r.DiagnosticCode))
			}
			if tc.maxDiag > 0 && (longest > tc.maxDiag || longest < tc.maxDiag-100) {
				t.Errorf("longest diagnostic %d bytes, expected about %d", longest, tc.maxDiag)
			}
		})
	}
}

var errTest = errors.New("test read error")

// TestDecodeTooManyRecipients checks that Decode refuses what DecodeLenient
// cuts with the same sentinel.
func TestDecodeTooManyRecipients(t *testing.T) {
	in := strings.Repeat("Final-Recipient: rfc822; a@example.net\nAction: failed\n\n", MaxRecipients+1)
	m, err := Decode(strings.NewReader(in), false)
	if err != nil || !m.Truncated || len(m.Recipients) != MaxRecipients {
		t.Fatalf("Decode: err %v; expected the first %d recipients and Truncated", err, MaxRecipients)
	}
	rs, err := DecodeLenient(strings.NewReader(in))
	if !errors.Is(err, ErrTooManyRecipients) || len(rs) != MaxRecipients {
		t.Fatalf("DecodeLenient: err %v, %d recipients; expected the first %d and ErrTooManyRecipients", err, len(rs), MaxRecipients)
	}
}

// TestDecodeUntypedDiagnostic checks the strict reader's side of the atom
// rule for types, RFC 3464 section 2.1.2 and 2.3.6.
func TestDecodeUntypedDiagnostic(t *testing.T) {
	cases := []struct {
		value, typ, text string
	}{
		{"smtp; 550 5.1.1 no", "smtp", "550 5.1.1 no"},
		{"X-Postfix; host said: 550 no", "x-postfix", "host said: 550 no"},
		{"550 5.1.1 <bob@example.net>; user unknown", "", "550 5.1.1 <bob@example.net>; user unknown"},
		{"mailbox full;  try later", "", "mailbox full;  try later"},
		{"; 550 no", "", "550 no"},
		{"550 no", "", "550 no"},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			m, err := Decode(strings.NewReader("Final-Recipient: rfc822; bob@example.net\nAction: failed\nDiagnostic-Code: "+tc.value+"\n"), false)
			if err != nil {
				t.Fatal(err)
			}
			r := m.Recipients[0]
			tcompare(t, r.DiagnosticType, tc.typ)
			tcompare(t, r.DiagnosticCode, tc.text)
		})
	}
}

func TestReadHeaderLenient(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want mail.Header
	}{
		{"header block up to the blank line",
			"Received: from a\n\tby b; Sat, 29 Nov 2014 00:32:10 +0100\nmessage-id: <x@example.org>\nSubject: hi\n\nMessage-ID: <body@example.org>\n",
			mail.Header{"Received": {"from a\tby b; Sat, 29 Nov 2014 00:32:10 +0100"}, "Message-Id": {"<x@example.org>"}, "Subject": {"hi"}}},
		// A header copied into text with a fold whose white space was lost.
		{"lines that are not fields skipped",
			"Received: from [192.0.2.1] by mx.example.org (via\nHTTP); Sat, 29 Nov 2014 00:32:10 +0100\n-----\nMessage-ID: <x@example.org>\nTo: a@example.org\nTo: b@example.org\n",
			mail.Header{"Received": {"from [192.0.2.1] by mx.example.org (via"}, "Message-Id": {"<x@example.org>"}, "To": {"a@example.org", "b@example.org"}}},
		{"text and blank lines before the header",
			"\n-- the header of your message --\n\nMessage-ID: <x@example.org>\n\nSubject: body\n",
			mail.Header{"Message-Id": {"<x@example.org>"}}},
		{"CR line endings", "Message-ID: <x@example.org>\rSubject: a\r b\r\rX: y\r",
			mail.Header{"Message-Id": {"<x@example.org>"}, "Subject": {"a b"}}},
		{"no fields", "just text\nmore text\n", nil},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := ReadHeaderLenient(strings.NewReader(tc.in))
			tcompare(t, h, tc.want)
			if tc.want != nil && h.Get("Message-ID") != tc.want.Get("Message-ID") {
				t.Errorf("Get(Message-ID) %q", h.Get("Message-ID"))
			}
		})
	}
}
