package bounce

import (
	"strings"
	"testing"
)

// Addresses echoed in a reply are not words of the reply: a localpart or
// domain that happens to be a phrase must not decide the reason.
func TestClassifyAddressesAreNotWords(t *testing.T) {
	words := []string{"virus", "spamtrap", "spam", "greylist", "reputation", "dnsbl", "spamhaus", "blocked", "quota", "full", "mailbox.full", "rate-limit", "sender.verify", "relaying", "timeout", "disabled"}
	// Each form echoes the word as an address; the reply says user unknown.
	forms := []string{
		"550 5.1.1 <%s@example.org>: Recipient address rejected: User unknown in local recipient table",
		"550 5.1.1 <%s@example.org>: Recipient address rejected: User unknown",
		"550 5.1.1 %s@example.org: Recipient address rejected: User unknown",
		"550 5.1.1 Recipient address rejected: User unknown (%s@example.org)",
		"550 5.1.1 User unknown: %s@example.org",
		"550 5.1.1 <x@%s.example.org>: User unknown",
		"550 5.1.1 <%s>: Recipient address rejected: User unknown",
		"550 5.1.1 <\"%s\"@example.org>: User unknown",
		"550 5.1.1 <\"the %s box\"@example.org>: User unknown",
		"550 5.1.1 RCPT TO:%s@example.org User unknown",
		"550 User unknown: %s@example.org",
		"550 %s@example.org... User unknown",
		"550-Verification failed for <%s@example.org>\n550 User unknown",
	}
	for _, w := range words {
		for _, form := range forms {
			reply := strings.ReplaceAll(form, "%s", w)
			f := ClassifyReply(0, EnhancedCode{}, reply)
			if f.Reason != ReasonUserUnknown || !f.Permanent || !f.HardBounce() {
				t.Errorf("%q: reason %s, permanent %v, hard bounce %v; want userunknown, a hard bounce", reply, f.Reason, f.Permanent, f.HardBounce())
			}
		}
	}

	// The words of the reply itself still count, also next to an address,
	// and host names and URLs outside angle brackets are words.
	cases := []struct {
		reply  string
		reason Reason
	}{
		{"550 5.7.1 <x@example.org>: virus found in message", ReasonVirusDetected},
		{"554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org", ReasonBlocked},
		{"554 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.225", ReasonBlocked},
		{"550 Rejected: see <https://www.spamhaus.org/query/ip/192.0.2.1>", ReasonBlocked},
		{"552 5.2.2 <full@example.org>: mailbox full", ReasonMailboxFull},
		{"450 4.2.0 <greylist@example.org>: Recipient address rejected: Greylisted", ReasonOnHold},
		{"550 \"User unknown\" for this address", ReasonUserUnknown},
		{"550 5.1.7 <virus@example.org>: Sender address rejected: undeliverable address: unknown user: \"virus\"", ReasonRejected},
		{"504 5.5.2 <x@localhost>: Sender address rejected: need fully-qualified address", ReasonRejected},
		{"550 permanent failure for one or more recipients (x@example.org:blocked)", ReasonBlocked},
	}
	for _, c := range cases {
		if f := ClassifyReply(0, EnhancedCode{}, c.reply); f.Reason != c.reason {
			t.Errorf("%q: reason %s, want %s", c.reply, f.Reason, c.reason)
		}
	}
}

func TestInAddress(t *testing.T) {
	cases := []struct {
		line string
		word string // The first occurrence is tested.
		want bool
	}{
		{"<virus@example.org>: User unknown", "virus", true},
		{"<x@virus.example.org>: User unknown", "virus", true},
		{"to virus@example.org failed", "virus", true},
		{"(a.virus@example.org)", "virus", true},
		{"<virus>: User unknown", "virus", true},
		{"<helo.example>: Helo command rejected", "helo.example", true},
		{"\"the virus box\"@example.org unknown", "virus", true},
		{"virus found", "virus", false},
		{"\"virus found\" in <x@example.org>", "virus", false},
		{"unknown user: \"virus\"", "virus", true},
		{"blocked using zen.spamhaus.org", "spamhaus", false},
		{"see <https://www.spamhaus.org/q>", "spamhaus", false},
		{"x@example.org:blocked", "blocked", false},
	}
	for _, c := range cases {
		i := strings.Index(c.line, c.word)
		if got := inAddress(c.line, i); got != c.want {
			t.Errorf("inAddress(%q, %q) = %v, want %v", c.line, c.word, got, c.want)
		}
	}
}

