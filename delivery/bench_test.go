package delivery_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/queue"
)

// benchRecipients is the batch size of the benchmarks.
const benchRecipients = 100

// nullBackend accepts everything and keeps nothing, so the server's
// bookkeeping does not grow over b.N.
type nullBackend struct{}

func (nullBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return nullSession{}, nil }

type nullSession struct{}

func (nullSession) Reset()                               {}
func (nullSession) Logout() error                        { return nil }
func (nullSession) Mail(string, *smtp.MailOptions) error { return nil }
func (nullSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (nullSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func benchServer(b *testing.B) string {
	s := smtp.NewServer(nullBackend{})
	s.Domain = "mx.example.org"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	b.Cleanup(func() {
		s.Close()
		<-done
	})
	return l.Addr().String()
}

func benchRcpts() []string {
	l := make([]string, benchRecipients)
	for i := range l {
		l[i] = fmt.Sprintf("user%d@example.org", i)
	}
	return l
}

// BenchmarkDeliver delivers one batch of 100 recipients in one
// transaction to a loopback go-smtp server per iteration: routing through
// the scripted resolver, a new connection, EHLO, MAIL, 100 RCPT, DATA.
func BenchmarkDeliver(b *testing.B) { benchDeliver(b, false) }

// BenchmarkDeliverStepwise is BenchmarkDeliver without pipelining: the
// same commands as BenchmarkGoSMTPByHand, so the difference is what the
// client adds (routing, checks, results).
func BenchmarkDeliverStepwise(b *testing.B) { benchDeliver(b, true) }

func benchDeliver(b *testing.B, noPipelining bool) {
	addr := benchServer(b)
	c, _, _ := newClient(b, mxHost{"mx1.example.org", 10, addr})
	c.NoPipelining = noPipelining
	batch := msgs(benchRcpts()...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := mallocs()
	for i := 0; i < b.N; i++ {
		results, err := c.Deliver(ctx, batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Status != queue.AttemptDelivered {
				b.Fatalf("status %s: %v", r.Status, r.Err)
			}
		}
	}
	reportPerRecipient(b, start)
}

// BenchmarkGoSMTPByHand is the same transaction with go-smtp's client
// driven by hand, without results: the floor for BenchmarkDeliver.
func BenchmarkGoSMTPByHand(b *testing.B) {
	addr := benchServer(b)
	rcpts := benchRcpts()
	b.ReportAllocs()
	b.ResetTimer()
	start := mallocs()
	for i := 0; i < b.N; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c := smtp.NewClient(conn)
		if err := c.Hello("client.example.com"); err != nil {
			b.Fatal(err)
		}
		if err := c.Mail("sender@example.com", &smtp.MailOptions{Size: int64(len(testMessage))}); err != nil {
			b.Fatal(err)
		}
		for _, r := range rcpts {
			if err := c.Rcpt(r, nil); err != nil {
				b.Fatal(err)
			}
		}
		w, err := c.Data()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := w.Write([]byte(testMessage)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecipient(b, start)
}

// reportPerRecipient adds messages (recipients) per second and
// allocations per recipient since start. Both count the in-process
// server's work too; the difference between the two benchmarks is the
// client's.
func reportPerRecipient(b *testing.B, start uint64) {
	n := float64(b.N * benchRecipients)
	b.ReportMetric(float64(mallocs()-start)/n, "allocs/rcpt")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(n/s, "msgs/s")
	}
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
