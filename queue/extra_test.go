package queue_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"reflect"
	"strings"
	"testing"

	"github.com/bouncekit/bouncekit/queue"
)

// crlf turns the LF line endings of a test message into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// The message of mox's TestExtra, which gives the keys Test, A, ☺ and
// X-Canonical-Z.
const moxExtraMsg = `From: <mjl@mox.example>
To: <remote@example.org>
Subject: test
X-Mox-Extra-Test: testvalue
X-Mox-Extra-a: 123
X-Mox-Extra-☺: ☹
X-Mox-Extra-x-cANONICAL-z: ok
Message-Id: <test@mox.example>

test email
`

const moxExtraStripped = `From: <mjl@mox.example>
To: <remote@example.org>
Subject: test
Message-Id: <test@mox.example>

test email
`

func TestExtractExtra(t *testing.T) {
	moxExtra := map[string]string{"Test": "testvalue", "A": "123", "☺": "☹", "X-Canonical-Z": "ok"}
	cases := []struct {
		name     string
		cfg      queue.ExtraHeaders
		msg      string
		extra    map[string]string
		stripped string // Empty: the message itself.
		err      error
	}{
		{name: "mox message, CRLF", msg: crlf(moxExtraMsg), extra: moxExtra, stripped: crlf(moxExtraStripped)},
		{name: "mox message, LF", msg: moxExtraMsg, extra: moxExtra, stripped: moxExtraStripped},
		{
			name:     "folded value and folded neighbours",
			msg:      crlf("Subject: a long\n subject\nX-Mox-Extra-Order: 12\n  34\n\tend\nReferences: <a@x>\n <b@x>\n\nbody\n"),
			extra:    map[string]string{"Order": "12 34 end"},
			stripped: crlf("Subject: a long\n subject\nReferences: <a@x>\n <b@x>\n\nbody\n"),
		},
		{name: "first field", msg: "X-Mox-Extra-Id: 1\nSubject: x\n\nbody\n", extra: map[string]string{"Id": "1"}, stripped: "Subject: x\n\nbody\n"},
		{name: "no header", msg: crlf("\nX-Mox-Extra-A: 1\n"), extra: nil},
		{name: "empty message", msg: "", extra: nil},
		{name: "prefix only in body", msg: crlf("Subject: x\n\nX-Mox-Extra-A: 1\nX-Mox-Extra-A: 1\n"), extra: nil},
		{name: "prefix in a value", msg: "Subject: X-Mox-Extra-A: 1\n\n", extra: nil},
		{name: "header without body", msg: "Subject: x\nX-Mox-Extra-A: 1", extra: map[string]string{"A": "1"}, stripped: "Subject: x\n"},
		{name: "only extra fields", msg: crlf("X-Mox-Extra-A: 1\nX-Mox-Extra-B: 2\n\nbody"), extra: map[string]string{"A": "1", "B": "2"}, stripped: crlf("\nbody")},
		{name: "prefix case", msg: "x-mox-EXTRA-order-id: 5\n\n", extra: map[string]string{"Order-Id": "5"}, stripped: "\n"},
		{name: "space before colon", msg: "X-Mox-Extra-Id : 7\n\n", extra: map[string]string{"Id": "7"}, stripped: "\n"},
		{name: "empty value", msg: "X-Mox-Extra-Flag:\n\n", extra: map[string]string{"Flag": ""}, stripped: "\n"},
		{name: "utf-8 value", msg: "X-Mox-Extra-City: Zürich 東京\n\n", extra: map[string]string{"City": "Zürich 東京"}, stripped: "\n"},
		{name: "encoded word kept as sent", msg: "X-Mox-Extra-City: =?utf-8?q?Z=C3=BCrich?=\n\n", extra: map[string]string{"City": "=?utf-8?q?Z=C3=BCrich?="}, stripped: "\n"},
		{name: "other x- fields kept", msg: "X-Mox-Extr: 1\nX-Mox-Extra: 2\nX-Mailer: m\n\n", extra: nil},
		{name: "custom prefix", cfg: queue.ExtraHeaders{Prefix: "X-App-"}, msg: "X-App-Tenant: t1\nX-Mox-Extra-A: 1\n\n", extra: map[string]string{"Tenant": "t1"}, stripped: "X-Mox-Extra-A: 1\n\n"},

		{name: "duplicate", msg: crlf("X-Mox-Extra-Test: testvalue\nX-Mox-Extra-Test: testvalue\n\n"), err: queue.ErrExtraDuplicate},
		{name: "duplicate after canonicalizing", msg: "x-mox-extra-order-id: 1\nX-Mox-Extra-ORDER-ID: 2\n\n", err: queue.ErrExtraDuplicate},
		{name: "empty key", msg: "X-Mox-Extra-: v\n\n", err: queue.ErrExtraKey},
		{name: "key with control character", msg: "X-Mox-Extra-A\x7fB: v\n\n", err: queue.ErrExtraKey},
		{name: "key with invalid utf-8", msg: "X-Mox-Extra-\xff: v\n\n", err: queue.ErrExtraKey},
		{name: "key too long", msg: "X-Mox-Extra-" + strings.Repeat("k", 129) + ": v\n\n", err: queue.ErrExtraKey},
		{name: "key at limit", cfg: queue.ExtraHeaders{MaxKeyLen: 3}, msg: "X-Mox-Extra-Abc: v\n\n", extra: map[string]string{"Abc": "v"}, stripped: "\n"},
		{name: "key over set limit", cfg: queue.ExtraHeaders{MaxKeyLen: 3}, msg: "X-Mox-Extra-Abcd: v\n\n", err: queue.ErrExtraKey},
		{name: "value too long", msg: "X-Mox-Extra-A: " + strings.Repeat("v", 4097) + "\n\n", err: queue.ErrExtraValue},
		{name: "value too long when unfolded", cfg: queue.ExtraHeaders{MaxValueLen: 5}, msg: "X-Mox-Extra-A: abc\n def\n\n", err: queue.ErrExtraValue},
		{name: "value at limit when unfolded", cfg: queue.ExtraHeaders{MaxValueLen: 7}, msg: "X-Mox-Extra-A: abc\n def\n\n", extra: map[string]string{"A": "abc def"}, stripped: "\n"},
		{name: "value with control character", msg: "X-Mox-Extra-A: a\x01b\n\n", err: queue.ErrExtraValue},
		{name: "value with bare CR", msg: "X-Mox-Extra-A: a\rb\n\n", err: queue.ErrExtraValue},
		{name: "value with tab", msg: "X-Mox-Extra-A: a\tb\n\n", err: queue.ErrExtraValue},
		{name: "value with C1 control", msg: "X-Mox-Extra-A: a\u0085b\n\n", err: queue.ErrExtraValue},
		{name: "value with invalid utf-8", msg: "X-Mox-Extra-A: a\xc3(\n\n", err: queue.ErrExtraValue},
		{name: "too many", cfg: queue.ExtraHeaders{MaxKeys: 2}, msg: "X-Mox-Extra-A: 1\nX-Mox-Extra-B: 2\nX-Mox-Extra-C: 3\n\n", err: queue.ErrExtraTooMany},
		{name: "too many by default", msg: manyExtra(65), err: queue.ErrExtraTooMany},
		{name: "bad prefix", cfg: queue.ExtraHeaders{Prefix: "X App-"}, msg: "Subject: x\n\n", err: queue.ErrExtraPrefix},
		{name: "prefix with colon", cfg: queue.ExtraHeaders{Prefix: "X-A:"}, msg: "Subject: x\n\n", err: queue.ErrExtraPrefix},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := []byte(c.msg)
			orig := bytes.Clone(msg)
			extra, stripped, err := c.cfg.Extract(msg)
			if !bytes.Equal(msg, orig) {
				t.Fatalf("input modified")
			}
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got err %v, want %v", err, c.err)
				}
				if extra != nil || stripped != nil {
					t.Fatalf("data returned with error: %v %q", extra, stripped)
				}
				return
			}
			if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if !reflect.DeepEqual(extra, c.extra) {
				t.Fatalf("extra: got %#v, want %#v", extra, c.extra)
			}
			want := c.stripped
			if c.extra == nil {
				want = c.msg
			}
			if string(stripped) != want {
				t.Fatalf("stripped:\ngot  %q\nwant %q", stripped, want)
			}
		})
	}
}

