// Package hostile makes the hostile inputs of the module's hostile-input
// tests (issue 15: nil, empty, oversized, deeply nested, invalid UTF-8, NUL,
// CR/LF injection) and measures what a call allocates. It is used by tests
// only; it is a package so the dsn, package report, queue, suppression and
// webhook tests build the same inputs.
//
// Oversized inputs for APIs that take an io.Reader or io.ReaderAt are made
// lazily by Repeated, so a 150 MB message costs the test no memory.
package hostile

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// Sizes of the oversized inputs named by issue 15.
const (
	BigMessage     = 150 << 20 // A whole message.
	LongLine       = 1 << 20   // One header line without a line break.
	ManyRecipients = 100_000   // Recipients of one report.
	DeepNesting    = 10_000    // Levels of nested multiparts.
)

// Allocs returns the bytes the heap allocated while f ran, read from
// runtime/metrics' /gc/heap/allocs:bytes. It is an upper bound of the peak
// extra heap f needed (what f frees again is counted too), and it does not
// depend on when the garbage collector runs, so tests can compare it to a
// fixed bound. The collections before and after make the figure exact:
// they flush the per-P allocation caches, whose counts runtime/metrics
// otherwise sees only when a span is refilled. Other goroutines' allocations are counted too: do not call
// it from parallel tests.
func Allocs(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	runtime.GC()
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	runtime.GC()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// Check runs f, turning a panic into a test error, and fails the test when f
// allocated more than bound bytes (raceFactor times that under the race
// detector). It returns the bytes allocated.
func Check(t testing.TB, bound uint64, f func()) uint64 {
	t.Helper()
	bound *= raceFactor
	var panicked any
	n := Allocs(func() {
		defer func() { panicked = recover() }()
		f()
	})
	if panicked != nil {
		t.Fatalf("panic: %v", panicked)
	}
	if n > bound {
		t.Errorf("allocated %d bytes, bound %d", n, bound)
	}
	t.Logf("allocated %d bytes (bound %d)", n, bound)
	return n
}

// Repeated is an input of Head, then Fill repeated, then Tail, made on
// demand: an io.ReaderAt of any size that holds no more than its three
// parts in memory.
type Repeated struct {
	Head, Fill, Tail []byte
	N                int64 // Repetitions of Fill.
}

// NewRepeated returns head, as many copies of fill as keep the total at
// most size (at least one), and tail.
func NewRepeated(head, fill, tail string, size int64) *Repeated {
	n := (size - int64(len(head)) - int64(len(tail))) / int64(len(fill))
	return &Repeated{[]byte(head), []byte(fill), []byte(tail), max(n, 1)}
}

// Size is the length of the input in bytes.
func (r *Repeated) Size() int64 {
	return int64(len(r.Head)) + r.N*int64(len(r.Fill)) + int64(len(r.Tail))
}

// ReadAt implements io.ReaderAt.
func (r *Repeated) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("hostile: negative offset %d", off)
	}
	n := 0
	fillEnd := int64(len(r.Head)) + r.N*int64(len(r.Fill))
	for n < len(p) {
		o := off + int64(n)
		var c int
		switch {
		case o < int64(len(r.Head)):
			c = copy(p[n:], r.Head[o:])
		case o < fillEnd:
			i := (o - int64(len(r.Head))) % int64(len(r.Fill))
			c = copy(p[n:], r.Fill[i:])
			if rest := fillEnd - o; int64(c) > rest {
				c = int(rest)
			}
		case o < fillEnd+int64(len(r.Tail)):
			c = copy(p[n:], r.Tail[o-fillEnd:])
		default:
			return n, io.EOF
		}
		n += c
	}
	return n, nil
}

// Reader returns a reader of the whole input.
func (r *Repeated) Reader() io.Reader {
	return io.NewSectionReader(r, 0, r.Size())
}

// Bytes returns the whole input in memory, for APIs that take a []byte.
func (r *Repeated) Bytes() []byte {
	b := make([]byte, 0, r.Size())
	b = append(b, r.Head...)
	for i := int64(0); i < r.N; i++ {
		b = append(b, r.Fill...)
	}
	return append(b, r.Tail...)
}

// DSN parts shared by the inputs below. The report is about
// rcpt@example.com, the returned message has Message-ID <orig@example.org>.
const (
	dsnHead = "From: MAILER-DAEMON@mx.example.com\r\n" +
		"To: sender@example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <report@mx.example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n" +
		"\r\n"
	dsnText = "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
	// DSNStatus is a delivery-status part with one recipient, the status
	// part of the inputs below.
	DSNStatus = "--b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.com\r\n\r\n" +
		"Final-Recipient: rfc822; rcpt@example.com\r\n" +
		"Action: failed\r\n" +
		"Status: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
	origHead = "--b\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: sender@example.org\r\n" +
		"To: rcpt@example.com\r\n" +
		"Subject: hello\r\n" +
		"Message-ID: <orig@example.org>\r\n" +
		"\r\n"
	end = "--b--\r\n"
)

