package bounce_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
)

// TestClassifyStage checks where Classify sets Failure.Stage: from our
// SMTPError, and from the kind of error where it implies the stage.
func TestClassifyStage(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	read := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	for _, tc := range []struct {
		name   string
		err    error
		stage  bounce.Stage
		reason bounce.Reason
	}{
		{"reply to rcpt", &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "user unknown"}, bounce.StageRcpt, bounce.ReasonUserUnknown},
		{"reply after data", fmt.Errorf("send: %w", &bounce.SMTPError{Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: bounce.StageDataEnd, Line: "spam detected"}), bounce.StageDataEnd, bounce.ReasonSpamDetected},
		{"greeting", &bounce.SMTPError{Code: 554, Stage: bounce.StageConnect, Line: "no SMTP service here"}, bounce.StageConnect, bounce.ReasonNotAccept},
		{"dns", fmt.Errorf("mx: %w", &net.DNSError{Err: "no such host", Name: "example.invalid", IsNotFound: true}), bounce.StageDNS, bounce.ReasonHostUnknown},
		{"dial", fmt.Errorf("connect: %w", dial), bounce.StageDial, bounce.ReasonNetworkError},
		{"read, stage not known", read, bounce.StageUnknown, bounce.ReasonNetworkError},
		{"read, stage from the host", &bounce.SMTPError{Stage: bounce.StageMail, Err: read}, bounce.StageMail, bounce.ReasonNetworkError},
		{"certificate", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, bounce.StageTLS, bounce.ReasonSecurityError},
		{"certificate at starttls", &bounce.SMTPError{Stage: bounce.StageTLS, Err: x509.HostnameError{Host: "mx.example"}}, bounce.StageTLS, bounce.ReasonFailedSTARTTLS},
		{"dns error at the dial stage", &bounce.SMTPError{Stage: bounce.StageDial, Err: &net.DNSError{Err: "server misbehaving", Name: "mx.example"}}, bounce.StageDial, bounce.ReasonNetworkError},
		{"go-smtp does not say", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}, bounce.StageUnknown, bounce.ReasonUserUnknown},
		{"other", errors.New("something"), bounce.StageUnknown, bounce.ReasonUndefined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := bounce.Classify(tc.err)
			if f.Stage != tc.stage || f.Reason != tc.reason {
				t.Fatalf("stage %q, reason %s; want %q, %s", f.Stage, f.Reason, tc.stage, tc.reason)
			}
		})
	}
}

func TestStages(t *testing.T) {
	seen := map[bounce.Stage]bool{}
	for _, s := range bounce.Stages() {
		if s == bounce.StageUnknown || seen[s] {
			t.Fatalf("stage %q unknown or repeated", s)
		}
		seen[s] = true
	}
	if len(seen) != 10 {
		t.Fatalf("%d stages, want 10", len(seen))
	}
}
