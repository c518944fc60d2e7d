package queuetest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/queue/queuetest"
)

// TestSMTPServer checks that the server refuses the listed recipient with
// its reply at RCPT TO, accepts the others and records what it accepted.
func TestSMTPServer(t *testing.T) {
	refused := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	s, err := queuetest.NewSMTPServer(map[string]*smtp.SMTPError{"nobody@example.com": refused})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.org", nil); err != nil {
		t.Fatal(err)
	}
	var se *smtp.SMTPError
	if err := c.Rcpt("nobody@example.com", nil); !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != refused.EnhancedCode {
		t.Fatalf("refused recipient: got %v, want the 550 5.1.1", err)
	}
	if err := c.Rcpt("bob@example.com", nil); err != nil {
		t.Fatalf("accepted recipient: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nHello.\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	got := s.Received()
	if len(got) != 1 || got[0].From != "alice@example.org" || len(got[0].To) != 1 || got[0].To[0] != "bob@example.com" || !strings.Contains(string(got[0].Data), "Hello.") {
		t.Fatalf("received %+v, want one message from alice to bob", got)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// TestSMTPServerCloseAtOnce closes servers right after starting them, before
// their goroutine may have reached Serve: Close must return, not wait for a
// server that never stops.
func TestSMTPServerCloseAtOnce(t *testing.T) {
	for i := 0; i < 50; i++ {
		s, err := queuetest.NewSMTPServer(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
}
