package bounce

import (
	"testing"
)

// The rules of issue 17's "Accuracy" section, each with texts as the MTA
// that writes them sends them.

// TestClassifyTextExpired: texts a queue writes into a bounce when it gave
// up on a message are expired, also when they quote the network error
// that kept failing.
func TestClassifyTextExpired(t *testing.T) {
	cases := []struct {
		name, text string
		want       Reason
	}{
		// Exim retry.c, for an address past its retry rule's cutoff.
		{"exim retry timeout", "retry timeout exceeded", ReasonExpired},
		{"exim retry timeout after error", "Connection timed out: retry timeout exceeded", ReasonExpired},
		{"exim lookup retry timeout", "host lookup did not complete: retry timeout exceeded", ReasonExpired},
		// Exim's smtp transport when every host is past its retry time.
		{"exim long failure period", "retry time not reached for any host after a long failure period", ReasonExpired},
		{"exim hosts failing", "all hosts have been failing for a long time and were last tried after this message arrived", ReasonExpired},
		// qmail-send's last words on a message.
		{"qmail queue too long", "I'm not going to try again; this message has been in the queue too long.", ReasonExpired},
		{"giving up on host", "Giving up on 192.0.2.1.", ReasonExpired},
		{"message expired", "Message expired after sitting in queue for 7 days", ReasonExpired},
		{"exchange queue expired", "QUEUE.Expired; message expired", ReasonExpired},
		{"delivery time expired", "Delivery time expired", ReasonExpired},
		// "giving up" without the host it gave up on says nothing about
		// the queue's lifetime.
		{"yahoo giving up", "Unable to deliver message after multiple retries, giving up.", ReasonUndefined},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ClassifyText(c.text); got != c.want {
				t.Errorf("ClassifyText(%q) = %s, want %s", c.text, got, c.want)
			}
			if c.want != ReasonExpired {
				return
			}
			// As a Diagnostic-Code under Exim's generic 5.0.0, the text
			// decides the same way.
			if f := ClassifyReply(0, EnhancedCode{5, 0, 0}, c.text); f.Reason != c.want || !f.Permanent {
				t.Errorf("ClassifyReply(0, 5.0.0, %q) = %s, permanent %v; want %s, true", c.text, f.Reason, f.Permanent, c.want)
			}
		})
	}
}

// TestClassifyPostfixSuspendedDelivery: Postfix's queue manager writes
// "delivery temporarily suspended: " and the failure that made it mark the
// destination dead (qmgr_defer.c). That is a temporary problem reaching the
// host: the quoted failure decides, networkerror when it says nothing more,
// and never suspend (a disabled mailbox) or expired.
func TestClassifyPostfixSuspendedDelivery(t *testing.T) {
	cases := []struct {
		name, text string
		want       Reason
	}{
		{"connect refused", "delivery temporarily suspended: connect to mx.example.org[192.0.2.1]:25: Connection refused", ReasonNetworkError},
		{"connect timed out", "delivery temporarily suspended: connect to mx.example.org[192.0.2.1]:25: Connection timed out", ReasonNetworkError},
		{"lost connection", "delivery temporarily suspended: lost connection with mx.example.org[192.0.2.1] while receiving the initial server greeting", ReasonNetworkError},
		{"conversation timed out", "delivery temporarily suspended: conversation with mx.example.org[192.0.2.1] timed out while receiving the initial server greeting", ReasonNetworkError},
		{"no route", "delivery temporarily suspended: connect to mx.example.org[2001:db8::1]:25: No route to host", ReasonNetworkError},
		{"transport error", "delivery temporarily suspended: unknown mail transport error", ReasonNetworkError},
		// The greeting the host refused the session with says more.
		{"refused to talk, anvil", "delivery temporarily suspended: host mx.example.org[192.0.2.1] refused to talk to me: 421 4.7.0 mx.example.org Error: too many connections from 192.0.2.2", ReasonTooManyConn},
		{"refused to talk, dnsbl", "delivery temporarily suspended: host mx.example.org[192.0.2.1] refused to talk to me: 554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using zen.spamhaus.org", ReasonBlocked},
		// As Postfix's bounce(8) logs it, with the recipient first.
		{"with recipient", "<x@example.org>: delivery temporarily suspended: connect to mx.example.org[192.0.2.1]:25: Connection refused", ReasonNetworkError},
		{"upper case", "Delivery Temporarily Suspended: connect to mx.example.org[192.0.2.1]:25: Connection refused", ReasonNetworkError},
		// Suspended mailboxes of other MTAs stay suspend.
		{"163.com user suspended", "550 User suspended", ReasonSuspend},
		{"account temporarily suspended", "554 This account has been temporarily suspended", ReasonSuspend},
		{"mailbox currently suspended", "550 mailbox currently suspended", ReasonSuspend},
		// Not Postfix's phrase: "delivery" and "suspended" apart.
		{"delivery to suspended", "550 delivery to this suspended account is not possible", ReasonSuspend},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ClassifyText(c.text); got != c.want {
				t.Errorf("ClassifyText(%q) = %s, want %s", c.text, got, c.want)
			}
			if f := ClassifyReply(0, EnhancedCode{}, c.text); f.Reason != c.want {
				t.Errorf("ClassifyReply(%q) = %s, want %s", c.text, f.Reason, c.want)
			}
		})
	}

	// The phrase wrapped over two lines of a reply, as a bounce's text
	// part folds it.
	f := ClassifyReply(0, EnhancedCode{}, "delivery temporarily\n   suspended: connect to mx.example.org[192.0.2.1]:25: Connection refused")
	if f.Reason != ReasonNetworkError {
		t.Errorf("wrapped phrase: %s, want networkerror", f.Reason)
	}
}

