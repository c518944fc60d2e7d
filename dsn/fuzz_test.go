package dsn

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seeds returns the goldens and the corpus DSNs.
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob("testdata/*.golden")
	dsns, _ := corpusFiles(f)
	for _, rel := range dsns {
		files = append(files, filepath.Join(corpusDir, rel))
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, part, err := Parse(bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrNoRecipients) {
			if m != nil {
				t.Fatalf("message with error %v", err)
			}
			return
		}
		checkPartOffsets(t, part, int64(len(data)))
		if err == nil && (len(m.Recipients) == 0 || len(m.Recipients) > MaxRecipients) {
			t.Fatalf("%d recipients without error", len(m.Recipients))
		}
		for _, r := range m.Recipients {
			if r.FinalRecipient == "" || !r.Action.Valid() {
				t.Fatalf("bad recipient %#v", r)
			}
			if r.Status != "" && !validStatus(r.Status) {
				t.Fatalf("bad status %q", r.Status)
			}
		}
		if len(m.TextBody) > MaxTextBody*4 {
			t.Fatalf("text body of %d bytes", len(m.TextBody))
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, b := range seeds(f) {
		// Seed with the delivery-status part of each message.
		m, part, err := Parse(bytes.NewReader(b))
		if err != nil || m == nil {
			continue
		}
		if ds, _ := part.find(isStatusPart, nil); ds != nil {
			f.Add(b[ds.BodyOffset:ds.EndOffset], ds.MediaType == "message/global-delivery-status")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, utf8 bool) {
		m, err := Decode(bytes.NewReader(data), utf8)
		if err != nil {
			if m != nil && !errors.Is(err, ErrNoRecipients) {
				t.Fatalf("message with error %v", err)
			}
			return
		}
		if len(m.Recipients) == 0 || m.SMTPUTF8 != utf8 {
			t.Fatalf("bad message %#v", m)
		}
		for _, r := range m.Recipients {
			if r.FinalRecipient == "" || !r.Action.Valid() {
				t.Fatalf("bad recipient %#v", r)
			}
		}
	})
}

// FuzzDecodeLenient feeds DecodeLenient delivery-status parts, the text
// parts around them, and fields pasted into text: it never panics, returns
// at most MaxRecipients recipients (exactly that many with
// ErrTooManyRecipients, the only error a bytes.Reader allows), each with an
// address, a valid or empty Action and Status, and no line break in any
// value.
func FuzzDecodeLenient(f *testing.F) {
	for _, b := range seeds(f) {
		m, part, err := Parse(bytes.NewReader(b))
		if err != nil || m == nil {
			continue
		}
		if ds, _ := part.find(isStatusPart, nil); ds != nil {
			f.Add(b[ds.BodyOffset:ds.EndOffset])
		}
		f.Add([]byte(m.TextBody))
	}
	f.Add([]byte("Hello,\r\n\r\n  Final-Recipient: rfc822; bob@example.net\r\n  Action: bounced\r\n  Status: 550 5.1.1 (no)\r\n" +
		"  Diagnostic-Code: smtp; 550 5.1.1 no\r\n      such user\r\n   \r\nThe postmaster:\n\tX-Actual-Recipient: b\rStatus: 4.2.2\n"))
	f.Add([]byte("Original-Recipient: utf-8; b\\x{zz}b@example.net\nStatus: 5.1.1\nOriginal-Recipient: rfc822; c@x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := DecodeLenient(bytes.NewReader(data))
		if err != nil && (!errors.Is(err, ErrTooManyRecipients) || len(rs) != MaxRecipients) {
			t.Fatalf("error %v with %d recipients", err, len(rs))
		}
		if len(rs) > MaxRecipients {
			t.Fatalf("%d recipients", len(rs))
		}
		for _, r := range rs {
			if r.FinalRecipient == "" || r.Action != "" && !r.Action.Valid() || r.Status != "" && !validStatus(r.Status) {
				t.Fatalf("bad recipient %#v", r)
			}
			values := []string{r.FinalRecipient, r.FinalRecipientType, r.OriginalRecipient, r.OriginalRecipientType, r.Status,
				r.StatusComment, r.RemoteMTA, r.DiagnosticType, r.DiagnosticCode, r.FinalLogID}
			for _, v := range r.Extra {
				values = append(values, v...)
			}
			for _, v := range values {
				if strings.ContainsAny(v, "\r\n") {
					t.Fatalf("line break in %q of %#v", v, r)
				}
			}
		}
	})
}

// FuzzCompose composes DSNs from arbitrary field values (non-ASCII, CR, LF,
// NUL, long runs): each call returns an error, or output that passes the
// conformance checker and that Parse reads back with the same recipients,
// actions, statuses and diagnostic text. mode selects the action (low three
// bits), RET=HDRS (bit 3) and a small MaxOriginal (bit 4); bits 5 to 7
// repeat values to 10,000 octets and more (subject and status comment;
// diagnostic; addresses, envelope id and remote MTA), so that short inputs,
// cheap to mutate and minimize, reach the long runs.
func FuzzCompose(f *testing.F) {
	for _, tc := range goldenCases() {
		m := tc.m
		r := m.Recipients[0]
		var mode uint8
		for i, a := range []Action{ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded} {
			if a == r.Action {
				mode = uint8(i)
			}
		}
		if m.Ret == RetHeaders {
			mode |= 8
		}
		// Short values: the fuzzer mutates and minimizes them quickly, and
		// mode makes them long.
		text, orig := m.TextBody, m.Original
		if len(text) > 100 {
			text = text[:100]
		}
		if len(orig) > 300 {
			orig = orig[:300]
		}
		f.Add(m.SMTPUTF8, mode, m.Subject, text, m.ReportingMTA, r.RemoteMTA, r.FinalRecipient, r.FinalRecipientType,
			r.OriginalRecipient, r.DiagnosticType, r.DiagnosticCode, r.StatusComment, m.OriginalEnvelopeID, m.OriginalMessageID, m.References, orig)
	}
	f.Add(false, uint8(0x60), "=?utf-8?q?x?= y", "a\rb\x00c\n", "mx.bücher.example", "mx.παράδειγμα.example",
		"zoë+x@example.net", "rfc822", "Zoë@example.net", "X-Postfix", "550-5.1.1 a\n\n550 5.1.1 é",
		`c\x{41}\`, "env\u00e9", "<orig-ü@example.com>", "<a@b> bad <c@d>", []byte("Subject: a\rb\x00\n\nbody\r"))
	f.Add(true, uint8(0xe1), "日本語", "日本語\n", "mx.example.org", "192.0.2.1", "δ@example.net", "", "", "", "\\x{", "a", "e", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, smtputf8 bool, mode uint8, subject, text, reportingMTA, remoteMTA, rcpt, rcptType, orcpt, diagType, diag, comment, envid, origID, refs string, original []byte) {
		long := func(s string) string {
			if s == "" {
				return s
			}
			return strings.Repeat(s, 10000/len(s)+1)
		}
		if mode&0x20 != 0 {
			subject, comment = long(subject), long(comment)
		}
		if mode&0x40 != 0 {
			diag = long(diag)
		}
		if mode&0x80 != 0 {
			rcpt, orcpt, envid, remoteMTA = long(rcpt), long(orcpt), long(envid), long(remoteMTA)
		}
		actions := []Action{ActionFailed, ActionDelayed, ActionDelivered, ActionRelayed, ActionExpanded}
		statuses := []string{"5.1.1", "4.4.1", "2.0.0", "2.0.0", "2.0.0"}
		a := int(mode&7) % len(actions)
		m := Message{
			From: "postmaster@mx.example.org", To: "alice@example.com", MessageID: "<dsn-1@mx.example.org>", Date: tDate,
			Subject: subject, TextBody: text, SMTPUTF8: smtputf8, ReportingMTA: reportingMTA, OriginalEnvelopeID: envid,
			OriginalMessageID: origID, References: refs, Original: original, ArrivalDate: tArrival,
			Recipients: []Recipient{{
				FinalRecipient: rcpt, FinalRecipientType: rcptType, OriginalRecipient: orcpt, Action: actions[a], Status: statuses[a],
				StatusComment: comment, RemoteMTA: remoteMTA, DiagnosticType: diagType, DiagnosticCode: diag, LastAttemptDate: tAttempt,
			}, {
				FinalRecipient: "carol@example.net", Action: ActionDelayed, Status: "4.7.0", DiagnosticCode: diag, WillRetryUntil: tRetry,
			}},
		}
		if mode&8 != 0 {
			m.Ret = RetHeaders
		}
		if mode&16 != 0 {
			m.MaxOriginal = 100
		}
		var buf bytes.Buffer
		if err := m.Compose(&buf); err != nil {
			if !strings.HasPrefix(err.Error(), "dsn: compose: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			if buf.Len() != 0 {
				t.Fatalf("error %v after writing %d bytes", err, buf.Len())
			}
			return
		}
		out := buf.Bytes()
		if problems := checkConformance(out, smtputf8); len(problems) > 0 {
			t.Fatalf("conformance:\n%s\n\n%s", strings.Join(problems, "\n"), out)
		}
		pm, _, err := Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, out)
		}
		if len(pm.Recipients) != len(m.Recipients) {
			t.Fatalf("%d recipients, expected %d\n%s", len(pm.Recipients), len(m.Recipients), out)
		}
		host, _ := hostName(reportingMTA)
		if pm.ReportingMTA != host {
			t.Errorf("reporting-mta %q, expected %q", pm.ReportingMTA, host)
		}
		if want := strings.Trim(subject, " \t"); subject != "" && pm.Subject != want {
			t.Errorf("subject %q, expected %q", pm.Subject, want)
		}
		for i, r := range m.Recipients {
			got := pm.Recipients[i]
			typ, _ := m.addressType(r.FinalRecipientType, r.FinalRecipient)
			if got.FinalRecipient != r.FinalRecipient || got.FinalRecipientType != typ {
				t.Errorf("recipient %d: %q %q, expected %q %q", i+1, got.FinalRecipientType, got.FinalRecipient, typ, r.FinalRecipient)
			}
			if got.OriginalRecipient != r.OriginalRecipient {
				t.Errorf("recipient %d: original %q, expected %q", i+1, got.OriginalRecipient, r.OriginalRecipient)
			}
			if got.Action != r.Action || got.Status != r.Status {
				t.Errorf("recipient %d: %s %s, expected %s %s", i+1, got.Action, got.Status, r.Action, r.Status)
			}
			wantDiag := strings.ReplaceAll(cleanText(r.DiagnosticCode), "\n", " ")
			wantType := strings.ToLower(r.DiagnosticType)
			if wantType == "" && wantDiag != "" {
				wantType = "smtp"
			}
			if wantDiag == "" {
				wantType = ""
			}
			if !sameText(got.DiagnosticCode, wantDiag) || got.DiagnosticType != wantType {
				t.Errorf("recipient %d: diagnostic %q %q, expected %q %q", i+1, got.DiagnosticType, got.DiagnosticCode, wantType, wantDiag)
			}
			if want := cleanText(r.StatusComment); !sameText(got.StatusComment, want) {
				t.Errorf("recipient %d: status comment %q, expected %q", i+1, got.StatusComment, want)
			}
			if r.RemoteMTA != "" {
				if h, _ := hostName(r.RemoteMTA); got.RemoteMTA != h {
					t.Errorf("recipient %d: remote-mta %q, expected %q", i+1, got.RemoteMTA, h)
				}
			}
		}
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	})
}

// sameText compares free text read back with what was composed: equal, or,
// where a run too long for a line was split, equal without the added
// spaces.
func sameText(got, want string) bool {
	if got == want {
		return true
	}
	if word, _ := runs(escapeText(want, false, true)); word <= maxRun {
		return false
	}
	return len(got) > len(want) && strings.ReplaceAll(got, " ", "") == strings.ReplaceAll(want, " ", "")
}
