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

// TestStageHardBounce checks what the stage of a permanent reply means: at
// the greeting, EHLO, STARTTLS, AUTH or MAIL FROM it is about our side and
// never a hard bounce of the recipients; at RCPT TO it is about that
// recipient; after DATA about the message, for each accepted recipient.
func TestStageHardBounce(t *testing.T) {
	userUnknown := func(s bounce.Stage) error {
		return &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: s, Line: "user unknown"}
	}
	notAccept := func(s bounce.Stage) error {
		return &bounce.SMTPError{Code: 521, Stage: s, Line: "mx.example.com does not accept mail"}
	}
	spam := func(s bounce.Stage) error {
		return &bounce.SMTPError{Code: 554, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Stage: s, Line: "message looks like spam"}
	}
	type want struct {
		reason bounce.Reason
		hard   bool
	}
	for _, tc := range []struct {
		stage                            bounce.Stage
		aboutSender                      bool
		userUnknown, notAccept, spamText want
	}{
		{bounce.StageUnknown, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageDNS, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageDial, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageConnect, true, want{bounce.ReasonUserUnknown, false}, want{bounce.ReasonNotAccept, false}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageEHLO, true, want{bounce.ReasonUserUnknown, false}, want{bounce.ReasonNotAccept, false}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageTLS, true, want{bounce.ReasonFailedSTARTTLS, false}, want{bounce.ReasonFailedSTARTTLS, false}, want{bounce.ReasonFailedSTARTTLS, false}},
		{bounce.StageAuth, true, want{bounce.ReasonUserUnknown, false}, want{bounce.ReasonNotAccept, false}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageMail, true, want{bounce.ReasonRejected, false}, want{bounce.ReasonRejected, false}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageRcpt, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageData, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
		{bounce.StageDataEnd, false, want{bounce.ReasonUserUnknown, true}, want{bounce.ReasonNotAccept, true}, want{bounce.ReasonSpamDetected, false}},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			if got := tc.stage.AboutSender(); got != tc.aboutSender {
				t.Fatalf("AboutSender %v, want %v", got, tc.aboutSender)
			}
			for _, c := range []struct {
				name string
				err  error
				want want
			}{
				{"550 5.1.1", userUnknown(tc.stage), tc.userUnknown},
				{"521", notAccept(tc.stage), tc.notAccept},
				{"554 5.7.1", spam(tc.stage), tc.spamText},
			} {
				f := bounce.Classify(c.err)
				if !f.Permanent || f.Stage != tc.stage {
					t.Fatalf("%s: permanent %v, stage %q; want permanent at %q", c.name, f.Permanent, f.Stage, tc.stage)
				}
				if f.Reason != c.want.reason || f.HardBounce() != c.want.hard {
					t.Errorf("%s: reason %s, hard bounce %v; want %s, %v", c.name, f.Reason, f.HardBounce(), c.want.reason, c.want.hard)
				}
			}
			// A failure made by hand (not by Classify) is judged by its
			// stage too.
			hand := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: bounce.ReasonUserUnknown, Stage: tc.stage}
			if got := hand.HardBounce(); got != !tc.aboutSender {
				t.Errorf("hand-made userunknown: hard bounce %v, want %v", got, !tc.aboutSender)
			}
		})
	}
	if n := len(bounce.Stages()) + 1; n != 11 {
		t.Fatalf("%d stages, the table has 11: add the new stage", n)
	}
}
