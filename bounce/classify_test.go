package bounce

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	netsmtp "net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"
)

type classifyCase struct {
	name   string
	err    error
	perm   bool
	reason Reason
	detail Detail
}

func checkClassify(t *testing.T, c classifyCase) {
	t.Helper()
	f := Classify(c.err)
	if f.Permanent != c.perm || f.Reason != c.reason || f.Detail != c.detail {
		t.Errorf("%s: Classify(%v) = permanent %v, reason %s, detail %q; want %v, %s, %q", c.name, c.err, f.Permanent, f.Reason, f.Detail, c.perm, c.reason, c.detail)
	}
	if f.Err != c.err {
		t.Errorf("%s: Err is %v, want the classified error %v", c.name, f.Err, c.err)
	}
}

func TestClassifyNil(t *testing.T) {
	f := Classify(nil)
	if f.Permanent || f.Reason != ReasonUndefined || f.Err != nil || f.Code != 0 || f.Lines != nil {
		t.Fatalf("Classify(nil) = %+v, want temporary undefined with nil Err", f)
	}
}

// A broken error type: its Unwrap panics.
type panicUnwrapError struct{}

func (panicUnwrapError) Error() string { return "broken" }
func (panicUnwrapError) Unwrap() error { panic("broken unwrap") }

// An error that finds an *SMTPError only through an As method.
type asError struct{ target *SMTPError }

func (e asError) Error() string { return "as" }
func (e asError) As(target any) bool {
	if p, ok := target.(**SMTPError); ok {
		*p = e.target
		return true
	}
	return false
}

