package dsn

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func benchMessage(ret Ret) *Message {
	m := baseMessage()
	m.TextBody = "Your message to bob@example.net could not be delivered.\nThe remote server said: no such user.\n"
	m.Recipients = []Recipient{{
		FinalRecipient: "bob@example.net", Action: ActionFailed, Status: "5.1.1",
		RemoteMTA: "mx.example.net", DiagnosticCode: "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
		LastAttemptDate: tAttempt,
	}}
	m.Original = testOriginal(10 * 1024)
	m.Ret = ret
	return &m
}

func benchmarkCompose(b *testing.B, ret Ret) {
	m := benchMessage(ret)
	var buf bytes.Buffer
	if err := m.Compose(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := m.Compose(&buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComposeFull composes a DSN returning a 10 KB original in full.
func BenchmarkComposeFull(b *testing.B) { benchmarkCompose(b, RetFull) }

// BenchmarkComposeHeaders composes a DSN returning the header of a 10 KB
// original.
func BenchmarkComposeHeaders(b *testing.B) { benchmarkCompose(b, RetHeaders) }

// BenchmarkParseCorpus parses every corpus DSN once per iteration.
func BenchmarkParseCorpus(b *testing.B) {
	dsns, _ := corpusFiles(b)
	var inputs [][]byte
	var total int64
	for _, rel := range dsns {
		data, err := os.ReadFile(filepath.Join(corpusDir, rel))
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, data)
		total += int64(len(data))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, data := range inputs {
			if _, _, err := Parse(bytes.NewReader(data)); err != nil && err != ErrNoRecipients {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)), "ns/msg")
}

// BenchmarkParseGolden parses a composed DSN with a 10 KB original.
func BenchmarkParseGolden(b *testing.B) {
	var buf bytes.Buffer
	if err := benchMessage(RetFull).Compose(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
