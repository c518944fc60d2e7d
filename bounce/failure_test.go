package bounce_test

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
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
		{"ours", &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "<x@example.org>: User unknown"}, "550 5.1.1 <x@example.org>: User unknown"},
		{"ours, code in line", &bounce.SMTPError{Code: 550, Line: "5.1.1 <x@example.org>: User unknown"}, "550 5.1.1 <x@example.org>: User unknown"},
		{"ours multi-line", &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Line: "Message rejected", MoreLines: []string{"see https://example.com/policy"}}, "550-5.7.1 Message rejected\n550 5.7.1 see https://example.com/policy"},
		{"ours without reply", &bounce.SMTPError{Stage: bounce.StageTLS, Err: errors.New("tls: handshake failure")}, "tls: handshake failure"},
		{"dns", &net.DNSError{Err: "no such host", Name: "mx.example.invalid", IsNotFound: true}, "lookup mx.example.invalid: no such host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bounce.Classify(tc.err).Text(); got != tc.want {
				t.Fatalf("text %q, want %q", got, tc.want)
			}
		})
	}
	// A recipient stopped by its suppression entry before any attempt.
	f := bounce.Failure{Reason: bounce.ReasonSuppressed, Err: errors.New("queue: recipient is suppressed")}
	if got := f.Text(); got != bounce.SuppressedText {
		t.Fatalf("suppressed: text %q, want %q", got, bounce.SuppressedText)
	}
}