// A reply about us (our client, HELO, sender or rate) is never a hard
// bounce of the recipient, whatever its code. The texts are the documented
// reject texts of the MTAs named, in variants: other codes, other wording
// around them, other addresses.
func TestClassifyAboutUsNeverHardBounce(t *testing.T) {
	cases := []struct {
		mta    string
		reply  string
		reason Reason
	}{
		// Postfix reject_unverified_sender: the probe's status, often 5.1.1,
		// and the remote reply about the sender quoted after it.
		{"postfix", "550 5.1.1 <s@example.com>: Sender address rejected: undeliverable address: host mx.example.com[192.0.2.3] said: 550 5.1.1 <s@example.com>: Recipient address rejected: User unknown in local recipient table", ReasonRejected},
		{"postfix", "550 5.1.1 <s@example.com>: Sender address rejected: undeliverable address: unknown user: \"s\"", ReasonRejected},
		{"postfix", "450 4.1.1 <s@example.com>: Sender address rejected: unverified address: host mx.example.com said: 550 5.1.1 User unknown", ReasonRejected},
		{"postfix", "550 5.1.2 <s@nonexistent.example>: Sender address rejected: undeliverable address: Host or domain name not found. Name service error for name=nonexistent.example type=MX: Host not found", ReasonRejected},
		{"postfix", "550 5.4.4 <s@example.com>: Sender address rejected: undeliverable address: unknown mail transport error", ReasonRejected},
		// Postfix reject_unknown_sender_domain and reject_unlisted_sender.
		{"postfix", "550 5.1.8 <s@nonexistent.example>: Sender address rejected: Domain not found", ReasonRejected},
		{"postfix", "553 5.1.2 <s@nonexistent.example>: Sender address rejected: Domain not found", ReasonRejected},
		{"postfix", "550 5.1.1 <s@example.com>: Sender address rejected: User unknown in local recipient table", ReasonRejected},
		{"postfix", "550 5.1.0 <s@example.com>: Sender address rejected: User unknown in virtual mailbox table", ReasonRejected},
		{"postfix", "550 5.1.1 <s@example.com>: Sender address rejected: Access denied", ReasonRejected},
		// Postfix client and HELO restrictions under recipient-looking codes.
		{"postfix", "550 5.1.1 Client host rejected: cannot find your hostname, [192.0.2.9]", ReasonRequirePTR},
		{"postfix", "550 5.1.2 Client host rejected: cannot find your reverse hostname, [192.0.2.9]", ReasonRequirePTR},
		{"postfix", "550 5.1.2 <unknown[192.0.2.9]>: Client host rejected: Access denied", ReasonBlocked},
		{"postfix", "550 5.1.2 <mail.example.com>: Helo command rejected: Host not found", ReasonBlocked},
		{"postfix", "550 Helo command rejected: Host not found", ReasonBlocked},
		// Postfix postscreen: 5.3.2 is about our client, not a domain that
		// accepts no mail.
		{"postfix postscreen", "550 5.3.2 Service currently unavailable", ReasonBlocked},
		{"postfix postscreen", "550 5.3.2 Service unavailable", ReasonBlocked},
		{"postfix postscreen", "550 5.3.2", ReasonBlocked},
		{"postfix postscreen", "521 5.3.2 Service currently unavailable", ReasonBlocked},
		{"postfix postscreen", "521 5.3.2 mx.example.org Service currently unavailable", ReasonBlocked},
		// Postfix anvil rate limits under a 5.x code someone configured.
		{"postfix", "550 5.1.1 Error: too much mail from 192.0.2.9", ReasonSpeeding},
		{"postfix", "550 5.1.1 Error: too many recipients from 192.0.2.9", ReasonSpeeding},
		// Exim verify = sender, without and with enhanced codes.
		{"exim", "550-Verification failed for <s@nonexistent.example>\n550-Unrouteable address\n550 Sender verify failed", ReasonRejected},
		{"exim", "550-Verification failed for <s@example.com>\n550-Called:   192.0.2.3\n550-Sent:     RCPT TO:<s@example.com>\n550-Response: 550 5.1.1 <s@example.com>: Recipient address rejected: User unknown\n550 Sender verify failed", ReasonRejected},
		{"exim", "550 5.1.1 Sender verify failed", ReasonRejected},
		{"exim", "550 5.1.2 Unrouteable sender address", ReasonRejected},
		// Exim's documented ratelimit and HELO ACL texts.
		{"exim", "550 5.1.1 Sender rate exceeds 10 messages per 1h", ReasonSpeeding},
		{"exim", "550 5.1.2 Invalid HELO name (See RFC2821 4.1.1.1)", ReasonBlocked},
		{"exim", "550 5.1.2 Sender IP reverse lookup rejected", ReasonRequirePTR},
		// Sendmail check_mail.
		{"sendmail", "553 5.1.2 <s@nonexistent.example>... Domain of sender address s@nonexistent.example does not exist", ReasonRejected},
		{"sendmail", "550 5.1.1 <s@example.com>... Sender domain must exist", ReasonRejected},
		// RFC 7505 section 4.2: the sender's domain has a null MX.
		{"rfc 7505", "550 5.1.10 Sender address has null MX", ReasonRejected},
	}
	for _, c := range cases {
		for _, reply := range []string{c.reply, "smtp; " + c.reply} {
			f := ClassifyReply(0, EnhancedCode{}, reply)
			if f.HardBounce() {
				t.Errorf("%s %q: hard bounce with reason %s", c.mta, reply, f.Reason)
			}
			if f.Reason != c.reason {
				t.Errorf("%s %q: reason %s, want %s", c.mta, reply, f.Reason, c.reason)
			}
		}
	}

	// Replies about the recipient stay hard bounces, also when they echo a
	// word from the rules above.
	recipient := []string{
		"550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table",
		"550 5.1.1 <sender@example.org>: Recipient address rejected: User unknown",
		"550 5.1.1 <client.host@example.org>: Recipient address rejected: User unknown",
		"550 Unrouteable address",
		"550 5.1.2 <x@nonexistent.example>: Recipient address rejected: Domain not found",
		"521 5.3.2 mail.example.org does not accept mail",
		"556 5.1.10 Recipient address has null MX",
		"550 5.1.1 Mail from example.com to this user: User unknown",
	}
	for _, reply := range recipient {
		if f := ClassifyReply(0, EnhancedCode{}, reply); !f.HardBounce() {
			t.Errorf("%q: not a hard bounce (reason %s)", reply, f.Reason)
		}
	}
}

