package ndr

import (
	"os"
	"path/filepath"
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
		if _, err := Parse(msg); err != nil {
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