func TestClassifyNonReply(t *testing.T) {
	dnsNotFound := &net.DNSError{Err: "no such host", Name: "nonexistent.example", IsNotFound: true}
	dnsTimeout := &net.DNSError{Err: "i/o timeout", Name: "example.org", IsTimeout: true}
	dnsServfail := &net.DNSError{Err: "server misbehaving", Name: "example.org", IsTemporary: true}
	opErr := func(errno error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	var typedNil *SMTPError

	cases := []classifyCase{
		{"dns not found", dnsNotFound, true, ReasonHostUnknown, DetailDNSNotFound},
		{"dns not found wrapped", fmt.Errorf("lookup mx: %w", fmt.Errorf("resolving: %w", dnsNotFound)), true, ReasonHostUnknown, DetailDNSNotFound},
		{"dns timeout", dnsTimeout, false, ReasonNetworkError, DetailDNSTimeout},
		{"dns servfail", dnsServfail, false, ReasonNetworkError, DetailDNSTemporary},
		{"connection refused", opErr(syscall.ECONNREFUSED), false, ReasonNetworkError, DetailConnectionRefused},
		{"connection reset", fmt.Errorf("read: %w", opErr(syscall.ECONNRESET)), false, ReasonNetworkError, DetailConnectionReset},
		{"broken pipe", opErr(syscall.EPIPE), false, ReasonNetworkError, DetailConnectionReset},
		{"host unreachable", opErr(syscall.EHOSTUNREACH), false, ReasonNetworkError, DetailUnreachable},
		{"network unreachable", opErr(syscall.ENETUNREACH), false, ReasonNetworkError, DetailUnreachable},
		{"other op error", &net.OpError{Op: "write", Net: "tcp", Err: errors.New("something")}, false, ReasonNetworkError, DetailNetwork},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, false, ReasonNetworkError, DetailTimeout},
		{"deadline exceeded", fmt.Errorf("deliver: %w", context.DeadlineExceeded), false, ReasonNetworkError, DetailTimeout},
		{"canceled", fmt.Errorf("deliver: %w", context.Canceled), false, ReasonOnHold, DetailCanceled},
		{"eof", fmt.Errorf("reading reply: %w", io.EOF), false, ReasonNetworkError, DetailEOF},
		{"unexpected eof", io.ErrUnexpectedEOF, false, ReasonNetworkError, DetailEOF},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, false, ReasonSecurityError, DetailCertificateUnknownAuthority},
		{"hostname", fmt.Errorf("tls: %w", x509.HostnameError{Host: "mx.example.org", Certificate: &x509.Certificate{}}), false, ReasonSecurityError, DetailCertificateHostname},
		{"expired certificate", x509.CertificateInvalidError{Cert: &x509.Certificate{}, Reason: x509.Expired}, false, ReasonSecurityError, DetailCertificateInvalid},
		{"other verification", &tls.CertificateVerificationError{Err: errors.New("custom verifier said no")}, false, ReasonSecurityError, DetailCertificate},
		{"record header", fmt.Errorf("starttls: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), false, ReasonSecurityError, DetailTLSRecordHeader},
		{"alert", tls.AlertError(40), false, ReasonSecurityError, DetailTLSAlert},
		{"alert at starttls", &SMTPError{Stage: StageTLS, Err: tls.AlertError(40)}, false, ReasonFailedSTARTTLS, DetailTLSAlert},
		{"certificate at starttls", fmt.Errorf("deliver: %w", &SMTPError{Stage: StageTLS, Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}), false, ReasonFailedSTARTTLS, DetailCertificateUnknownAuthority},
		{"timeout at starttls", &SMTPError{Stage: StageTLS, Err: os.ErrDeadlineExceeded}, false, ReasonNetworkError, DetailTimeout},
		{"no reply, client says permanent", &SMTPError{Permanent: true, Stage: StageDial, Err: errors.New("mx is a loopback address")}, true, ReasonUndefined, ""},
		{"no reply, refused", &SMTPError{Stage: StageDial, Err: opErr(syscall.ECONNREFUSED)}, false, ReasonNetworkError, DetailConnectionRefused},
		{"joined", errors.Join(errors.New("first mx"), fmt.Errorf("second mx: %w", dnsNotFound)), true, ReasonHostUnknown, DetailDNSNotFound},
		{"anything else", errors.New("queue: something odd"), false, ReasonUndefined, ""},
		{"typed nil", typedNil, false, ReasonUndefined, ""},
		{"wrapped typed nil", fmt.Errorf("x: %w", typedNil), false, ReasonUndefined, ""},
		{"as method", asError{&SMTPError{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Line: "user unknown"}}, true, ReasonUserUnknown, ""},
	}
	for _, c := range cases {
		checkClassify(t, c)
	}
}

// TestClassifyPanickingUnwrap checks the documented behaviour for an error
// whose Unwrap panics: Classify does not recover, the panic propagates as
// it does through errors.As, with the value the Unwrap method panicked with.
func TestClassifyPanickingUnwrap(t *testing.T) {
	for _, err := range []error{panicUnwrapError{}, fmt.Errorf("x: %w", panicUnwrapError{})} {
		t.Run(err.Error(), func(t *testing.T) {
			defer func() {
				if x := recover(); x != "broken unwrap" {
					t.Fatalf("recovered %v, want the Unwrap method's panic", x)
				}
			}()
			f := Classify(err)
			t.Fatalf("Classify returned %+v, want a panic", f)
		})
	}
}

func TestClassifyReplyTypes(t *testing.T) {
	gmail := []string{
		"The email account that you tried to reach does not exist. Please try",
		"double-checking the recipient's email address for typos or",
		"unnecessary spaces. - gsmtp",
	}
	ours := &SMTPError{Permanent: true, Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Stage: StageRcpt, Line: gmail[0], MoreLines: gmail[1:]}
	netSMTP := &textproto.Error{Code: 550, Msg: "5.1.1 " + strings.Join(gmail, "\n5.1.1 ")}
	goSMTP := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: strings.Join(gmail, "\n")}
	// go-smtp's server writes the enhanced code on the last line only.
	goSMTPServer := &textproto.Error{Code: 550, Msg: gmail[0] + "\n" + gmail[1] + "\n5.1.1 " + gmail[2]}
	raw := ParseReply("550-5.1.1 " + gmail[0] + "\r\n550-5.1.1 " + gmail[1] + "\r\n550 5.1.1 " + gmail[2] + "\r\n")

	for _, err := range []error{ours, netSMTP, goSMTP, goSMTPServer, raw} {
		for _, e := range []error{err, fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", err)))} {
			f := Classify(e)
			if !f.Permanent || f.Code != 550 || f.EnhancedCode.String() != "5.1.1" || f.Reason != ReasonUserUnknown || !slices.Equal(f.Lines, gmail) || f.Err != e {
				t.Errorf("Classify(%T %v) = %+v", err, err, f)
			}
			if !f.HardBounce() {
				t.Errorf("Classify(%T): not a hard bounce", err)
			}
		}
	}

	// go-smtp without an enhanced code: NoEnhancedCode and the zero value.
	for _, c := range []smtp.EnhancedCode{smtp.NoEnhancedCode, smtp.EnhancedCodeNotSet} {
		f := Classify(&smtp.SMTPError{Code: 452, EnhancedCode: c, Message: "Mailbox full"})
		if f.Permanent || f.EnhancedCode.String() != "" || f.Reason != ReasonMailboxFull {
			t.Errorf("go-smtp with enhanced code %v: %+v", c, f)
		}
	}

	// Our SMTPError: Permanent follows the code when there is one.
	f := Classify(&SMTPError{Permanent: true, Code: 451, EnhancedCode: EnhancedCode{4, 3, 0}, Line: "try later"})
	if f.Permanent {
		t.Errorf("451 with Permanent set: permanent, want temporary (the code decides)")
	}
	// Without any code, it decides.
	f = Classify(&SMTPError{Permanent: true, Line: "user unknown"})
	if !f.Permanent || f.Reason != ReasonUserUnknown {
		t.Errorf("no code, Permanent set: %+v", f)
	}
	// An invalid enhanced code is dropped; one left in the text is found.
	f = Classify(&SMTPError{Code: 550, EnhancedCode: EnhancedCode{5, 1000, 1}, Line: "5.2.2 mailbox full"})
	if f.EnhancedCode.String() != "5.2.2" || f.Reason != ReasonMailboxFull {
		t.Errorf("enhanced code in text: %+v", f)
	}
	f = Classify(&SMTPError{Code: 550, EnhancedCode: EnhancedCode{9, 9, 9}, Line: "no such user"})
	if f.EnhancedCode.String() != "" || f.Reason != ReasonUserUnknown {
		t.Errorf("invalid enhanced code: %+v", f)
	}
	// A refused STARTTLS.
	f = Classify(&SMTPError{Code: 454, EnhancedCode: EnhancedCode{4, 7, 0}, Stage: StageTLS, Line: "TLS not available due to local problem"})
	if f.Permanent || f.Reason != ReasonFailedSTARTTLS {
		t.Errorf("refused starttls: %+v", f)
	}
}

