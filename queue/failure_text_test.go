package queue_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/queue"
)

// TestFailureText checks that the text a person reads is the remote reply
// as it was sent, without Go's wrappers.
func TestFailureText(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"go-smtp", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<x@example.org>: User unknown"}, "550 5.1.1 <x@example.org>: User unknown"},
		{"go-smtp wrapped", fmt.Errorf("rcpt to: %w", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<x@example.org>: User unknown"}), "550 5.1.1 <x@example.org>: User unknown"},
		{"go-smtp multi-line", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted\nPlease try again later"}, "451-4.7.1 Greylisted\n451 4.7.1 Please try again later"},
		{"go-smtp no enhanced code", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode, Message: "Transaction failed"}, "554 Transaction failed"},
		{"ours", &queue.SMTPError{Code: 550, EnhancedCode: "5.1.1", Command: "rcpt", Line: "<x@example.org>: User unknown"}, "550 5.1.1 <x@example.org>: User unknown"},
		{"ours, code in line", &queue.SMTPError{Code: 550, Line: "5.1.1 <x@example.org>: User unknown"}, "550 5.1.1 <x@example.org>: User unknown"},
		{"ours multi-line", &queue.SMTPError{Code: 550, EnhancedCode: "5.7.1", Line: "Message rejected", MoreLines: []string{"see https://example.com/policy"}}, "550-5.7.1 Message rejected\n550 5.7.1 see https://example.com/policy"},
		{"ours without reply", &queue.SMTPError{Command: "starttls", Err: errors.New("tls: handshake failure")}, "tls: handshake failure"},
		{"dns", &net.DNSError{Err: "no such host", Name: "mx.example.invalid", IsNotFound: true}, "lookup mx.example.invalid: no such host"},
		{"suppressed", queue.ErrSuppressed, "recipient address is on the sender's suppression list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcompare(t, queue.Classify(tc.err).Text(), tc.want, "text")
		})
	}
}

// TestFailMsgsWords checks the words FailMsgs stores, sends in webhooks and
// writes in DSNs: the reply as the remote sent it.
func TestFailMsgsWords(t *testing.T) {
	e := newEnv(t, queue.RetryPolicy{})
	e.h.DSN = nil // The default composer.
	m := e.add(nil, "x@example.com")[0]
	err := fmt.Errorf("delivering: %w", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<x@example.com>: Recipient address rejected:\nUser unknown in local recipient table"})
	e.fail([]queue.Msg{m}, err)
	const want = "550-5.1.1 <x@example.com>: Recipient address rejected:\n550 5.1.1 User unknown in local recipient table"

	r, ok := e.retired(m.ID)
	if !ok {
		t.Fatalf("not retired")
	}
	tcompare(t, r.Results[len(r.Results)-1].Error, want, "result error")
	tcompare(t, e.hooks.Queued[0].Payload.Error, want, "webhook error")
	ob := e.outbox()
	tcompare(t, len(ob), 1, "dsns")
	text := string(ob[0].Data)
	for _, bad := range []string{"SMTP error", "queue:", "delivering:"} {
		if strings.Contains(text, bad) {
			t.Errorf("dsn contains %q:\n%s", bad, text)
		}
	}
	for _, good := range []string{"\t550-5.1.1 <x@example.com>: Recipient address rejected:\r\n\t550 5.1.1 User unknown in local recipient table", "Diagnostic-Code: smtp; 550-5.1.1"} {
		if !strings.Contains(text, good) {
			t.Errorf("dsn lacks %q:\n%s", good, text)
		}
	}
}
