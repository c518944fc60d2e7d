package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func benchmarkFile(b *testing.B, name string) {
	msg, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for range b.N {
		if _, err := readText(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// A plain-text bounce: the text rules do all the work.
func BenchmarkParseQmail(b *testing.B) { benchmarkFile(b, "sisimai/bsd/lhost-qmail-03.eml") }

// A multipart DSN from Postfix.
func BenchmarkParsePostfixDSN(b *testing.B) { benchmarkFile(b, "sisimai/bsd/lhost-postfix-28.eml") }

// An Exchange 2007 NDR.
func BenchmarkParseExchange(b *testing.B) { benchmarkFile(b, "sisimai/bsd/lhost-exchange2007-01.eml") }

// BenchmarkParseTranscriptManyRecipients measures a Sendmail-style text
// bounce that names 2,000 recipients under a session transcript: the
// search for the command each reply answered is bounded, so the cost stays
// linear in the text.
func BenchmarkParseTranscriptManyRecipients(b *testing.B) {
	var t strings.Builder
	t.WriteString("From: MAILER-DAEMON@example.org\nTo: s@example.com\nSubject: Returned mail: see transcript for details\n\n   ----- Transcript of session follows -----\n... while talking to mx.example.net.:\n>>> DATA\n")
	for i := range 2000 {
		fmt.Fprintf(&t, "<<< 550 5.1.1 <r%d@example.net>... User unknown\n550 5.1.1 <r%d@example.net>... User unknown\n", i, i)
	}
	msg := []byte(t.String())
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for range b.N {
		if _, err := readText(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures the entry point on each kind: a DSN (package dsn,
// then the text reader to name the command each reply answered), a text
// bounce, a feedback report and ordinary mail.
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct {
		name string
		file string
	}{
		{"dsn-postfix", "sisimai/bsd/lhost-postfix-28.eml"},
		{"bounce-qmail", "sisimai/bsd/lhost-qmail-03.eml"},
		{"feedback-arf", "sisimai/bsd/arf-01.eml"},
		{"autoreply", "sisimai/bsd/rfc3834-01.eml"},
	} {
		msg, err := os.ReadFile(filepath.Join(corpusDir, c.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for range b.N {
				if r := Read(msg); r.Kind == KindNone {
					b.Fatalf("%s: not a report", c.file)
				}
			}
		})
	}
}