// TestClassifyUserUnknownUnder521: "User Unknown" under 5.2.1 (mailbox
// disabled) is userunknown when the reply answered RCPT TO; a reply whose
// command is unknown keeps the code's suspend, and so does one after the
// data.
func TestClassifyUserUnknownUnder521(t *testing.T) {
	const line = "<x@example.jp>... User Unknown"
	cases := []struct {
		name  string
		stage Stage
		line  string
		want  Reason
		hard  bool
	}{
		{"rcpt", StageRcpt, line, ReasonUserUnknown, true},
		{"rcpt no such user", StageRcpt, "No such user here", ReasonUserUnknown, true},
		{"rcpt user not found", StageRcpt, "<x@example.jp>: user not found", ReasonUserUnknown, true},
		{"unknown stage", StageUnknown, line, ReasonSuspend, false},
		{"after data", StageDataEnd, line, ReasonSuspend, false},
		// Gmail's own 5.2.1 texts keep their meaning.
		{"gmail disabled", StageRcpt, "The email account that you tried to reach is disabled. Learn more at https://support.google.com/mail/?p=DisabledUser", ReasonSuspend, false},
		{"gmail rate", StageRcpt, "The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.", ReasonSpeeding, false},
		// About our sender: never a hard bounce.
		{"sender", StageRcpt, "<bounce@example.net>: Sender address rejected: User unknown", ReasonRejected, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &SMTPError{Code: 550, EnhancedCode: EnhancedCode{5, 2, 1}, Stage: c.stage, Line: c.line, Permanent: true}
			f := Classify(e)
			if f.Reason != c.want || f.HardBounce() != c.hard {
				t.Errorf("Classify(%v) = %s, hard %v; want %s, hard %v", e, f.Reason, f.HardBounce(), c.want, c.hard)
			}
		})
	}

	// In a bounce, the text says which command the reply answered.
	texts := []struct {
		name, diag string
		want       Reason
	}{
		{"exim", "SMTP error from remote mail server after RCPT TO:<x@example.jp>: host mx.example.jp [192.0.2.153]: 550 5.2.1 <x@example.jp>... User Unknown", ReasonUserUnknown},
		{"postfix", "host mx.example.jp[192.0.2.153] said: 550 5.2.1 <x@example.jp>... User Unknown (in reply to RCPT TO command)", ReasonUserUnknown},
		{"postfix after data", "host mx.example.jp[192.0.2.153] said: 550 5.2.1 <x@example.jp>... User Unknown (in reply to end of DATA command)", ReasonSuspend},
		{"bare", "smtp; 550 5.2.1 <x@example.jp>... User Unknown", ReasonSuspend},
	}
	for _, c := range texts {
		t.Run(c.name, func(t *testing.T) {
			if f := ClassifyReply(550, EnhancedCode{5, 2, 1}, c.diag); f.Reason != c.want {
				t.Errorf("ClassifyReply(%q) = %s, want %s", c.diag, f.Reason, c.want)
			}
		})
	}
}

