package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/bouncekit/bouncekit/dsn"
	"github.com/bouncekit/bouncekit/webhook"
)

// incomingMsg is a message as a mail program sends it: a non-ASCII subject
// and display name in encoded words, multipart/alternative with a
// quoted-printable ISO-8859-1 text part and a base64 HTML part, a PDF with
// an encoded-word file name, and an attached text file.
var incomingMsg = crlfText(`From: =?UTF-8?Q?J=C3=B6rg_Example?= <joerg@example.org>
To: Support <support@example.com>, sales@example.com
Cc: "Doe, Jane" <jane@example.net>
Reply-To: joerg+reply@example.org
Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=
Message-ID: <m2@example.org>
In-Reply-To: <m1@example.com>
References: <m0@example.org>
 <m1@example.com>
Date: Wed, 27 Mar 2024 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is a multi-part message in MIME format.
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe,
die Bestellung ist angekommen.
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

` + base64.StdEncoding.EncodeToString([]byte("<p>Grüße</p>\r\n")) + `
--inner--

--outer
Content-Type: application/pdf; name="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="
Content-Disposition: attachment; filename="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="
Content-Transfer-Encoding: base64
Content-ID: <pdf1@example.org>

JVBERi0xLjQKJcOkw7zDtsOfCg==
--outer
Content-Type: text/plain; charset=us-ascii
Content-Disposition: attachment; filename*=UTF-8''notes%C3%A4.txt

not the body
--outer--
`)

func crlfText(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestReadIncoming(t *testing.T) {
	in, err := ReadIncoming(strings.NewReader(incomingMsg), int64(len(incomingMsg)))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	date := time.Date(2024, 3, 27, 9, 0, 0, 0, time.UTC)
	if in.Date == nil || !in.Date.Equal(date) {
		t.Fatalf("date %v", in.Date)
	}
	in.Date = nil
	want := webhook.Incoming{
		From:       []webhook.NameAddress{{Name: "Jörg Example", Address: "joerg@example.org"}},
		To:         []webhook.NameAddress{{Name: "Support", Address: "support@example.com"}, {Address: "sales@example.com"}},
		CC:         []webhook.NameAddress{{Name: "Doe, Jane", Address: "jane@example.net"}},
		ReplyTo:    []webhook.NameAddress{{Address: "joerg+reply@example.org"}},
		Subject:    "Grüße aus Köln",
		MessageID:  "<m2@example.org>",
		InReplyTo:  "<m1@example.com>",
		References: []string{"<m0@example.org>", "<m1@example.com>"},
		Text:       "Grüße,\ndie Bestellung ist angekommen.",
		HTML:       "<p>Grüße</p>\n",
		Structure: webhook.Structure{
			ContentType:       "multipart/mixed",
			ContentTypeParams: map[string]string{"boundary": "outer"},
			Parts: []webhook.Structure{
				{
					ContentType:       "multipart/alternative",
					ContentTypeParams: map[string]string{"boundary": "inner"},
					Parts: []webhook.Structure{
						{ContentType: "text/plain", ContentTypeParams: map[string]string{"charset": "ISO-8859-1"}, DecodedSize: int64(len("Gr\xfc\xdfe,\r\ndie Bestellung ist angekommen."))},
						{ContentType: "text/html", ContentTypeParams: map[string]string{"charset": "utf-8"}, DecodedSize: int64(len("<p>Grüße</p>\r\n"))},
					},
				},
				{
					ContentType:        "application/pdf",
					ContentTypeParams:  map[string]string{"name": "=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="},
					ContentID:          "<pdf1@example.org>",
					ContentDisposition: "attachment",
					Filename:           "Rechnung März.pdf",
					DecodedSize:        19,
				},
				{
					ContentType:        "text/plain",
					ContentTypeParams:  map[string]string{"charset": "us-ascii"},
					ContentDisposition: "attachment",
					Filename:           "notesä.txt",
					DecodedSize:        int64(len("not the body")),
				},
			},
		},
	}
	if !reflect.DeepEqual(in, want) {
		got, _ := json.MarshalIndent(in, "", " ")
		exp, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("got\n%s\nwant\n%s", got, exp)
	}

	// An independent MIME reader agrees on the leaves' types and decoded
	// sizes (go-message converts no line endings).
	mr, err := gomail.CreateReader(strings.NewReader(incomingMsg))
	if err != nil {
		t.Fatalf("go-message: %v", err)
	}
	var leaves []webhook.Structure
	var walk func(s webhook.Structure)
	walk = func(s webhook.Structure) {
		if len(s.Parts) == 0 {
			leaves = append(leaves, s)
		}
		for _, p := range s.Parts {
			walk(p)
		}
	}
	walk(in.Structure)
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			if i != len(leaves) {
				t.Fatalf("go-message found %d parts, we %d", i, len(leaves))
			}
			break
		} else if err != nil && !gomessage.IsUnknownCharset(err) {
			t.Fatalf("go-message part %d: %v", i, err)
		}
		body, _ := io.ReadAll(p.Body)
		ct, _, _ := p.Header.(interface {
			ContentType() (string, map[string]string, error)
		}).ContentType()
		if i >= len(leaves) || leaves[i].ContentType != ct {
			t.Fatalf("part %d: go-message %s", i, ct)
		}
		if strings.HasPrefix(ct, "text/") {
			continue // go-message decodes the charset.
		}
		if int64(len(body)) != leaves[i].DecodedSize {
			t.Fatalf("part %d: size %d, go-message %d", i, leaves[i].DecodedSize, len(body))
		}
	}
}