// The cases where the reply text and the enhanced code disagree the
// way real MTAs are known to, and the text wins.
func TestClassifyTextWinsOverEnhancedCode(t *testing.T) {
	cases := []struct {
		reply  string
		perm   bool
		reason Reason
		detail Detail
	}{
		// Too many recipients under 5.1.1 (user unknown): toomanyconn, and a
		// 552 one is temporary (RFC 5321 section 4.5.3.1.10).
		{"552 5.1.1 too many recipients", false, ReasonTooManyConn, DetailTooManyRecipients},
		{"452 4.5.3 Too many recipients", false, ReasonTooManyConn, DetailTooManyRecipients},
		{"550 5.1.1 <x@example.com> - 192.0.2.1 has sent to too many recipients this hour. IB607", true, ReasonSpeeding, ""},
		// Gmail's unsolicited mail under 5.7.1: spam, not a security error.
		{"550-5.7.1 Our system has detected that this message is\r\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\r\n550 5.7.1 this message has been blocked.", true, ReasonSpamDetected, ""},
		// Gmail's rate limit under 5.2.1 (mailbox disabled).
		{"550 5.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", true, ReasonSpeeding, ""},
		// Microsoft's unknown recipient under 5.1.10 (null MX).
		{"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", true, ReasonUserUnknown, ""},
		// Yahoo's policy rejection under 5.7.9 (auth mechanism too weak).
		{"554 5.7.9 Message not accepted for policy reasons.", true, ReasonPolicyViolation, ""},
		// Facebook's recipient preferences under 5.1.1: the address exists.
		{"550 5.1.1 RCP-P2 Refused due to recipient preferences", true, ReasonFiltered, ""},
		// Greylisting under 4.7.1.
		{"451 4.7.1 Greylisting in action, please come back later", false, ReasonOnHold, DetailGreylisted},
	}
	for _, c := range cases {
		f := ClassifyReply(0, EnhancedCode{}, c.reply)
		if f.Permanent != c.perm || f.Reason != c.reason || f.Detail != c.detail {
			t.Errorf("%q: permanent %v, reason %s, detail %q; want %v, %s, %q", c.reply, f.Permanent, f.Reason, f.Detail, c.perm, c.reason, c.detail)
		}
	}

	// A weak phrase does not override a specific code: "User Unknown" under
	// 5.2.1 stays suspend, under 5.2.2 mailboxfull.
	if f := ClassifyReply(0, EnhancedCode{}, "550 5.2.1 <x@example.jp>... User Unknown"); f.Reason != ReasonSuspend {
		t.Errorf("weak phrase under 5.2.1: %s, want suspend", f.Reason)
	}
	if f := ClassifyReply(0, EnhancedCode{}, "550 5.2.2 user unknown"); f.Reason != ReasonMailboxFull {
		t.Errorf("weak phrase under 5.2.2: %s, want mailboxfull", f.Reason)
	}
}