// TestClassifyExchangeOnline541: Exchange Online's directory based edge
// blocking refuses a recipient that is not in the tenant with "550 5.4.1
// Recipient address rejected: Access denied": an unknown user, a hard
// bounce. The same words under another code (Postfix's access(5) REJECT)
// are a policy, not proof that the address is gone.
func TestClassifyExchangeOnline541(t *testing.T) {
	cases := []struct {
		name, reply string
		want        Reason
		hard        bool
	}{
		{"with AS code", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [BN8NAM12FT053.eop-nam12.prod.protection.outlook.com 2026-11-29T22:00:00.000Z 08DCD1234]", ReasonUserUnknown, true},
		{"older, with address", "550 5.4.1 [x@example.org]: Recipient address rejected: Access denied [CY1GCC01FT007.eop-gcc01.prod.protection.outlook.com]", ReasonUserUnknown, true},
		{"as a diagnostic", "smtp; 550 5.4.1 Recipient address rejected: Access denied [AM4PEPF00027A5F.eurprd04.prod.outlook.com]", ReasonUserUnknown, true},
		{"postfix access reject", "554 5.7.1 <x@example.org>: Recipient address rejected: Access denied", ReasonSecurityError, false},
		{"5.4.1 no answer", "451 4.4.1 No answer from host", ReasonNetworkError, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ClassifyReply(0, EnhancedCode{}, c.reply)
			if f.Reason != c.want || f.HardBounce() != c.hard {
				t.Errorf("ClassifyReply(%q) = %s, hard %v; want %s, hard %v", c.reply, f.Reason, f.HardBounce(), c.want, c.hard)
			}
		})
	}
}

// TestParseReplyQuotedGreeting: a diagnostic that quotes the session from
// the greeting on is parsed from its first failing reply; a positive reply
// never decides a failure.
func TestParseReplyQuotedGreeting(t *testing.T) {
	cases := []struct {
		name, text string
		code       int
		enh        string
		line       string
		reason     Reason
		perm       bool
	}{
		{"greeting then rcpt", "220 mx.example.org ESMTP Postfix\r\n550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table",
			550, "5.1.1", "<x@example.org>: Recipient address rejected: User unknown in local recipient table", ReasonUserUnknown, true},
		{"diagnostic type", "smtp; 220 mx.example.org ESMTP\n250 mx.example.org\n550 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
			550, "5.7.1", "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", ReasonBlocked, true},
		{"multi-line greeting, 421", "220-mx.example.org ESMTP\n220 welcome\n421 4.7.0 mx.example.org Error: too many connections from 192.0.2.1",
			421, "4.7.0", "mx.example.org Error: too many connections from 192.0.2.1", ReasonTooManyConn, false},
		{"indented failure", "220 mx.example.org ESMTP\n    550 5.1.1 User unknown",
			550, "5.1.1", "User unknown", ReasonUserUnknown, true},
		{"folded into one line", "220 mx.example.org ESMTP Sendmail ready 550 5.1.1 <x@example.org>... User unknown",
			550, "5.1.1", "<x@example.org>... User unknown", ReasonUserUnknown, true},
		// A number in the greeting's text is no reply code: without an
		// enhanced code of its class it is not taken.
		{"number in greeting", "220 mx.example.org ESMTP 450 messages today",
			220, "", "mx.example.org ESMTP 450 messages today", ReasonDelivered, false},
		{"delivered", "250 2.0.0 Ok: queued as 4ABCD",
			250, "2.0.0", "Ok: queued as 4ABCD", ReasonDelivered, false},
		{"failure first", "550 5.1.1 User unknown\n221 2.0.0 Bye",
			550, "5.1.1", "User unknown", ReasonUserUnknown, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := ParseReply(c.text)
			if e.Code != c.code || e.EnhancedCode.String() != c.enh || e.Line != c.line {
				t.Errorf("ParseReply(%q) = code %d, enhanced %q, line %q; want %d, %q, %q", c.text, e.Code, e.EnhancedCode, e.Line, c.code, c.enh, c.line)
			}
			f := ClassifyReply(0, EnhancedCode{}, c.text)
			if f.Reason != c.reason || f.Permanent != c.perm {
				t.Errorf("ClassifyReply(%q) = %s, permanent %v; want %s, %v", c.text, f.Reason, f.Permanent, c.reason, c.perm)
			}
		})
	}

	// Only a greeting in the text, and a failing Status: the status
	// decides, not the greeting's 220.
	f := ClassifyReply(0, EnhancedCode{5, 1, 1}, "220 mx.example.org ESMTP")
	if f.Code != 0 || f.Reason != ReasonUserUnknown || !f.Permanent {
		t.Errorf("greeting under 5.1.1: code %d, %s, permanent %v; want 0, userunknown, true", f.Code, f.Reason, f.Permanent)
	}
	f = ClassifyReply(0, EnhancedCode{4, 4, 1}, "220 mx.example.org ESMTP")
	if f.Code != 0 || f.Reason != ReasonNetworkError || f.Permanent {
		t.Errorf("greeting under 4.4.1: code %d, %s, permanent %v; want 0, networkerror, false", f.Code, f.Reason, f.Permanent)
	}
	// A delivered status with its 250 keeps it.
	f = ClassifyReply(0, EnhancedCode{2, 0, 0}, "250 2.0.0 Ok")
	if f.Code != 250 || f.Reason != ReasonDelivered {
		t.Errorf("delivered: code %d, %s; want 250, delivered", f.Code, f.Reason)
	}
}

