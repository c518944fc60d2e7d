package bounce_test

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
)

var sink bounce.Failure

func benchmarkClassify(b *testing.B, err error, want bounce.Reason) {
	b.Helper()
	if f := bounce.Classify(err); f.Reason != want {
		b.Fatalf("reason %s, want %s", f.Reason, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink = bounce.Classify(err)
	}
}

// The common case: our SMTPError with an enhanced code.
func BenchmarkClassifySMTPError(b *testing.B) {
	err := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt, Line: "<nobody@example.org>: Recipient address rejected: User unknown in local recipient table"}
	benchmarkClassify(b, err, bounce.ReasonUserUnknown)
}

func BenchmarkClassifySMTPErrorMultiLine(b *testing.B) {
	err := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageRcpt,
		Line: "The email account that you tried to reach does not exist. Please try",
		MoreLines: []string{
			"double-checking the recipient's email address for typos or",
			"unnecessary spaces. Learn more at",
			" https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp",
		}}
	benchmarkClassify(b, err, bounce.ReasonUserUnknown)
}

// A code-only reply: the text rules decide.
func BenchmarkClassifyCodeOnlyText(b *testing.B) {
	err := fmt.Errorf("deliver: %w", &bounce.SMTPError{Code: 554, Stage: bounce.StageRcpt, Line: "delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com"})
	benchmarkClassify(b, err, bounce.ReasonUserUnknown)
}

// The worst case for the text heuristics: a long code-only reply that matches
// no phrase.
func BenchmarkClassifyCodeOnlyNoMatch(b *testing.B) {
	err := &bounce.SMTPError{Code: 550, Line: "Requested action not taken: the request could not be completed at this moment for reasons we prefer to keep to ourselves, see https://example.org/postmaster/errors?code=550&id=1234567890 [mx1.example.org]"}
	benchmarkClassify(b, err, bounce.ReasonUndefined)
}

func BenchmarkClassifyTextproto(b *testing.B) {
	err := &textproto.Error{Code: 550, Msg: "5.7.1 [192.0.2.1] Our system has detected that this message is\n5.7.1 likely suspicious due to the very low reputation of the sending IP\n5.7.1 address. To best protect our users from spam, the message has been\n5.7.1 blocked. - gsmtp"}
	benchmarkClassify(b, err, bounce.ReasonBadReputation)
}

func BenchmarkClassifyDNSError(b *testing.B) {
	err := fmt.Errorf("lookup mx: %w", &net.DNSError{Err: "no such host", Name: "nonexistent.example", IsNotFound: true})
	benchmarkClassify(b, err, bounce.ReasonHostUnknown)
}

func BenchmarkClassifyOther(b *testing.B) {
	benchmarkClassify(b, errors.New("something else"), bounce.ReasonUndefined)
}

func BenchmarkClassifyReplyGmail(b *testing.B) {
	text := "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser y3si675602plr.1 - gsmtp"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sink = bounce.ClassifyReply(0, bounce.EnhancedCode{}, text)
	}
}

func ExampleClassify() {
	// As a host's SMTP client might return it, wrapped on the way up.
	err := fmt.Errorf("deliver to mx.example.org: %w", &bounce.SMTPError{
		Code:         550,
		EnhancedCode: bounce.EnhancedCode{5, 1, 1},
		Stage:        bounce.StageRcpt,
		Line:         "<nobody@example.org>: Recipient address rejected: User unknown",
	})
	f := bounce.Classify(err)
	fmt.Println(f.Permanent, f.Code, f.EnhancedCode, f.Reason, f.HardBounce())

	f = bounce.Classify(fmt.Errorf("lookup: %w", &net.DNSError{Err: "i/o timeout", Name: "example.org", IsTimeout: true}))
	fmt.Println(f.Permanent, f.Reason, f.Detail)
	// Output:
	// true 550 5.1.1 userunknown true
	// false networkerror dns-timeout
}

func ExampleClassifyReply() {
	// A DSN's Diagnostic-Code, a multi-line reply folded into one line.
	f := bounce.ClassifyReply(0, bounce.EnhancedCode{}, "smtp; 550-5.7.1 This message is not RFC 5322 compliant. There are multiple Subject 550-5.7.1 headers. To reduce the amount of spam sent to Gmail, this message has 550-5.7.1 been blocked.")
	fmt.Println(f.Permanent, f.Code, f.EnhancedCode, f.Reason)
	fmt.Println(len(f.Lines), f.Lines[1])

	// RFC 5321 section 4.5.3.1.10: a 552 "too many recipients" is temporary.
	f = bounce.ClassifyReply(0, bounce.EnhancedCode{}, "552 5.1.1 Too many recipients")
	fmt.Println(f.Permanent, f.Reason, f.Detail)
	// Output:
	// true 550 5.7.1 notcompliantrfc
	// 3 headers. To reduce the amount of spam sent to Gmail, this message has
	// false toomanyconn too-many-recipients
}

// A reply about our sender under a recipient-looking code, with echoed
// addresses: the text rules, the address check and the about-us rules.
func BenchmarkClassifySenderRejected(b *testing.B) {
	err := &bounce.SMTPError{Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Stage: bounce.StageMail,
		Line: "<spamtrap@example.com>: Sender address rejected: undeliverable address: host mx.example.com[192.0.2.3] said: 550 5.1.1 <spamtrap@example.com>: Recipient address rejected: User unknown in local recipient table"}
	benchmarkClassify(b, err, bounce.ReasonRejected)
}