func TestClassifyPermanence(t *testing.T) {
	cases := []struct {
		code int
		enh  string
		text string
		perm bool
	}{
		{550, "", "", true},
		{450, "", "", false},
		{552, "", "Too many recipients", false},                // RFC 5321 section 4.5.3.1.10.
		{552, "5.5.3", "Recipient limit reached", false},       // The same, from the enhanced code.
		{552, "5.2.2", "Mailbox full", true},                   // Other 552s stay permanent.
		{552, "5.3.4", "Message too big", true},                //
		{550, "4.4.7", "QUEUE.Expired; message expired", true}, // The reply code wins over the enhanced class.
		{450, "5.1.1", "user unknown", false},                  //
		{0, "5.1.1", "user unknown", true},                     // No reply code: the enhanced class.
		{0, "4.4.1", "no answer", false},                       //
		{0, "", "user unknown", false},                         // Nothing: temporary.
		{250, "2.0.0", "ok", false},                            //
	}
	for _, c := range cases {
		enh, _ := ParseEnhancedCode(c.enh) // Empty: none.
		f := ClassifyReply(c.code, enh, c.text)
		if f.Permanent != c.perm {
			t.Errorf("ClassifyReply(%d, %q, %q): permanent %v, want %v", c.code, c.enh, c.text, f.Permanent, c.perm)
		}
	}
}

