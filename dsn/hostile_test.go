package dsn_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/internal/hostile"
)

// hostileCase is one hostile input of TestHostileParse and
// TestHostileDecode. bound is the documented limit of the bytes the call may
// allocate (an upper bound of its peak extra heap), besides the input itself.
type hostileCase struct {
	name  string
	input func() io.ReaderAt
	bound uint64
	// want is "ok" for a DSN with its one recipient, "truncated" for
	// MaxRecipients recipients and Truncated, or the error the input must
	// give (errors.Is); errAny accepts any "dsn: " error.
	want   string
	target error
	bug    string // Known bug: the case is skipped with this description.
}

var errAny = errors.New("any dsn error")

func fixed(b []byte) func() io.ReaderAt {
	return func() io.ReaderAt { return bytes.NewReader(b) }
}

func replaced(old, new string) func() io.ReaderAt {
	return fixed([]byte(strings.Replace(string(hostile.DSN()), old, new, 1)))
}

// TestHostileParse runs Parse on hostile messages: each gives the DSN or a
// "dsn: " error, never a panic, and allocates at most its bound, whatever
// the input size: Parse streams.
func TestHostileParse(t *testing.T) {
	const mb = 1 << 20
	cases := []hostileCase{
		{"nil", fixed(nil), 64 << 10, "", dsn.ErrNotDSN, ""},
		{"empty", fixed([]byte{}), 64 << 10, "", dsn.ErrNotDSN, ""},
		{"wellformed", fixed(hostile.DSN()), 64 << 10, "ok", nil, ""},
		// 150 MB: the returned message is skipped, not read into memory.
		{"150MB message", func() io.ReaderAt { return hostile.BigDSN(hostile.BigMessage) }, 1 * mb, "ok", nil, ""},
		{"150MB line", func() io.ReaderAt { return hostile.BigLineDSN(hostile.BigMessage) }, 1 * mb, "ok", nil, ""},
		// Header fields over MaxFieldSize are cut or refused, not kept.
		{"1MB subject", fixed(hostile.LongSubject(hostile.LongLine)), 1 * mb, "ok", nil, ""},
		{"1MB diagnostic", fixed(hostile.LongDiagnostic(hostile.LongLine)), 1 * mb, "", errAny, ""},
		{"1MB boundary", fixed(hostile.LongBoundary(hostile.LongLine)), 1 * mb, "", errAny, ""},
		// More than MaxRecipients: the first MaxRecipients, Truncated, and
		// the rest not read.
		{"100k recipients", fixed(hostile.ManyRecipientsDSN(hostile.ManyRecipients)), 2 * mb, "truncated", nil, ""},
		// Deeper than MaxDepth: an error at the limit.
		{"10k nested multiparts", fixed(hostile.DeepMultipart(hostile.DeepNesting)), 1 * mb, "", errAny, ""},
		{"10k nested messages", fixed(hostile.DeepRFC822(hostile.DeepNesting)), 1 * mb, "", errAny, ""},
		{"NUL in recipient", replaced("rcpt@example.com\r\n", "rc\x00pt@example.com\r\n"), 64 << 10, "ok", nil, ""},
		{"invalid UTF-8 in recipient", replaced("rcpt@example.com\r\n", "rc\xffpt@example.com\r\n"), 64 << 10, "ok", nil, ""},
		{"invalid UTF-8 in subject", replaced("Subject: Undelivered", "Subject: =?utf-8?b?/w==?= \xff"), 64 << 10, "ok", nil, ""},
		// A CR inside a CRLF message is not a line end: the action is
		// refused, and the error quotes it.
		{"bare CR", replaced("Action: failed\r\n", "Action: failed\rBcc: victim@example.net\r\n"), 64 << 10, "", errAny, ""},
		{"encoded CRLF in subject", replaced("Subject: Undelivered", "Subject: =?utf-8?q?a=0D=0ABcc:_victim@example.net?="), 64 << 10, "ok", nil, ""},
		{"encoded NUL in from", replaced("From: MAILER-DAEMON@mx.example.com", "From: =?utf-8?q?a=00=1B?= <MAILER-DAEMON@mx.example.com>"), 64 << 10, "ok", nil, ""},
		{"folded recipient", replaced("rcpt@example.com\r\n", "rcpt@example.com\r\n Bcc: victim@example.net\r\n"), 64 << 10, "ok", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.bug != "" {
				t.Skip("bug: " + c.bug)
			}
			r := c.input()
			var m *dsn.Message
			var err error
			hostile.Check(t, c.bound, func() { m, _, err = dsn.Parse(r) })
			checkHostileResult(t, c, m, err)
		})
	}
}