// Every about-us rule is reachable and valid, and no text rule that gives a
// hard-bounce reason comes before a strong rule the about-us rules rely on.
func TestAboutUsRules(t *testing.T) {
	for i, r := range aboutUsRules {
		if r.phrase == "" || r.phrase != strings.ToLower(r.phrase) || strings.TrimSpace(r.phrase) != r.phrase {
			t.Errorf("rule %d: bad phrase %q", i, r.phrase)
		}
		if hard := (Failure{Permanent: true, Code: 550, Reason: r.reason}).HardBounce(); hard {
			t.Errorf("rule %d %q: reason %s is a hard bounce", i, r.phrase, r.reason)
		}
		for j := 0; j < i; j++ {
			if strings.HasPrefix(r.phrase, aboutUsRules[j].phrase) {
				t.Errorf("rule %d %q is shadowed by rule %d %q", i, r.phrase, j, aboutUsRules[j].phrase)
			}
		}
	}
}

// The rules the live reply set led to, on variants of the texts: other
// addresses, codes, wording around them, and the forms that must not match.
func TestClassifyLiveRuleVariants(t *testing.T) {
	cases := []struct {
		reply  string
		reason Reason
		perm   bool
		hard   bool
	}{
		// Postfix postscreen: X.3.2 is about our client, under 521 too.
		{"521 5.3.2 Service currently unavailable", ReasonBlocked, true, false},
		{"521 5.3.2 mx.example.org Service currently unavailable", ReasonBlocked, true, false},
		{"550 5.3.2 Service currently unavailable", ReasonBlocked, true, false},
		{"421 4.3.2 All server ports are busy", ReasonNotAccept, false, false},
		{"521 5.3.2 mail.example.org does not accept mail", ReasonNotAccept, true, true},
		{"521 5.3.2 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org", ReasonBlocked, true, false},
		{"521 5.3.2 Too many connections from 192.0.2.1", ReasonTooManyConn, true, false},
		// Postfix "Sender address rejected" under any code.
		{"504 5.5.2 <x@localhost>: Sender address rejected: need fully-qualified address", ReasonRejected, true, false},
		{"501 5.1.7 <x@@example.net>: Sender address rejected: bad address syntax", ReasonRejected, true, false},
		{"550 5.1.7 <quota@example.org>: Sender address rejected: undeliverable address: unknown user: \"quota\"", ReasonRejected, true, false},
		{"450 4.1.7 <x@example.org>: Sender address rejected: unverified address: Address verification in progress", ReasonRejected, false, false},
		{"550 5.7.27 <x@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)", ReasonRejected, true, false},
		{"556 5.7.27 <x@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)", ReasonRejected, true, false},
		// Postfix anvil.
		{"450 4.7.1 Error: too much mail from 192.0.2.1", ReasonSpeeding, false, false},
		{"450 4.7.1 Error: too many recipients from 192.0.2.1", ReasonSpeeding, false, false},
		{"452 4.5.3 Error: too many recipients", ReasonTooManyConn, false, false},
		// Exim and Debian's exim4-config.
		{"451 Sender rate exceeds 10 messages per 1h", ReasonSpeeding, false, false},
		{"550 Sender verification failed", ReasonRejected, true, false},
		{"550-Verification failed for <spamtrap@example.net>\n550-all relevant MX records point to non-existent hosts\n550 Sender verification failed", ReasonRejected, true, false},
		{"550-sender envelope address spam@example.net is locally blacklisted here. If\n550 you think this is wrong, get in touch with postmaster", ReasonRejected, true, false},
		{"550-sender IP address 192.0.2.1 is locally blacklisted here. If you think this\n550 is wrong, get in touch with postmaster", ReasonBlocked, true, false},
		// OpenSMTPD.
		{"524 5.2.4 Mailing list expansion problem: <bob@example.org>", ReasonUserUnknown, true, true},
		{"524 5.2.4 Mailing list expansion problem: <virus@example.org>", ReasonUserUnknown, true, true},
		{"424 4.2.4 Mailing list expansion problem: <bob@example.org>", ReasonUserUnknown, false, false},
		{"550 Invalid recipient: <alice@example.org>", ReasonNoRelaying, true, false},
		{"550 Invalid recipient: <spamtrap@example.com>", ReasonNoRelaying, true, false},
		{"550 5.1.1 Invalid recipient: <bob@example.org>", ReasonUserUnknown, true, true},
		{"550 Invalid recipient", ReasonUserUnknown, true, true},
		{"550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550", ReasonUserUnknown, true, true},
		{"550 no FCrDNS", ReasonRequirePTR, true, false},
		{"550 no rDNS, go away", ReasonRequirePTR, true, false},
		{"550 your IP address is not allowed to send mail here", ReasonBlocked, true, false},
		{"550 Your IP has been blocked", ReasonBlocked, true, false},
		{"550 your HELO name is not allowed", ReasonBlocked, true, false},
		{"554 5.3.4 Message too big for system: Transaction failed, message too big", ReasonMesgTooBig, true, false},
	}
	for _, c := range cases {
		f := ClassifyReply(0, EnhancedCode{}, c.reply)
		if f.Reason != c.reason || f.Permanent != c.perm || f.HardBounce() != c.hard {
			t.Errorf("%q: reason %s, permanent %v, hard bounce %v; want %s, %v, %v", c.reply, f.Reason, f.Permanent, f.HardBounce(), c.reason, c.perm, c.hard)
		}
	}
}