func TestHardBounce(t *testing.T) {
	cases := []struct {
		f    Failure
		want bool
	}{
		{Failure{Permanent: true, Code: 550, Reason: ReasonUserUnknown}, true},
		{Failure{Permanent: true, Reason: ReasonHostUnknown}, true}, // NXDOMAIN, no reply.
		{Failure{Permanent: true, Code: 551, Reason: ReasonHasMoved}, true},
		{Failure{Permanent: true, Code: 556, Reason: ReasonNotAccept}, true},
		{Failure{Permanent: true, EnhancedCode: EnhancedCode{5, 1, 10}, Reason: ReasonNotAccept}, true},
		{Failure{Permanent: false, Code: 421, EnhancedCode: EnhancedCode{4, 3, 2}, Reason: ReasonNotAccept}, false},
		{Failure{Permanent: true, Code: 550, EnhancedCode: EnhancedCode{4, 3, 2}, Reason: ReasonNotAccept}, true},
		{Failure{Permanent: true, Reason: ReasonNotAccept}, true},   // No code, but permanent: a null MX or a bounce's "no MX record".
		{Failure{Permanent: false, Reason: ReasonNotAccept}, false}, // Temporary: the receiver may change its mind.
		{Failure{Permanent: false, Code: 450, Reason: ReasonUserUnknown}, false},
		{Failure{Permanent: true, Code: 550, Reason: ReasonMailboxFull}, false},
		{Failure{Permanent: true, Code: 550, Reason: ReasonSuspend}, false},
		{Failure{Permanent: true, Code: 554, Reason: ReasonBlocked}, false},
		{Failure{Permanent: true, Code: 550, Reason: ReasonSpamDetected}, false},
		{Failure{}, false},
	}
	for _, c := range cases {
		if got := c.f.HardBounce(); got != c.want {
			t.Errorf("%+v: HardBounce %v, want %v", c.f, got, c.want)
		}
	}
	// From classification: a DNS NXDOMAIN is a hard bounce, a refused
	// connection is not.
	if !Classify(&net.DNSError{IsNotFound: true}).HardBounce() {
		t.Errorf("NXDOMAIN: not a hard bounce")
	}
	if Classify(io.EOF).HardBounce() {
		t.Errorf("EOF: a hard bounce")
	}
}

func TestParseReply(t *testing.T) {
	cases := []struct {
		text  string
		code  int
		enh   string
		lines []string
		perm  bool
	}{
		{"550 5.1.1 User unknown", 550, "5.1.1", []string{"User unknown"}, true},
		{"550-5.7.1 first\r\n550-5.7.1 second\r\n550 5.7.1 last\r\n", 550, "5.7.1", []string{"first", "second", "last"}, true},
		{"550-5.7.1 first\n550 5.7.1 last", 550, "5.7.1", []string{"first", "last"}, true},
		{"smtp; 550-5.7.1 first 550-5.7.1 second 550 5.7.1  last", 550, "5.7.1", []string{"first", "second", "last"}, true},
		{"SMTP;  452 4.2.2 over quota", 452, "4.2.2", []string{"over quota"}, false},
		{"550 #5.1.0 Address rejected.", 550, "5.1.0", []string{"Address rejected."}, true},
		{"421", 421, "", []string{""}, false},
		{"250 2.1.5 Ok", 250, "2.1.5", []string{"Ok"}, false},
		{"5.1.1 user unknown", 0, "5.1.1", []string{"user unknown"}, true},
		{"Connection timed out", 0, "", []string{"Connection timed out"}, false},
		{"", 0, "", []string{""}, false},
		{"6000 not a code", 0, "", []string{"6000 not a code"}, false},
		{"550 5.1.1.1 not an enhanced code", 550, "", []string{"5.1.1.1 not an enhanced code"}, true},
		{"550 5.1234.1 too long", 550, "", []string{"5.1234.1 too long"}, true},
		{"X-Postfix; host not found", 0, "", []string{"host not found"}, false},
	}
	for _, c := range cases {
		e := ParseReply(c.text)
		lines := append([]string{e.Line}, e.MoreLines...)
		if e.Code != c.code || e.EnhancedCode.String() != c.enh || !slices.Equal(lines, c.lines) || e.Permanent != c.perm {
			t.Errorf("ParseReply(%q) = code %d, enhanced %q, lines %q, permanent %v; want %d, %q, %q, %v", c.text, e.Code, e.EnhancedCode, lines, e.Permanent, c.code, c.enh, c.lines, c.perm)
		}
	}
}