// DSN returns a well-formed RFC 3464 DSN about rcpt@example.com.
func DSN() []byte {
	return []byte(dsnHead + dsnText + DSNStatus + origHead + "hello\r\n" + end)
}

// BigDSN is a DSN of size bytes whose returned message has a body of
// 78-character lines.
func BigDSN(size int64) *Repeated {
	return NewRepeated(dsnHead+dsnText+DSNStatus+origHead, strings.Repeat("x", 78)+"\r\n", end, size)
}

// BigLineDSN is a DSN of size bytes whose returned message's body is one
// line without a line break.
func BigLineDSN(size int64) *Repeated {
	return NewRepeated(dsnHead+dsnText+DSNStatus+origHead, "y", "\r\n"+end, size)
}

// LongSubject is a DSN whose Subject header is one line of n bytes.
func LongSubject(n int) []byte {
	return []byte(strings.Replace(string(DSN()), "Subject: Undelivered", "Subject: "+strings.Repeat("s", n), 1))
}

// LongDiagnostic is a DSN whose Diagnostic-Code field is one line of n
// bytes.
func LongDiagnostic(n int) []byte {
	return []byte(strings.Replace(string(DSN()), "user unknown", strings.Repeat("d", n), 1))
}

// LongBoundary is a DSN whose Content-Type header line is n bytes: a
// boundary parameter that long.
func LongBoundary(n int) []byte {
	b := strings.Repeat("q", n)
	s := strings.ReplaceAll(string(DSN()), "--b", "--"+b)
	return []byte(strings.Replace(s, "boundary=b", "boundary="+b, 1))
}

// StatusRecipients is a delivery-status body (the content of the part) with
// n recipient groups.
func StatusRecipients(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Reporting-MTA: dns; mx.example.com\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\r\nFinal-Recipient: rfc822; r%d@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n", i)
	}
	return b.Bytes()
}

// ManyRecipientsDSN is a DSN whose delivery-status part has n recipients.
func ManyRecipientsDSN(n int) []byte {
	status := "--b\r\nContent-Type: message/delivery-status\r\n\r\n" + string(StatusRecipients(n))
	return []byte(dsnHead + dsnText + status + origHead + "hello\r\n" + end)
}

// ManyRecipientsText is a Postfix-style bounce without a delivery-status
// part that lists n failed recipients in its text.
func ManyRecipientsText(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nTo: sender@example.org\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n\r\n" +
		"This is the mail system at host mx.example.com.\r\n\r\n" +
		"I'm sorry to have to inform you that your message could not\r\n" +
		"be delivered to one or more recipients.\r\n\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "<r%d@example.com>: host mx.example.com said: 550 5.1.1 user unknown\r\n\r\n", i)
	}
	return b.Bytes()
}

// DeepMultipart is a DSN whose delivery-status part is nested depth
// multipart/mixed levels deep, each with its own boundary.
func DeepMultipart(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n", i, i)
	}
	b.WriteString("Content-Type: message/delivery-status\r\n\r\n" +
		"Final-Recipient: rfc822; rcpt@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--n%d--\r\n", i)
	}
	return b.Bytes()
}

// NestedBounce is a text bounce of about size bytes whose text part is
// nested depth multipart/mixed levels deep: a reader that copies each
// level's body allocates depth times the message.
func NestedBounce(depth, size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 1024)
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n<rcpt@example.com>: host mx.example.com said: 550 5.1.1 user unknown\r\n")
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "\r\n--n%d--\r\n", i)
	}
	return b.Bytes()
}

// DeepRFC822 is a message of depth nested message/rfc822 parts with a DSN
// innermost.
func DeepRFC822(depth int) []byte {
	var b bytes.Buffer
	for i := 0; i < depth; i++ {
		b.WriteString("Subject: fwd\r\nContent-Type: message/rfc822\r\n\r\n")
	}
	b.Write(DSN())
	return b.Bytes()
}

// Header injection: CR, LF or CRLF followed by a header field, and the
// other control characters a header value must not carry.
var Injections = []string{
	"a\r\nBcc: victim@example.net",
	"a\nBcc: victim@example.net",
	"a\rBcc: victim@example.net",
	"a\r\n\r\n<html>body</html>",
	"a\x00b",
	"a\x7fb\x1b[31m",
}

// Strings are hostile values for any function that takes a string: empty,
// NUL, invalid UTF-8, overlong encodings, surrogates, bidi overrides, a
// byte order mark and the Injections.
var Strings = append([]string{
	"",
	"\x00",
	"a\x00b@example.com",
	"\xff\xfe\xfd",
	"\xc0\xafx@example.com",        // Overlong "/".
	"\xed\xa0\x80@example.com",     // UTF-16 surrogate.
	"\u202eevil\u202c@example.com", // Right-to-left override.
	"\ufeffuser@example.com",
	"user@\xffexample.com",
	"user@example.com\x00",
	strings.Repeat("\xff", 1000),
}, Injections...)