// No limit on the number of keys when MaxKeys is negative, as in mox.
func TestExtractExtraNoLimit(t *testing.T) {
	msg := manyExtra(200)
	extra, stripped, err := queue.ExtraHeaders{MaxKeys: -1}.Extract([]byte(msg))
	if err != nil || len(extra) != 200 || string(stripped) != "Subject: x\n\nbody\n" {
		t.Fatalf("got %d keys, %q, %v", len(extra), stripped, err)
	}
	if _, _, err := queue.ExtraFromHeader([]byte(msg)); !errors.Is(err, queue.ErrExtraTooMany) {
		t.Fatalf("default limit: %v", err)
	}
}

func manyExtra(n int) string {
	var b strings.Builder
	b.WriteString("Subject: x\n")
	for i := range n {
		fmt.Fprintf(&b, "X-Mox-Extra-K%d: %d\n", i, i)
	}
	b.WriteString("\nbody\n")
	return b.String()
}

// FuzzExtractExtra checks that Extract removes only extra fields and their
// continuation lines, that net/mail reads the same other fields and body
// from the stripped message, and that a second Extract finds nothing.
func FuzzExtractExtra(f *testing.F) {
	f.Add([]byte(crlf(moxExtraMsg)))
	f.Add([]byte(moxExtraMsg))
	f.Add([]byte("Subject: a\n b\nX-Mox-Extra-Order: 12\n  34\nReferences: <a@x>\n\nX-Mox-Extra-A: 1\n"))
	f.Add([]byte("X-Mox-Extra-A: 1"))
	f.Add([]byte("\r\nX-Mox-Extra-A: 1\r\n"))
	f.Add([]byte(" folded\nX-Mox-Extra-A : 1\n\tmore\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		extra, stripped, err := queue.ExtraFromHeader(msg)
		if !bytes.Equal(msg, orig) {
			t.Fatalf("input modified")
		}
		if err != nil {
			if extra != nil || stripped != nil {
				t.Fatalf("data with error %v", err)
			}
			return
		}
		if extra == nil && !bytes.Equal(stripped, msg) {
			t.Fatalf("nothing extracted but message changed")
		}
		// Only whole lines were removed, each an extra field or a
		// continuation line.
		ml, sl := splitLines(msg), splitLines(stripped)
		j := 0
		removed := 0
		for _, l := range ml {
			if j < len(sl) && bytes.Equal(l, sl[j]) {
				j++
				continue
			}
			removed++
			if !hasPrefixFold(l, queue.DefaultExtraPrefix) && l[0] != ' ' && l[0] != '\t' {
				t.Fatalf("removed line %q", l)
			}
		}
		if j != len(sl) {
			t.Fatalf("stripped message is not the input with lines removed:\n%q\n%q", msg, stripped)
		}
		if removed < len(extra) {
			t.Fatalf("%d keys from %d lines", len(extra), removed)
		}
		again, same, err := queue.ExtraFromHeader(stripped)
		if err != nil || again != nil || !bytes.Equal(same, stripped) {
			t.Fatalf("second extract: %v %q %v", again, same, err)
		}
		// An independent reader sees the same other fields and body, in a
		// message whose header ends with an empty line (net/mail reads a
		// header cut off at the end of input differently by its last
		// field).
		if !bytes.Contains(msg, []byte("\n\n")) && !bytes.Contains(msg, []byte("\n\r\n")) {
			return
		}
		m1, err1 := mail.ReadMessage(bufio.NewReader(bytes.NewReader(msg)))
		if err1 != nil {
			return
		}
		h1 := maps.Clone(m1.Header)
		for k := range h1 {
			if hasPrefixFold([]byte(k), queue.DefaultExtraPrefix) {
				delete(h1, k)
			}
		}
		b1, _ := io.ReadAll(m1.Body)
		if len(stripped) == 0 {
			// Nothing left: net/mail wants at least an empty line.
			if len(h1) > 0 || len(b1) > 0 {
				t.Fatalf("everything removed from %q", msg)
			}
			return
		}
		m2, err2 := mail.ReadMessage(bufio.NewReader(bytes.NewReader(stripped)))
		if err2 != nil {
			t.Fatalf("stripped message unreadable: %v\n%q", err2, stripped)
		}
		if !reflect.DeepEqual(h1, m2.Header) {
			t.Fatalf("other fields differ:\n%v\n%v", h1, m2.Header)
		}
		b2, _ := io.ReadAll(m2.Body)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("body differs: %q %q", b1, b2)
		}
	})
}