func TestClassifyReplyOverrides(t *testing.T) {
	// The DSN's Status when the Diagnostic-Code has no enhanced code.
	f := ClassifyReply(0, EnhancedCode{5, 1, 1}, "smtp; 550 Requested action not taken")
	if f.Code != 550 || f.EnhancedCode.String() != "5.1.1" || f.Reason != ReasonUserUnknown || !f.Permanent {
		t.Errorf("status override: %+v", f)
	}
	// An explicit code overrides the text's; an invalid enhanced code is ignored.
	f = ClassifyReply(450, EnhancedCode{7, 0, 0}, "550 5.2.2 mailbox full")
	if f.Code != 450 || f.Permanent || f.EnhancedCode.String() != "5.2.2" || f.Reason != ReasonMailboxFull {
		t.Errorf("code override: %+v", f)
	}
	var se *SMTPError
	if !errors.As(f.Err, &se) || se.Code != 450 {
		t.Errorf("Err is %#v, want the *SMTPError classified", f.Err)
	}
}

func TestSMTPErrorError(t *testing.T) {
	cases := []struct {
		err  *SMTPError
		want string
	}{
		{&SMTPError{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Stage: StageRcpt, Line: "user unknown"}, "bounce: smtp rcpt: 550 5.1.1 user unknown"},
		{&SMTPError{Code: 550, Line: "a", MoreLines: []string{"b"}}, "bounce: smtp: 550 a; b"},
		{&SMTPError{Stage: StageDial, Err: io.EOF}, "bounce: smtp dial: EOF"},
		{&SMTPError{Code: 421, Line: "bye", Err: io.EOF}, "bounce: smtp: 421 bye: EOF"},
		// A wrapped go-smtp error of the same reply is not written twice;
		// one of another reply is.
		{&SMTPError{Code: 552, Stage: StageRcpt, Line: "mailbox full", Err: fmt.Errorf("rcpt: %w", &smtp.SMTPError{Code: 552, Message: "mailbox full"})}, "bounce: smtp rcpt: 552 mailbox full"},
		{&SMTPError{Code: 421, Line: "bye", Err: &smtp.SMTPError{Code: 550, Message: "earlier"}}, "bounce: smtp: 421 bye: SMTP error 550: earlier"},
		{nil, "bounce: smtp: <nil>"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	inner := errors.New("inner")
	if !errors.Is(&SMTPError{Err: inner}, inner) {
		t.Errorf("Unwrap does not reach Err")
	}
	var nilErr *SMTPError
	if nilErr.Unwrap() != nil {
		t.Errorf("nil Unwrap not nil")
	}
}

// Every rule must be reachable: a phrase that starts with an earlier rule's
// phrase can never win.
func TestTextRules(t *testing.T) {
	valid := map[Reason]bool{}
	for _, r := range Reasons() {
		valid[r] = true
	}
	for i, r := range textRules {
		if r.phrase == "" || r.phrase != strings.ToLower(r.phrase) || strings.TrimSpace(r.phrase) != r.phrase || strings.Contains(r.phrase, "  ") {
			t.Errorf("rule %d: bad phrase %q", i, r.phrase)
		}
		if !valid[r.reason] {
			t.Errorf("rule %d %q: unknown reason %q", i, r.phrase, r.reason)
		}
		if i > 0 && textRules[i-1].strong != r.strong && r.strong {
			t.Errorf("rule %d %q: strong rule after weak ones", i, r.phrase)
		}
		for j := 0; j < i; j++ {
			if strings.HasPrefix(r.phrase, textRules[j].phrase) {
				t.Errorf("rule %d %q is shadowed by rule %d %q", i, r.phrase, j, textRules[j].phrase)
			}
		}
	}
	// Word starts only: "locked" does not match inside "blocked".
	if f := ClassifyReply(550, EnhancedCode{}, "blocked"); f.Reason != ReasonBlocked {
		t.Errorf("blocked: %s", f.Reason)
	}
	// Case and whitespace.
	if f := ClassifyReply(550, EnhancedCode{}, "USER\t  UNKNOWN"); f.Reason != ReasonUserUnknown {
		t.Errorf("case and spaces: %s", f.Reason)
	}
	// Across lines.
	if f := ClassifyReply(0, EnhancedCode{}, "550-this user\r\n550 unknown"); f.Reason != ReasonUserUnknown {
		t.Errorf("across lines: %s", f.Reason)
	}
	if f := ClassifyReply(0, EnhancedCode{}, "550-user\r\n550-\r\n550 unknown"); f.Reason != ReasonUserUnknown {
		t.Errorf("across an empty line: %s", f.Reason)
	}
	if f := ClassifyReply(0, EnhancedCode{}, "550 no such"); f.Reason != ReasonUndefined {
		t.Errorf("phrase cut at the end: %s", f.Reason)
	}
}

// A go-smtp server on loopback rejects the recipient with a multi-line
// reply; net/smtp's and go-smtp's clients return their own error types.
func TestClassifyLoopbackClients(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(rejectBackend{})
	srv.Domain = "localhost"
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	addr := ln.Addr().String()

	check := func(name string, err error, wantType any) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if fmt.Sprintf("%T", err) != fmt.Sprintf("%T", wantType) {
			t.Fatalf("%s: error type %T, want %T", name, err, wantType)
		}
		f := Classify(fmt.Errorf("deliver: %w", err))
		want := []string{"The email account that you tried to reach does not exist.", "Please check the address."}
		if !f.Permanent || f.Code != 550 || f.EnhancedCode.String() != "5.1.1" || f.Reason != ReasonUserUnknown || !slices.Equal(f.Lines, want) {
			t.Errorf("%s: %+v", name, f)
		}
	}

	c, err := netsmtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.org"); err != nil {
		t.Fatal(err)
	}
	check("net/smtp", c.Rcpt("b@example.org"), &textproto.Error{})

	gc, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	if err := gc.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	check("go-smtp", gc.Rcpt("b@example.org", nil), &smtp.SMTPError{})
}