// TestClassifyMailerTexts: the words MTAs write for a local delivery
// program that failed are mailererror under their generic statuses, and
// the expired texts still win when the queue gave up on one.
func TestClassifyMailerTexts(t *testing.T) {
	cases := []struct {
		name, text string
		status     EnhancedCode
		want       Reason
		perm       bool
	}{
		// Exim's pipe transport (transports/pipe.c) and its bounce.
		{"exim pipe", "local delivery failed", EnhancedCode{5, 0, 0}, ReasonMailerError, true},
		{"exim pipe delayed", "Delay reason: local delivery failed", EnhancedCode{4, 0, 0}, ReasonMailerError, false},
		{"exim pipe gave up", "local delivery failed: retry timeout exceeded", EnhancedCode{5, 0, 0}, ReasonExpired, true},
		// OpenSMTPD's MDA child with a non-zero exit status (smtpd.c).
		{"opensmtpd mda", "exited abnormally", EnhancedCode{5, 3, 0}, ReasonMailerError, true},
		{"opensmtpd mda tempfail", "exited abnormally", EnhancedCode{4, 3, 0}, ReasonMailerError, false},
		// sisimai's systemerror table.
		{"drd", "451 Could not load DRD for domain (example.com) rcpt (x@example.com)", EnhancedCode{4, 0, 0}, ReasonSystemError, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ClassifyReply(0, c.status, c.text)
			if f.Reason != c.want || f.Permanent != c.perm {
				t.Errorf("ClassifyReply(0, %s, %q) = %s, permanent %v; want %s, %v", c.status, c.text, f.Reason, f.Permanent, c.want, c.perm)
			}
		})
	}
}

// TestClassifyJapanese: Domino's and Notes' Japanese texts for a recipient
// their directory does not have, as package report decodes them, are
// userunknown like their English ones.
func TestClassifyJapanese(t *testing.T) {
	for _, text := range []string{
		"ユーザーNeko (kijitora@example.co.jp) は Domino ディレクトリには見つかりません。",
		"User Neko (kijitora@example.co.jp) not listed in Domino Directory",
		"ディレクトリのリストにありません kijitora@example.co.jp",
		"User  not listed in public Name & Address Book",
	} {
		if got := ClassifyText(text); got != ReasonUserUnknown {
			t.Errorf("ClassifyText(%q) = %s, want userunknown", text, got)
		}
		if f := ClassifyReply(550, EnhancedCode{5, 1, 1}, text); f.Reason != ReasonUserUnknown || !f.HardBounce() {
			t.Errorf("ClassifyReply(550, 5.1.1, %q) = %s, hard %v; want userunknown, hard", text, f.Reason, f.HardBounce())
		}
	}
	// Another Japanese text is no unknown user.
	if got := ClassifyText("エラー(テストメッセージとしての)"); got != ReasonUndefined {
		t.Errorf("unrelated Japanese text: %s", got)
	}
}
