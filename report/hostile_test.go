package report

import (
	"errors"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/internal/hostile"
)

// TestHostileParse runs readText on hostile messages: each gives a Report or an
// "report: " error, never a panic; Recipients stay within MaxRecipients and
// their fields carry no line breaks; and the bytes allocated stay within the
// bound of the case (an upper bound of the peak extra heap, besides the
// input).
func TestHostileParse(t *testing.T) {
	const mb = 1 << 20
	dsn := string(hostile.DSN())
	cases := []struct {
		name  string
		msg   func() []byte
		bound uint64
		// want: "bounce" for a Report with rcpt@example.com first,
		// "truncated" for MaxRecipients recipients and Truncated, "any"
		// for a Report or error, "error" for any "report: " error, else the
		// error (errors.Is).
		want   string
		target error
	}{
		{"nil", func() []byte { return nil }, 64 << 10, "error", nil},
		{"empty", func() []byte { return []byte{} }, 64 << 10, "error", nil},
		{"wellformed", hostile.DSN, 256 << 10, "bounce", nil},
		// Over MaxSize: only the first MaxSize bytes are read.
		{"150MB message", func() []byte { return hostile.BigDSN(hostile.BigMessage).Bytes() }, 256 << 10, "bounce", nil},
		// Just under MaxSize: the returned message is not read beyond
		// its header, and nothing is copied whole.
		{"30MB message", func() []byte { return hostile.BigDSN(MaxSize - 1).Bytes() }, 256 << 10, "bounce", nil},
		{"30MB line", func() []byte { return hostile.BigLineDSN(MaxSize - 1).Bytes() }, 256 << 10, "bounce", nil},
		// The message's header is read up to MaxHeader by net/mail;
		// package dsn cuts a field at dsn.MaxFieldSize. A Diagnostic-Code
		// is read whole by the delivery-status field reader.
		{"1MB subject", func() []byte { return hostile.LongSubject(hostile.LongLine) }, 4 * mb, "bounce", nil},
		{"1MB diagnostic", func() []byte { return hostile.LongDiagnostic(hostile.LongLine) }, 8 * mb, "bounce", nil},
		{"1MB boundary", func() []byte { return hostile.LongBoundary(hostile.LongLine) }, 6 * mb, "any", nil},
		{"100k recipients in DSN", func() []byte { return hostile.ManyRecipientsDSN(hostile.ManyRecipients) }, 16 * mb, "truncated", nil},
		{"100k recipients in text", func() []byte { return hostile.ManyRecipientsText(hostile.ManyRecipients) }, 12 * mb, "truncated", nil}, // The race detector allocates about 20 times as much here.
		// Nesting below 8 levels is not visited, and package dsn's walk
		// keeps offsets, not bodies.
		{"10k nested multiparts", func() []byte { return hostile.DeepMultipart(hostile.DeepNesting) }, 256 << 10, "any", nil},
		{"10k nested messages", func() []byte { return hostile.DeepRFC822(hostile.DeepNesting) }, 256 << 10, "any", nil},
		// A multipart whose boundary never comes is read as text: the
		// bounce in it is still found, and only its start is kept.
		{"boundary never comes", func() []byte {
			return []byte("From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n" +
				"Hi. This is the qmail-send program at mx.example.com.\r\n" +
				"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n" +
				"<rcpt@example.com>:\r\n550 5.1.1 user unknown\r\n\r\n" + strings.Repeat("filler line\r\n", 1<<20))
		}, 16 * mb, "bounce", nil}, // The race detector allocates about 60 times as much here.
		// A charset on a part over the text cap: decoded up to the cap
		// through fixed buffers, invalid sequences replaced.
		{"30MB shift_jis part", func() []byte {
			return hostile.NewRepeated("From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n"+
				"Hi. This is the qmail-send program at mx.example.com.\r\n"+
				"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"+
				"<rcpt@example.com>:\r\n550 5.1.1 user unknown\r\n\r\n", "\x83\x86\x81[\x81\x7f\xff\r\n", "", MaxSize-1).Bytes()
		}, 16 * mb, "bounce", nil}, // The race detector allocates about 50 times as much here.
		{"NUL", func() []byte { return []byte(strings.ReplaceAll(dsn, "user unknown", "user\x00unknown")) }, 256 << 10, "bounce", nil},
		{"invalid UTF-8", func() []byte { return []byte(strings.ReplaceAll(dsn, "user unknown", "user \xff\xfe unknown")) }, 256 << 10, "bounce", nil},
		{"encoded CRLF in diagnostic", func() []byte {
			return []byte(strings.ReplaceAll(dsn, "Diagnostic-Code: smtp; 550 5.1.1 user unknown", "Diagnostic-Code: smtp; 550 5.1.1 user\r\n unknown\rBcc: x\nBcc: y"))
		}, 256 << 10, "bounce", nil},
		{"CRLF in text bounce", func() []byte {
			return []byte("From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at mx.example.com.\r\n" +
				"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n" +
				"<rcpt@example.com>:\r\n550 5.1.1 user\runknown\nBcc: x\r\n")
		}, 256 << 10, "bounce", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := c.msg()
			var r *textReport
			var err error
			hostile.Check(t, c.bound, func() { r, err = readText(msg) })
			if err != nil {
				t.Logf("error: %.200s", err)
			}
			switch {
			case c.want == "any":
			case c.want == "truncated":
				if err != nil || len(r.Recipients) != MaxRecipients || !r.Truncated {
					t.Fatalf("got %v, want %d recipients and Truncated", err, MaxRecipients)
				}
			case c.want == "bounce":
				if err != nil {
					t.Fatalf("got error %v, want a report", err)
				}
				if len(r.Recipients) == 0 || r.Recipients[0].Address != "rcpt@example.com" {
					t.Fatalf("got recipients %v, want rcpt@example.com first", r.Recipients)
				}
			case err == nil:
				t.Fatalf("no error, want %v", c.target)
			case !strings.HasPrefix(err.Error(), "report: "):
				t.Fatalf("error %q without package prefix", err)
			case c.want != "error" && !errors.Is(err, c.target):
				t.Fatalf("got error %v, want %v", err, c.target)
			}
			if r == nil {
				return
			}
			if len(r.Recipients) > MaxRecipients {
				t.Errorf("%d recipients, max %d", len(r.Recipients), MaxRecipients)
			}
			t.Logf("format %q, %d recipients, truncated %v", r.Format, len(r.Recipients), r.Truncated)
			for _, rc := range r.Recipients {
				for _, s := range []string{rc.Address, rc.OriginalRecipient, string(rc.Action), rc.Status, rc.Diagnostic, rc.Command, r.OriginalMessageID} {
					if strings.ContainsAny(s, "\r\n") {
						t.Fatalf("line break in recipient field %q", s)
					}
				}
			}
		})
	}
}