// TestHostileDecode runs Decode on hostile delivery-status bodies.
func TestHostileDecode(t *testing.T) {
	const mb = 1 << 20
	status := func(s string) func() io.ReaderAt {
		return fixed([]byte(strings.TrimPrefix(s, "--b\r\nContent-Type: message/delivery-status\r\n\r\n")))
	}
	cases := []hostileCase{
		{"nil", fixed(nil), 64 << 10, "", dsn.ErrNoRecipients, ""},
		{"empty", fixed([]byte{}), 64 << 10, "", dsn.ErrNoRecipients, ""},
		{"wellformed", status(hostile.DSNStatus), 64 << 10, "ok", nil, ""},
		// Decode reads at most MaxStatusSize of a 150 MB part.
		{"150MB field", func() io.ReaderAt {
			return hostile.NewRepeated("Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@example.com\r\nX-Long: ", "z", "\r\n", hostile.BigMessage)
		}, 2 * mb, "", errAny, ""},
		{"150MB of recipients", func() io.ReaderAt {
			return hostile.NewRepeated("Reporting-MTA: dns; x\r\n", "\r\nFinal-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n", "", hostile.BigMessage)
		}, 2 * mb, "truncated", nil, ""},
		{"1MB diagnostic", fixed([]byte("Final-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; " + strings.Repeat("d", hostile.LongLine) + "\r\n")), 1 * mb, "", errAny, ""},
		{"100k recipients", fixed(hostile.StatusRecipients(hostile.ManyRecipients)), 2 * mb, "truncated", nil, ""},
		// Extension fields past MaxExtraFields are dropped: 3 MB of them
		// would cost map and slice entries many times their size.
		{"3MB of extension fields", func() io.ReaderAt {
			return hostile.NewRepeated("Reporting-MTA: dns; x\r\n", "X-F: v\r\n", "\r\nFinal-Recipient: rfc822; a@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n", 3*mb)
		}, 1 * mb, "ok", nil, ""},
		{"NUL", fixed([]byte("Final-Recipient: rfc822; a\x00@example.com\r\nAction: failed\x00\r\nStatus: 5.1.1\r\n")), 64 << 10, "", errAny, ""},
		{"invalid UTF-8", fixed([]byte("Final-Recipient: utf-8; \xff\xfe@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nX-Note: \xc0\xaf\r\n")), 64 << 10, "any", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.bug != "" {
				t.Skip("bug: " + c.bug)
			}
			r := io.NewSectionReader(c.input(), 0, 1<<62)
			var m *dsn.Message
			var err error
			hostile.Check(t, c.bound, func() { m, err = dsn.Decode(r, false) })
			checkHostileResult(t, c, m, err)
		})
	}
}

func checkHostileResult(t *testing.T, c hostileCase, m *dsn.Message, err error) {
	t.Helper()
	switch {
	case c.want == "ok":
		if err != nil {
			t.Fatalf("got error %v, want a DSN", err)
		}
		if len(m.Recipients) != 1 {
			t.Fatalf("got %d recipients, want 1", len(m.Recipients))
		}
	case c.want == "truncated":
		if err != nil {
			t.Fatalf("got error %v, want a truncated DSN", err)
		}
		if len(m.Recipients) != dsn.MaxRecipients || !m.Truncated {
			t.Fatalf("got %d recipients, truncated %v; want %d and truncated", len(m.Recipients), m.Truncated, dsn.MaxRecipients)
		}
	case c.want == "any":
	case err == nil:
		t.Fatalf("no error, want %v", c.target)
	case !strings.HasPrefix(err.Error(), "dsn: "):
		t.Fatalf("error %q without package prefix", err)
	case c.target != errAny && !errors.Is(err, c.target):
		t.Fatalf("got error %v, want %v", err, c.target)
	}
	if err != nil {
		t.Logf("error: %.200s", err)
	}
	if m != nil {
		checkNoLineBreaks(t, reflect.ValueOf(*m), "Message")
		if len(m.TextBody) > dsn.MaxTextBody {
			t.Errorf("TextBody of %d bytes, max %d", len(m.TextBody), dsn.MaxTextBody)
		}
	}
}

// checkNoLineBreaks fails if a string field of a parsed Message other than
// TextBody holds CR or LF: those values end up in webhook payloads and in
// header fields of DSNs and notifications, where a line break would start a
// new field.
func checkNoLineBreaks(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		if strings.ContainsAny(v.String(), "\r\n") {
			t.Errorf("%s has a line break: %.100q", path, v.String())
		}
		if len(v.String()) > dsn.MaxFieldSize {
			t.Errorf("%s of %d bytes, max %d", path, len(v.String()), dsn.MaxFieldSize)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "TextBody" || f.Name == "Original" {
				continue
			}
			checkNoLineBreaks(t, v.Field(i), path+"."+f.Name)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			checkNoLineBreaks(t, v.Index(i), path)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			checkNoLineBreaks(t, k, path+" key")
			checkNoLineBreaks(t, v.MapIndex(k), path+"["+k.String()+"]")
		}
	}
}

// BenchmarkHostileParse measures Parse on the oversized inputs of
// TestHostileParse: its time bound.
func BenchmarkHostileParse(b *testing.B) {
	for _, c := range []struct {
		name  string
		input io.ReaderAt
		size  int64
	}{
		{"150MB-message", hostile.BigDSN(hostile.BigMessage), hostile.BigDSN(hostile.BigMessage).Size()},
		{"150MB-line", hostile.BigLineDSN(hostile.BigMessage), hostile.BigLineDSN(hostile.BigMessage).Size()},
		{"100k-recipients", bytes.NewReader(hostile.ManyRecipientsDSN(hostile.ManyRecipients)), int64(len(hostile.ManyRecipientsDSN(hostile.ManyRecipients)))},
		{"10k-nested-multiparts", bytes.NewReader(hostile.DeepMultipart(hostile.DeepNesting)), int64(len(hostile.DeepMultipart(hostile.DeepNesting)))},
		{"1MB-subject", bytes.NewReader(hostile.LongSubject(hostile.LongLine)), int64(len(hostile.LongSubject(hostile.LongLine)))},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(c.size)
			for i := 0; i < b.N; i++ {
				dsn.Parse(c.input)
			}
		})
	}
}