func splitLines(b []byte) [][]byte {
	var l [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 {
			i = len(b)
		}
		l = append(l, b[:i])
		b = b[i:]
	}
	return l
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

func ExampleExtraHeaders_Extract() {
	msg := "From: <app@example.org>\r\n" +
		"To: <customer@example.com>\r\n" +
		"X-Mox-Extra-Customer-Id: 4711\r\n" +
		"x-mox-extra-campaign: spring\r\n" +
		" sale\r\n" +
		"Subject: Your order\r\n" +
		"\r\n" +
		"Thanks!\r\n"
	extra, stripped, err := queue.ExtraFromHeader([]byte(msg))
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Printf("%q\n", extra)
	fmt.Print(strings.ReplaceAll(string(stripped), "\r\n", "\n"))

	_, _, err = queue.ExtraFromHeader([]byte("X-Mox-Extra-Id: 1\r\nX-Mox-Extra-ID: 2\r\n\r\n"))
	fmt.Println(err)
	// Output:
	// map["Campaign":"spring sale" "Customer-Id":"4711"]
	// From: <app@example.org>
	// To: <customer@example.com>
	// Subject: Your order
	//
	// Thanks!
	// queue: duplicate extra header key: "Id"
}

func BenchmarkExtractExtra(b *testing.B) {
	msg := []byte(crlf(moxExtraMsg) + strings.Repeat("body line of a typical message\r\n", 100))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; i < b.N; i++ {
		if _, _, err := queue.ExtraFromHeader(msg); err != nil {
			b.Fatal(err)
		}
	}
}
