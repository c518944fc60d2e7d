package queue

import (
	"testing"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/dsn"
)

// TestClassifyRcpt pins how one recipient of a DSN or bounce is classified:
// the rules that only apply to reports that arrive later, where the command
// the reply answered, the kind of diagnostic and the Status field matter.
func TestClassifyRcpt(t *testing.T) {
	// failedAt is a failed recipient whose report says, or does not say
	// (bounce.StageUnknown), which command the reply answered; package
	// report reads the stage (its TestStageOf).
	failedAt := func(stage bounce.Stage, status, diag string) reportRcpt {
		code, err := bounce.ParseEnhancedCode(status)
		if err != nil && status != "" {
			t.Fatalf("status %q: %v", status, err)
		}
		return reportRcpt{action: dsn.ActionFailed, status: code, diagnostic: diag, stage: stage}
	}
	failed := func(status, diag string) reportRcpt { return failedAt(bounce.StageUnknown, status, diag) }
	cases := []struct {
		name   string
		r      reportRcpt
		reason bounce.Reason
		perm   bool
		hard   bool
	}{
		// User unknown: hard only where the recipient itself was refused.
		{"unknown user at RCPT TO", failedAt(bounce.StageRcpt, "5.0.0", "host mx.example[192.0.2.1] said: 550 Unknown user (in reply to RCPT TO command)"), bounce.ReasonUserUnknown, true, true},
		{"unknown user with X.1.1", failed("5.1.1", "550 5.1.1 <x@example.jp>... User Unknown"), bounce.ReasonUserUnknown, true, true},
		{"unknown user, stage not said", failed("5.0.0", "550 Unknown user x@example.jp"), bounce.ReasonFiltered, true, false},
		{"unknown user after data", failedAt(bounce.StageDataEnd, "5.1.1", "SMTP error from remote mail server after end of data: 550 5.1.1 user unknown"), bounce.ReasonFiltered, true, false},
		// 5.2.1 (mailbox disabled) with Sendmail's "User Unknown": the
		// command the report's text names decides, as for a live reply.
		{"5.2.1 user unknown at RCPT TO", failedAt(bounce.StageRcpt, "5.2.1", "550 5.2.1 <x@example.jp>... User Unknown"), bounce.ReasonUserUnknown, true, true},
		{"5.2.1 user unknown, stage not said", failed("5.2.1", "550 5.2.1 <x@example.jp>... User Unknown"), bounce.ReasonSuspend, true, false},
		{"transcript command RCPT", reportRcpt{action: dsn.ActionFailed, code: 550, diagnostic: "550 No such user here", stage: bounce.StageRcpt}, bounce.ReasonUserUnknown, true, true},
		{"transcript command DATA", reportRcpt{action: dsn.ActionFailed, code: 550, diagnostic: "550 5.1.1 No such user here", stage: bounce.StageData}, bounce.ReasonFiltered, true, false},

		// A local delivery program, not an SMTP server.
		{"x-unix exit status", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 0, 0}, diagnostic: "255", mailer: true}, bounce.ReasonMailerError, true, false},
		{"x-unix mail system", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 3, 0}, diagnostic: "77", mailer: true}, bounce.ReasonSystemError, true, false},
		{"x-unix quota", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{4, 3, 0}, diagnostic: "/var/mail/x/tmp/1.neko: Disk quota exceeded", mailer: true}, bounce.ReasonMailboxFull, false, false},
		// Postfix writes the sysexits.h text of a command's exit: the same
		// reason whether temporary or not; a full mailbox by its status.
		{"x-unix tempfail", reportRcpt{action: dsn.ActionDelayed, status: bounce.EnhancedCode{4, 3, 0}, diagnostic: "temporary failure", mailer: true}, bounce.ReasonMailerError, false, false},
		{"x-unix unknown exit", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 3, 0}, diagnostic: "unknown mail system error 1", mailer: true}, bounce.ReasonMailerError, true, false},
		{"x-unix EFBIG", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 2, 2}, diagnostic: "input/output error", mailer: true}, bounce.ReasonMailboxFull, true, false},
		{"x-unix tempfail given up", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{4, 3, 0}, diagnostic: "temporary failure", mailer: true}, bounce.ReasonExpired, false, false},
		{"pipe without status", reportRcpt{action: dsn.ActionFailed, diagnostic: "procmail: Couldn't create \"/var/spool/mail/neko\"", mailer: true}, bounce.ReasonMailerError, true, false},

		// Status 4.4.7 only says the MTA stopped trying.
		{"4.4.7 with the cause's code", failed("4.4.7", "450 4.7.1 <c135.example.jp[192.0.2.56]>: Client host rejected: may not be mail exchanger"), bounce.ReasonBlocked, false, false},
		{"4.4.7 with a disk full reply", failed("4.4.7", "452 4.4.5 Insufficient disk space; try again later"), bounce.ReasonSystemFull, false, false},
		{"4.4.7 with a DNS failure", failed("4.4.7", "Deferred: Name server: example.co.jp.: host name lookup failure"), bounce.ReasonNetworkError, false, false},
		{"4.4.7 alone", failed("4.4.7", ""), bounce.ReasonExpired, false, false},

		// Gave up after temporary failures: timeouts expire, DNS stays.
		{"failed after timeouts", failed("4.4.1", "connect to example.com[192.0.2.9]:25: Connection timed out"), bounce.ReasonExpired, false, false},
		{"failed after NXDOMAIN", failed("4.0.0", "DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found: example.jp"), bounce.ReasonNetworkError, false, false},
		{"failed after a loop", failed("4.4.6", ""), bounce.ReasonNetworkError, false, false},
		// Postfix after maximal_queue_lifetime: the last reply only said
		// "try later"; a reply that names its cause keeps it.
		{"failed after 451 4.3.0", failedAt(bounce.StageRcpt, "4.3.0", "451 4.3.0 temporary failure, try again later"), bounce.ReasonExpired, false, false},
		{"failed after 451 naming the cause", failed("4.0.0", "451 Could not load DRD for domain (example.com)"), bounce.ReasonSystemError, false, false},
		{"failed after a rate limit", failed("4.3.2", "452 4.3.2 Connection rate limit exceeded."), bounce.ReasonTooManyConn, false, false},
		// Exim's retry timeout: Status 5.0.0 over the last 4xx reply.
		{"exim retry timeout", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 0, 0}, code: 451, diagnostic: "451 4.3.0 temporary failure, try again later: retry timeout exceeded", stage: bounce.StageRcpt}, bounce.ReasonExpired, true, false},
		{"exim gave up on a temporary user unknown", reportRcpt{action: dsn.ActionFailed, status: bounce.EnhancedCode{5, 0, 0}, code: 450, diagnostic: "450 4.1.1 <x@example.org>: Recipient address rejected: unverified address: retry timeout exceeded", stage: bounce.StageRcpt}, bounce.ReasonUserUnknown, false, false},

		// Google Groups' bounce in any language: the sender may not post.
		{"google groups", reportRcpt{action: dsn.ActionFailed, groupRefused: true}, bounce.ReasonRejected, true, false},

		// Null MX and "no MX" without codes: the domain takes no mail.
		{"no mx, no code", failed("", "No mx record found for domain=example.org"), bounce.ReasonNotAccept, true, true},
		{"no mx, temporary", reportRcpt{action: dsn.ActionDelayed, status: bounce.EnhancedCode{4, 0, 0}, diagnostic: "No MX found for domain"}, bounce.ReasonNotAccept, false, false},
	}
	for _, c := range cases {
		f := classifyRcpt(c.r)
		if f.Reason != c.reason || f.Permanent != c.perm || f.HardBounce() != c.hard {
			t.Errorf("%s: reason %s, permanent %v, hard %v; want %s, %v, %v", c.name, f.Reason, f.Permanent, f.HardBounce(), c.reason, c.perm, c.hard)
		}
	}
}