// BenchmarkHostileParse measures readText on the oversized inputs of
// TestHostileParse: its time bound.
func BenchmarkHostileParse(b *testing.B) {
	for _, c := range []struct {
		name string
		msg  []byte
	}{
		{"150MB-message", hostile.BigDSN(hostile.BigMessage).Bytes()},
		{"30MB-message", hostile.BigDSN(MaxSize - 1).Bytes()},
		{"30MB-line", hostile.BigLineDSN(MaxSize - 1).Bytes()},
		{"1MB-subject", hostile.LongSubject(hostile.LongLine)},
		{"100k-recipients-dsn", hostile.ManyRecipientsDSN(hostile.ManyRecipients)},
		{"100k-recipients-text", hostile.ManyRecipientsText(hostile.ManyRecipients)},
		{"10k-nested-multiparts", hostile.DeepMultipart(hostile.DeepNesting)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.msg)))
			for i := 0; i < b.N; i++ {
				readText(c.msg)
			}
		})
	}
}

// TestHostileRead runs Read on hostile messages: each gives a Report, never
// a panic, with at most MaxRecipients recipients, and the bytes allocated
// stay within the bound of the case (an upper bound of the peak extra heap,
// besides the input). Input over MaxSize is read up to MaxSize, and no
// body is copied whole: see also TestReadMemory.
func TestHostileRead(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name  string
		msg   func() []byte
		bound uint64
		kind  Kind // Empty: any.
	}{
		{"wellformed", hostile.DSN, 256 << 10, KindDSN},
		{"150MB message", func() []byte { return hostile.BigDSN(hostile.BigMessage).Bytes() }, 256 << 10, KindDSN},
		{"30MB message", func() []byte { return hostile.BigDSN(MaxSize - 1).Bytes() }, 256 << 10, KindDSN},
		{"1MB subject", func() []byte { return hostile.LongSubject(hostile.LongLine) }, 4 * mb, KindDSN},
		{"100k recipients in DSN", func() []byte { return hostile.ManyRecipientsDSN(hostile.ManyRecipients) }, 8 * mb, KindDSN},
		{"100k recipients in text", func() []byte { return hostile.ManyRecipientsText(hostile.ManyRecipients) }, 12 * mb, ""}, // The race detector allocates about 20 times as much here.
		// Both readers of the delivery-status fields stop at
		// MaxRecipients: about 5 times the input, most of it the 1,000
		// recipients kept.
		{"10k recipients in DSN", func() []byte { return hostile.ManyRecipientsDSN(10000) }, 6 * mb, KindDSN},
		{"10k recipients in text", func() []byte { return hostile.ManyRecipientsText(10000) }, 10 * mb, ""}, // The race detector allocates about 12 times as much here.
		// Peak extra heap stays a fraction of the input whatever the
		// nesting: bodies are read in bounded pieces from the input.
		{"25MB bounce, 1 level", func() []byte { return hostile.NestedBounce(1, 25*mb) }, 4 * mb, KindBounce},
		{"25MB bounce, 8 levels", func() []byte { return hostile.NestedBounce(8, 25*mb) }, 4 * mb, KindBounce},
		{"10k nested multiparts", func() []byte { return hostile.DeepMultipart(hostile.DeepNesting) }, 256 << 10, ""},
		{"10k nested messages", func() []byte { return hostile.DeepRFC822(hostile.DeepNesting) }, 256 << 10, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := c.msg()
			var r *Report
			n := hostile.Check(t, c.bound, func() { r = Read(msg) })
			t.Logf("kind %s, format %q, %d recipients, truncated %v, %d bytes allocated", r.Kind, r.Format, len(r.Recipients), r.Truncated, n)
			if c.kind != "" && r.Kind != c.kind {
				t.Errorf("kind %s, want %s", r.Kind, c.kind)
			}
			if len(r.Recipients) > MaxRecipients {
				t.Errorf("%d recipients, max %d", len(r.Recipients), MaxRecipients)
			}
		})
	}
}