func TestReadIncomingCases(t *testing.T) {
	big := strings.Repeat("é", MaxIncomingText/2) + "x" // One byte over the limit, at a rune boundary after the cut.
	cases := []struct {
		name  string
		msg   string
		check func(t *testing.T, in webhook.Incoming)
	}{
		{"plain LF message", "From: a@example.org\nSubject: hi\n\nline 1\nline 2\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Text, "line 1\nline 2\n")
			tcompare(t, in.HTML, "")
			tcompare(t, in.Structure.ContentType, "text/plain")
			tcompare(t, len(in.Structure.ContentTypeParams), 0)
			tcompare(t, in.Structure.DecodedSize, int64(len("line 1\r\nline 2\r\n"))) // Counted with CRLF, as mox.
			tcompare(t, in.Meta.Automated, false)
		}},
		{"html only", crlfText("Content-Type: text/html; charset=windows-1252\n\n<b>caf\xe9</b>\n"), func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.HTML, "<b>café</b>\n")
			tcompare(t, in.Text, "")
		}},
		{"no header", "\nbody only\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Text, "body only\n")
			tcompare(t, len(in.From), 0)
			tcompare(t, in.Date == nil, true)
		}},
		{"empty", "", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Structure.ContentType, "text/plain")
			tcompare(t, in.Text, "")
		}},
		{"text cut at limit", "Content-Type: text/plain; charset=utf-8\n\n" + big, func(t *testing.T, in webhook.Incoming) {
			tcompare(t, len(in.Text), MaxIncomingText)
			tcompare(t, utf8.ValidString(in.Text), true)
		}},
		{"text cut inside a character", "Content-Type: text/plain; charset=utf-8\n\nx" + big, func(t *testing.T, in webhook.Incoming) {
			tcompare(t, len(in.Text), MaxIncomingText-1)
			tcompare(t, utf8.ValidString(in.Text), true)
		}},
		{"mixed with html first", crlfText("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b\nContent-Type: text/plain\n\nx\n--b--\n"), func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.HTML, "<p>x</p>")
			tcompare(t, in.Text, "") // Not an alternative: the first readable part only, as mox.
		}},
		{"attached message is one part", crlfText("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: multipart/alternative; boundary=c\n\n--c\nContent-Type: text/plain\n\ninner text\n--c--\n--b--\n"), func(t *testing.T, in webhook.Incoming) {
			tcompare(t, len(in.Structure.Parts), 1)
			tcompare(t, in.Structure.Parts[0].ContentType, "message/rfc822")
			tcompare(t, len(in.Structure.Parts[0].Parts), 0)
			tcompare(t, in.Text, "") // Text of an attached message is not this message's.
			tcompare(t, in.Subject, "")
		}},
		{"nested readable part", crlfText("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/related; boundary=c\n\n--c\nContent-Type: multipart/alternative; boundary=d\n\n--d\nContent-Type: text/plain\n\ndeep\n--d\nContent-Type: text/html\n\n<i>deep</i>\n--d--\n--c--\n--b--\n"), func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Text, "deep")
			tcompare(t, in.HTML, "<i>deep</i>")
		}},
		{"list mail is automated", "List-Id: <dev.lists.example.org>\nFrom: dev@lists.example.org\n\nx\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Meta.Automated, true)
		}},
		{"auto-submitted", "Auto-Submitted: auto-replied\n\nx\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Meta.Automated, true)
		}},
		{"auto-submitted no", "Auto-Submitted: No\n\nx\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Meta.Automated, false)
		}},
		{"precedence bulk", "Precedence: bulk\n\nx\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Meta.Automated, true)
		}},
		{"report is automated", crlfText("Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; x@example.org\nAction: failed\nStatus: 5.1.1\n--b--\n"), func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Meta.Automated, true)
			tcompare(t, in.Text, "failed")
			tcompare(t, len(in.Structure.Parts), 2)
			tcompare(t, in.Structure.ContentTypeParams["report-type"], "delivery-status")
		}},
		{"domain lower-cased", "From: Joerg.Doe@Example.ORG\n\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.From[0].Address, "Joerg.Doe@example.org")
		}},
		{"bad address field left out", "From: a@example.org\nTo: <<broken\nTo: ok@example.org\nCc: undisclosed-recipients:;\n\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, len(in.From), 1)
			tcompare(t, len(in.To), 1)
			tcompare(t, in.To[0].Address, "ok@example.org")
			tcompare(t, len(in.CC), 0)
		}},
		{"bad date", "Date: yesterday\n\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Date == nil, true)
		}},
		{"references with junk", "References: junk <a@x> <b c> <> <d@y>\n\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, strings.Join(in.References, ","), "<a@x>,<d@y>")
		}},
		{"unknown charset kept", "Content-Type: text/plain; charset=x-unknown\n\nabc\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Text, "abc\n")
		}},
		{"bad parameters", "Content-Type: text/plain; charset=\"utf-8; x\n\nabc\n", func(t *testing.T, in webhook.Incoming) {
			tcompare(t, in.Structure.ContentType, "text/plain")
			tcompare(t, in.Text, "abc\n")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := ReadIncoming(strings.NewReader(c.msg), int64(len(c.msg)))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if _, err := json.Marshal(in); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			c.check(t, in)
		})
	}
}

