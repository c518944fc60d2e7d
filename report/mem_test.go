package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/internal/hostile"
)

// The memory bounds of the package documentation (section Limits): what
// ReadAt allocates, an upper bound of its peak extra heap besides the
// input, is at most memPerByte times the input plus memBase, and never more
// than memCap, whatever the input's size and nesting.
const (
	memPerByte = 16
	memBase    = 256 << 10
	memCap     = 16 << 20
)

// TestReadMemory measures what ReadAt allocates (runtime/metrics'
// /gc/heap/allocs:bytes) on the inputs named by issue 17, a 25 MB bounce
// nested 8 deep and a DSN of 10,000 recipients, and on the inputs that
// make the most of each limit; it asserts the documented bounds and logs
// the figures for the README.
func TestReadMemory(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name   string // Also the figure's key: report.mem.<name>.
		msg    func() []byte
		kind   Kind
		rcpts  int
		figure bool
	}{
		{"nested1", func() []byte { return hostile.NestedBounce(1, 25*mb) }, KindBounce, 1, true},
		{"nested8", func() []byte { return hostile.NestedBounce(8, 25*mb) }, KindBounce, 1, true},
		{"rcpt10k", func() []byte { return hostile.ManyRecipientsDSN(10000) }, KindDSN, MaxRecipients, true},
		{"rcpt100k", func() []byte { return hostile.ManyRecipientsDSN(100000) }, KindDSN, MaxRecipients, true},
		{"text10k", func() []byte { return hostile.ManyRecipientsText(10000) }, KindBounce, MaxRecipients, true},
		{"dsn30mb", func() []byte { return hostile.BigDSN(MaxSize).Bytes() }, KindDSN, 1, true},
		{"diagnostic1mb", func() []byte { return hostile.LongDiagnostic(hostile.LongLine) }, "", -1, false},
		{"boundary1mb", func() []byte { return hostile.LongBoundary(hostile.LongLine) }, "", -1, false},
		{"nesting10k", func() []byte { return hostile.DeepMultipart(hostile.DeepNesting) }, "", -1, false},
		{"messages10k", func() []byte { return hostile.DeepRFC822(hostile.DeepNesting) }, "", -1, false},
		{"extensionfields", manyExtensionFields, KindDSN, 1, false},
		{"returnedheaders", manyReturnedHeaders, KindDSN, 1, false},
		{"textparts", manyTextParts, KindBounce, 1, false},
		{"nestedtext", nestedTextParts, KindBounce, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := c.msg()
			size := uint64(min(len(msg), MaxSize))
			bound := min(memPerByte*size+memBase, memCap)
			var r *Report
			n := hostile.Check(t, bound, func() { r = ReadAt(bytes.NewReader(msg), int64(len(msg))) })
			if c.kind != "" && r.Kind != c.kind {
				t.Errorf("kind %s, want %s", r.Kind, c.kind)
			}
			if c.rcpts >= 0 && len(r.Recipients) != c.rcpts {
				t.Errorf("%d recipients, want %d", len(r.Recipients), c.rcpts)
			}
			if c.rcpts > 0 && r.Recipients[0].Address == "" {
				t.Errorf("first recipient without address")
			}
			t.Logf("%d bytes in, %d allocated (%.2f times the input), bound %d", len(msg), n, float64(n)/float64(len(msg)), bound)
			if c.figure {
				// Read by scripts/figures for the README.
				t.Logf("figure report.mem.%s: %.1f MB for %.1f MB (%.2fx)", c.name, float64(n)/mb, float64(len(msg))/mb, float64(n)/float64(len(msg)))
			}
		})
	}
}

// manyExtensionFields is a DSN whose delivery-status part holds 4 MB of
// extension fields (RFC 3464 section 2.4), which dsn.Parse keeps.
func manyExtensionFields() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n")
	for i := 0; b.Len() < 4<<20; i++ {
		fmt.Fprintf(&b, "X-F%d: v\r\n", i)
	}
	b.WriteString("\r\nFinal-Recipient: rfc822; rcpt@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n")
	return []byte(b.String())
}

// manyReturnedHeaders is a DSN that returns 900 messages, each with a
// 32 KB header: 28 MB of headers, read within their budget.
func manyReturnedHeaders() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; rcpt@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n")
	field := "X-Long: " + strings.Repeat("h", 32<<10) + "\r\n"
	for i := 0; i < 900; i++ {
		b.WriteString("--b\r\nContent-Type: message/rfc822\r\n\r\n" + field + "Message-ID: <m@x>\r\n\r\nbody\r\n")
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

// manyTextParts is a bounce of 900 text parts of 32 KB each.
func manyTextParts() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\n\r\nHi. This is the qmail-send program at mx.example.com.\r\n" +
		"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n" +
		"<rcpt@example.com>:\r\n550 5.1.1 user unknown\r\n\r\n")
	text := strings.Repeat("filler text line\r\n", (32<<10)/18)
	for i := 0; i < 900; i++ {
		b.WriteString("--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n" + text)
	}
	b.WriteString("--b--\r\n")
	return []byte(b.String())
}

// nestedTextParts is a bounce nested 8 deep with 100 text parts of 256 KB
// at each level.
func nestedTextParts() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.com\r\nSubject: failure notice\r\n")
	text := strings.Repeat("filler text line\r\n", (256<<10)/18)
	for d := 0; d < 8; d++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=n%d\r\n\r\n", d)
		if d == 0 {
			b.WriteString("--n0\r\n\r\nHi. This is the qmail-send program at mx.example.com.\r\n" +
				"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n" +
				"<rcpt@example.com>:\r\n550 5.1.1 user unknown\r\n\r\n")
		}
		for i := 0; i < 12; i++ {
			fmt.Fprintf(&b, "--n%d\r\nContent-Type: text/plain; charset=shift_jis\r\n\r\n%s", d, text)
		}
		fmt.Fprintf(&b, "--n%d\r\n", d)
	}
	return []byte(b.String())
}

// BenchmarkReadAt measures ReadAt on the inputs TestReadMemory names in
// its figures: time, and bytes allocated per message.
func BenchmarkReadAt(b *testing.B) {
	for _, c := range []struct {
		name string
		msg  []byte
	}{
		{"nested8-25MB", hostile.NestedBounce(8, 25<<20)},
		{"dsn-10k-recipients", hostile.ManyRecipientsDSN(10000)},
		{"text-10k-recipients", hostile.ManyRecipientsText(10000)},
		{"dsn-30MB", hostile.BigDSN(MaxSize).Bytes()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.msg)))
			for range b.N {
				ReadAt(bytes.NewReader(c.msg), int64(len(c.msg)))
			}
		})
	}
}