// Every about-us phrase, under every recipient-looking code, with addresses
// echoed around it, is never a hard bounce; and the recipient-side texts
// under the same codes, with the same addresses, still are.
func TestClassifyAboutUsUnderAnyCode(t *testing.T) {
	codes := []string{"550", "550 5.1.1", "550 5.1.2", "553 5.1.3", "550 5.1.6", "550 5.1.10", "550 5.3.2", "521 5.3.2", "556 5.1.10", "551 5.1.6", "554", "521"}
	addrs := []string{"", "<x@example.org>: ", "<spam@example.net>: ", "x@example.org ", "\"virus\"@example.net "}
	for _, r := range aboutUsRules {
		for _, code := range codes {
			for _, a := range addrs {
				for _, tail := range []string{"", " User unknown", ": Domain not found", "; Host not found"} {
					reply := code + " " + a + strings.ToUpper(r.phrase[:1]) + r.phrase[1:] + tail
					if f := ClassifyReply(0, EnhancedCode{}, reply); f.HardBounce() {
						t.Errorf("%q: hard bounce, reason %s", reply, f.Reason)
					}
				}
			}
		}
	}
	for _, code := range []string{"550 5.1.1", "550"} {
		for _, a := range addrs {
			for _, text := range []string{"User unknown", "No such user", "Mailbox does not exist"} {
				reply := code + " " + a + text
				if f := ClassifyReply(0, EnhancedCode{}, reply); !f.HardBounce() {
					t.Errorf("%q: not a hard bounce, reason %s", reply, f.Reason)
				}
			}
		}
	}
}