func TestIsPipe(t *testing.T) {
	for s, want := range map[string]bool{
		"|/usr/bin/procmail":                 true,
		"X-Unix; |/home/kijitora/catch.pl":   true,
		" rfc822; |IFS=' ' && exec procmail": true,
		"x@example.com":                      false,
		"rfc822; x@example.com":              false,
		"":                                   false,
	} {
		if got := isPipe(s); got != want {
			t.Errorf("isPipe(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFinalAction: OpenSMTPD before 7.3 reports an expired envelope as a
// delay ("Action: delayed", "Status: 4.4.7", "Envelope expired"); it is
// the failure later versions write. Other delays stay delays.
func TestFinalAction(t *testing.T) {
	cases := []struct {
		name   string
		action dsn.Action
		status bounce.EnhancedCode
		diag   string
		want   dsn.Action
		wantSt bounce.EnhancedCode
	}{
		{"opensmtpd expiry", dsn.ActionDelayed, bounce.EnhancedCode{4, 4, 7}, "Envelope expired", dsn.ActionFailed, bounce.EnhancedCode{5, 4, 7}},
		{"opensmtpd 7.3 expiry", dsn.ActionFailed, bounce.EnhancedCode{5, 4, 7}, "Envelope expired", dsn.ActionFailed, bounce.EnhancedCode{5, 4, 7}},
		{"delay warning", dsn.ActionDelayed, bounce.EnhancedCode{4, 3, 0}, "451 4.3.0 temporary failure, try again later", dsn.ActionDelayed, bounce.EnhancedCode{4, 3, 0}},
		{"delayed 4.4.7 with another text", dsn.ActionDelayed, bounce.EnhancedCode{4, 4, 7}, "delivery time expired for this attempt", dsn.ActionDelayed, bounce.EnhancedCode{4, 4, 7}},
	}
	for _, c := range cases {
		a, st := finalAction(c.action, c.status, c.diag)
		if a != c.want || st != c.wantSt {
			t.Errorf("%s: finalAction = %s %s, want %s %s", c.name, a, st, c.want, c.wantSt)
		}
	}
}