// A read error is returned, not taken for the end of the message.
func TestReadIncomingError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	r := errAfter{strings.NewReader(incomingMsg), 100, errDisk}
	_, err := ReadIncoming(r, int64(len(incomingMsg)))
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the read error", err)
	}
	_, err = ReadIncoming(readerAtFunc(func(p []byte, off int64) (int, error) {
		return iotest.ErrReader(errDisk).Read(p)
	}), 10)
	if !errors.Is(err, errDisk) {
		t.Fatalf("got %v, want the read error", err)
	}
}

// errAfter fails reads at or beyond offset n.
type errAfter struct {
	r   io.ReaderAt
	n   int64
	err error
}

func (e errAfter) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.n {
		return 0, e.err
	}
	return e.r.ReadAt(p, off)
}

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

func tcompare[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// FuzzReadIncoming checks that ReadIncoming never fails or panics on input
// it can read, and keeps its limits: text and HTML within
// MaxIncomingText, at most dsn.MaxParts parts, lower-case media types,
// sizes only for leaves, a payload that encodes as JSON.
func FuzzReadIncoming(f *testing.F) {
	for _, s := range []string{incomingMsg, ordinary, dsnMessage, arfMessage, autoReply,
		"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\nx\n--b\nContent-Type: text/html; charset=iso-2022-jp\nContent-Transfer-Encoding: base64\n\nGyRCJCIbKEI=\n--b--\n",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nSubject: x\n\ny\n--b\nContent-Disposition: attachment; filename*=utf-8''%E2%98%BA\n\nz\n--b--\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		in, err := ReadIncoming(bytes.NewReader(msg), int64(len(msg)))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(in.Text) > MaxIncomingText || len(in.HTML) > MaxIncomingText {
			t.Fatalf("text %d, html %d bytes", len(in.Text), len(in.HTML))
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("marshal: %v", err)
		}
		n := 0
		var walk func(s webhook.Structure)
		walk = func(s webhook.Structure) {
			n++
			if s.ContentType != strings.ToLower(s.ContentType) || !strings.Contains(s.ContentType, "/") {
				t.Fatalf("media type %q", s.ContentType)
			}
			if s.DecodedSize < 0 || len(s.Parts) > 0 && s.DecodedSize != 0 {
				t.Fatalf("size %d with %d parts", s.DecodedSize, len(s.Parts))
			}
			if len(s.Parts) > 0 && !strings.HasPrefix(s.ContentType, "multipart/") {
				t.Fatalf("%s with parts", s.ContentType)
			}
			for _, p := range s.Parts {
				walk(p)
			}
		}
		walk(in.Structure)
		if n > dsn.MaxParts {
			t.Fatalf("%d parts", n)
		}
	})
}

func BenchmarkReadIncoming(b *testing.B) {
	msg := []byte(incomingMsg)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; i < b.N; i++ {
		if _, err := ReadIncoming(bytes.NewReader(msg), int64(len(msg))); err != nil {
			b.Fatal(err)
		}
	}
}