// A refused connection on loopback: a listener that was closed.
func TestClassifyLoopbackRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conn, err := net.Dial("tcp", addr)
	if err == nil {
		conn.Close()
		t.Skip("port was reused")
	}
	f := Classify(&SMTPError{Stage: StageDial, Err: err})
	if f.Permanent || f.Reason != ReasonNetworkError || f.Detail != DetailConnectionRefused {
		t.Errorf("refused: %+v (%v)", f, err)
	}
}

type rejectBackend struct{}

func (rejectBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return rejectSession{}, nil }

type rejectSession struct{}

func (rejectSession) Reset()                               {}
func (rejectSession) Logout() error                        { return nil }
func (rejectSession) Mail(string, *smtp.MailOptions) error { return nil }
func (rejectSession) Data(io.Reader) error                 { return nil }
func (rejectSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "The email account that you tried to reach does not exist.\nPlease check the address."}
}

// TestClassifyClientCodeWithError: a client's own failure that carries an
// enhanced code and an error of its own (no reply came) is read by the
// code, and the error stays reachable with errors.Is; without a code the
// error decides.
func TestClassifyClientCodeWithError(t *testing.T) {
	errOwn := errors.New("client: the client's own reason")
	cases := []struct {
		name      string
		e         *SMTPError
		reason    Reason
		permanent bool
		nullMX    bool
	}{
		{"null MX", &SMTPError{Permanent: true, EnhancedCode: EnhancedCode{5, 1, 10}, Stage: StageDNS, Err: errOwn}, ReasonNotAccept, true, true},
		{"over SIZE", &SMTPError{Permanent: true, EnhancedCode: EnhancedCode{5, 3, 4}, Stage: StageMail, Err: errOwn}, ReasonMesgTooBig, true, false},
		{"no code", &SMTPError{Err: errOwn}, ReasonUndefined, false, false},
	}
	for _, c := range cases {
		f := Classify(c.e)
		if f.Reason != c.reason || f.Permanent != c.permanent || f.NullMX() != c.nullMX || !errors.Is(f.Err, errOwn) {
			t.Errorf("%s: reason %s permanent %v nullMX %v err %v; want %s %v %v and the client's error", c.name, f.Reason, f.Permanent, f.NullMX(), f.Err, c.reason, c.permanent, c.nullMX)
		}
	}
}
