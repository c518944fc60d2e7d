package bounce

import (
	"bytes"
	"sort"
	"strings"
)

// Text heuristics: phrases real MTAs put in their replies, in priority order.
// The first rule in this list that matches anywhere in the reply wins, so
// specific phrases come before general ones ("spamhaus" before "spam",
// "connection rate limit" before "rate limit", "sender address rejected"
// before "domain not found", "domain does not exist" before "does not
// exist").
//
// A phrase matches case-insensitively (ASCII), only at the start of a word
// (so "locked" does not match inside "blocked"), and a space in a phrase
// matches any run of spaces and tabs. Matching does not allocate and uses no
// regular expressions: one pass over the text, trying only the phrases that
// start with the byte at hand.
//
// Strong rules are distinctive enough to override a specific enhanced code
// (see Classify); weak rules only decide when the enhanced code is absent or
// generic.

type textRule struct {
	phrase string // Lower case ASCII.
	reason Reason
	strong bool
	detail Detail
}

// textRules is read-only.
var textRules = [...]textRule{
	// Strong. Message format: Gmail "not RFC 5322 compliant", Microsoft 5.7.512.
	{"rfc 5322", ReasonNotCompliantRFC, true, ""},
	{"rfc5322", ReasonNotCompliantRFC, true, ""},
	{"rfc 2822", ReasonNotCompliantRFC, true, ""},
	{"rfc2822", ReasonNotCompliantRFC, true, ""},
	{"multiple addresses in from", ReasonNotCompliantRFC, true, ""},

	// Spam verdicts that go on to mention sender authentication: Google
	// Groups "rejected due to spam classification" explains DMARC and SPF.
	{"spam classification", ReasonSpamDetected, true, ""},

	// Sender authentication, before spam: Gmail's SPF and DMARC texts go on
	// about protecting users from spam.
	{"dmarc", ReasonAuthFailure, true, ""},
	{"spf", ReasonAuthFailure, true, ""},
	{"dkim", ReasonAuthFailure, true, ""},
	{"sender policy framework", ReasonAuthFailure, true, ""},
	{"unauthenticated email", ReasonAuthFailure, true, ""},
	{"authentication checks", ReasonAuthFailure, true, ""},

	// Reverse DNS of the sending IP.
	{"ptr record", ReasonRequirePTR, true, ""},
	{"ptr resource record", ReasonRequirePTR, true, ""},
	{"dns ptr", ReasonRequirePTR, true, ""},
	{"missing ptr", ReasonRequirePTR, true, ""},
	{"no ptr", ReasonRequirePTR, true, ""},
	{"reverse dns", ReasonRequirePTR, true, ""},
	{"rdns", ReasonRequirePTR, true, ""},
	{"fcrdns", ReasonRequirePTR, true, ""}, // Forward-confirmed reverse DNS, e.g. OpenSMTPD's builtin filter.
	{"reverse lookup", ReasonRequirePTR, true, ""},
	{"reverse hostname", ReasonRequirePTR, true, ""}, // Postfix reject_unknown_reverse_client_hostname.
	{"cannot find your hostname", ReasonRequirePTR, true, ""},
	{"ip name lookup failed", ReasonRequirePTR, true, ""}, // Sendmail.
	{"mismatches client ip", ReasonRequirePTR, true, ""},

	// A local block list of envelope senders, before the block lists of
	// client addresses: Debian exim4-config's "sender envelope address
	// x@example.net is locally blacklisted here".
	{"sender envelope address", ReasonRejected, true, ""},

	// HCL (Lotus) Domino and Notes name a recipient their directory does
	// not have, also in their Japanese localizations, which package report
	// decodes from ISO-2022-JP and Shift_JIS. The texts are those of
	// sisimai's Lhost/Domino.pm and Lhost/Notes.pm. Strong, and before
	// the block lists, whose "listed in" they contain.
	{"not listed in domino directory", ReasonUserUnknown, true, ""},
	{"not listed in public name & address book", ReasonUserUnknown, true, ""},
	{"domino ディレクトリには見つかりません", ReasonUserUnknown, true, ""},
	{"ディレクトリのリストにありません", ReasonUserUnknown, true, ""},

	// Block lists, before reputation ("blocked using Barracuda Reputation")
	// and spam ("spamhaus").
	{"blacklisted url", ReasonSpamDetected, true, ""}, // URIBL: the content, not our IP.
	{"blacklisted link", ReasonSpamDetected, true, ""},
	{"spamhaus", ReasonBlocked, true, ""},
	{"spamcop", ReasonBlocked, true, ""},
	{"sorbs", ReasonBlocked, true, ""},
	{"barracudacentral", ReasonBlocked, true, ""},
	{"uceprotect", ReasonBlocked, true, ""},
	{"abuseat", ReasonBlocked, true, ""},
	{"blocked using", ReasonBlocked, true, ""},
	{"dnsbl", ReasonBlocked, true, ""},
	{"rbl", ReasonBlocked, true, ""},
	{"blacklist", ReasonBlocked, true, ""},
	{"black list", ReasonBlocked, true, ""},
	{"blocklist", ReasonBlocked, true, ""},
	{"block list", ReasonBlocked, true, ""},
	{"listed at", ReasonBlocked, true, ""},
	{"listed in", ReasonBlocked, true, ""},
	{"listed on", ReasonBlocked, true, ""},
	{"banned sending ip", ReasonBlocked, true, ""}, // Microsoft 5.7.606.
	{"banned sender", ReasonBlocked, true, ""},
	{"not authorized to send email directly", ReasonBlocked, true, ""}, // Gmail: dynamic IPs.
	{"traffic not accepted", ReasonBlocked, true, ""},                  // Microsoft 5.7.708.
	{"host network not allowed", ReasonBlocked, true, ""},              // Mimecast.

	{"reputation", ReasonBadReputation, true, ""},
	{"complaints", ReasonBadReputation, true, ""}, // Yahoo TSS04.

	{"virus", ReasonVirusDetected, true, ""},
	{"malware", ReasonVirusDetected, true, ""},
	{"infected", ReasonVirusDetected, true, ""},
	{"trojan", ReasonVirusDetected, true, ""},
	{"potential security issue", ReasonVirusDetected, true, ""}, // Gmail 5.7.0 attachments.

	{"spam", ReasonSpamDetected, true, ""},
	{"unsolicited", ReasonSpamDetected, true, ""},
	{"ube", ReasonSpamDetected, true, ""},
	{"bulk mail", ReasonSpamDetected, true, ""},
	{"junk mail", ReasonSpamDetected, true, ""},
	{"mail flood", ReasonSpamDetected, true, ""},
	{"message content rejected", ReasonSpamDetected, true, ""},

	// Rate limits. "recipients this hour" before "too many recipients",
	// "connection rate limit" before "rate limit".
	{"recipients this hour", ReasonSpeeding, true, ""}, // GoDaddy, under 5.1.1.
	{"connection rate limit", ReasonTooManyConn, true, ""},
	{"too many connections", ReasonTooManyConn, true, ""},
	{"too many concurrent", ReasonTooManyConn, true, ""},
	{"too many simultaneous", ReasonTooManyConn, true, ""},
	{"connection limit", ReasonTooManyConn, true, ""},
	{"frequency limited", ReasonTooManyConn, true, ""}, // Tencent QQ.
	// Postfix anvil's smtpd_client_recipient_rate_limit and
	// smtpd_client_message_rate_limit: "Error: too many recipients from
	// 192.0.2.1", "Error: too much mail from 192.0.2.1"; a rate, not a
	// transaction's recipient count.
	{"too many recipients from", ReasonSpeeding, true, ""},
	{"too much mail", ReasonSpeeding, true, ""},
	{"too many recipients", ReasonTooManyConn, true, DetailTooManyRecipients},
	{"too many rcpt", ReasonTooManyConn, true, DetailTooManyRecipients},
	{"rate limit", ReasonSpeeding, true, ""},
	{"sender rate", ReasonSpeeding, true, ""},                // Exim's documented ratelimit ACL: "Sender rate exceeds".
	{"receiving mail too quickly", ReasonSpeeding, true, ""}, // Gmail 4.2.1.
	{"receiving mail at a rate", ReasonSpeeding, true, ""},   // Gmail 4.2.1 and 5.2.1.
	{"too many messages", ReasonSpeeding, true, ""},
	{"sending rate", ReasonSpeeding, true, ""},
	{"sending limit", ReasonSpeeding, true, ""},
	{"sending quota", ReasonSpeeding, true, ""},
	{"message quota", ReasonSpeeding, true, ""}, // Amazon SES "Daily message quota exceeded".
	{"relay limit", ReasonSpeeding, true, ""},
	{"daily limit", ReasonSpeeding, true, ""},
	{"throttl", ReasonSpeeding, true, ""},
	{"too fast", ReasonSpeeding, true, ""},

	// A full mailbox under a code that says otherwise: "552 sorry, mailbox
	// ... is over quota temporarily (#5.1.1)". After the rate limits, which
	// have "sending quota".
	{"over quota", ReasonMailboxFull, true, ""},

	// Greylisting: the receiver has not decided yet; retry in minutes.
	{"greylist", ReasonOnHold, true, DetailGreylisted},
	{"graylist", ReasonOnHold, true, DetailGreylisted},
	{"grey-list", ReasonOnHold, true, DetailGreylisted},
	{"gray-list", ReasonOnHold, true, DetailGreylisted},
	{"grey list", ReasonOnHold, true, DetailGreylisted},
	{"gray list", ReasonOnHold, true, DetailGreylisted},
	{"postgrey", ReasonOnHold, true, DetailGreylisted},
	{"not yet authorized", ReasonOnHold, true, DetailGreylisted}, // greylistd.

	// Postfix names the address in every sender restriction's reply
	// ("<x>: Sender address rejected: need fully-qualified address" under
	// 504 5.5.2, "... undeliverable address" under 5.1.7 or 5.1.1): our
	// envelope sender, whatever the code.
	{"sender address rejected", ReasonRejected, true, ""},

	{"recipient preferences", ReasonFiltered, true, ""}, // Facebook, under 5.1.1.

	// OpenSMTPD answers a recipient its alias or virtual table cannot
	// expand, an unknown user, with "524 5.2.4 Mailing list expansion
	// problem: <x@example.org>", the registry's text for X.2.4.
	{"mailing list expansion problem", ReasonUserUnknown, true, ""},

	// Microsoft uses 5.1.10 (null MX in the registry) for unknown recipients,
	// and 5.4.1 with AS(201806281) for directory based edge blocking of
	// unknown recipients.
	{"recipientnotfound", ReasonUserUnknown, true, ""},
	{"recipient not found", ReasonUserUnknown, true, ""},
	{"as(201806281)", ReasonUserUnknown, true, ""},

	// The recipient's domain has a null MX or no mail exchanger; under a
	// specific code (qmail's 5.4.4, Sendmail's 5.7.27 for a null MX).
	{"couldn't find a mail exchanger", ReasonNotAccept, true, ""}, // qmail.
	{"host does not accept mail", ReasonNotAccept, true, ""},      // Sendmail.
	{"no smtp service", ReasonNotAccept, true, ""},                // Exim: "an MX or SRV record indicated no SMTP service".
	{"no mx found", ReasonNotAccept, true, ""},                    // OpenSMTPD.
	{"no mx record found", ReasonNotAccept, true, ""},             // Yahoo.

	// The DNS server answered badly: a lookup failure, not proof that the
	// domain does not exist, even under Postfix's 5.4.4 (unable to route).
	{"malformed or unexpected name server reply", ReasonNetworkError, true, ""},
	// "Host not found, try again" is the resolver's TRY_AGAIN (h_errno: no
	// authoritative answer, or SERVFAIL), as Postfix's dns_strerror and
	// hstrerror word it: the lookup failed for now, the domain may well
	// exist (sisimai's NetworkError table has the phrase).
	{"host not found, try again", ReasonNetworkError, true, ""},

	{"header error", ReasonPolicyViolation, true, ""},   // Sendmail and Exim header checks, under 5.7.9 and 5.7.0.
	{"policy reasons", ReasonPolicyViolation, true, ""}, // Yahoo, under 5.7.9.
	{"policy violation", ReasonPolicyViolation, true, ""},
	{"policy rejection", ReasonPolicyViolation, true, ""},
	{"policy restrictions", ReasonPolicyViolation, true, ""},
	{"local policy", ReasonPolicyViolation, true, ""},
	{"organization policy", ReasonPolicyViolation, true, ""},
	{"email policy", ReasonPolicyViolation, true, ""},
	{"security policies", ReasonPolicyViolation, true, ""},
	{"policy that prohibited", ReasonPolicyViolation, true, ""},
	{"violates", ReasonPolicyViolation, true, ""},
	{"administrative prohibition", ReasonPolicyViolation, true, ""}, // Exim, Mimecast.
	{"anti-spoofing", ReasonPolicyViolation, true, ""},
	{"illegal attachment", ReasonPolicyViolation, true, ""},

	// Weak. Our HELO name or IP, before "host not found" which would
	// otherwise make a rejected HELO a hard bounce.
	{"helo command rejected", ReasonBlocked, false, ""},
	{"invalid helo", ReasonBlocked, false, ""},
	{"bad helo", ReasonBlocked, false, ""},
	{"my name was rejected", ReasonBlocked, false, ""}, // qmail: our HELO name.
	{"invalid ip for sending", ReasonBlocked, false, ""},
	{"smtp server of your isp", ReasonBlocked, false, ""}, // "Please use the smtp server of your ISP": dynamic IPs.
	{"client host rejected", ReasonBlocked, false, ""},
	{"your ip", ReasonBlocked, false, ""}, // Admins' filter texts, e.g. OpenSMTPD's builtin filters.
	{"your helo", ReasonBlocked, false, ""},

	{"account is blocked", ReasonSuspend, false, ""}, // Orange, before "blocked".
	{"disabled", ReasonSuspend, false, ""},
	{"suspended", ReasonSuspend, false, ""},
	{"inactive", ReasonSuspend, false, ""},
	{"deactivated", ReasonSuspend, false, ""},
	{"locked", ReasonSuspend, false, ""},
	{"frozen", ReasonSuspend, false, ""},

	{"no longer on server", ReasonHasMoved, false, ""},
	{"has moved", ReasonHasMoved, false, ""},

	{"mailbox full", ReasonMailboxFull, false, ""},
	{"mailbox is full", ReasonMailboxFull, false, ""},
	{"full mailbox", ReasonMailboxFull, false, ""},
	{"quota", ReasonMailboxFull, false, ""},
	{"mailbox exceeded", ReasonMailboxFull, false, ""}, // Biglobe: "messages in recipient's mailbox exceeded the local limit".
	{"mailbox exceeds", ReasonMailboxFull, false, ""},  // IMail: "User mailbox exceeds allowed size".
	{"mailfolder is full", ReasonMailboxFull, false, ""},
	{"storage allocation", ReasonMailboxFull, false, ""},
	{"exceeded storage", ReasonMailboxFull, false, ""},
	{"mailbox size limit", ReasonMailboxFull, false, ""},
	{"out of storage", ReasonMailboxFull, false, ""},

	// The envelope sender, before "domain not found" and "user unknown":
	// Postfix "Sender address rejected: Domain not found".
	{"sender rejected", ReasonRejected, false, ""},
	{"sender was rejected", ReasonRejected, false, ""},
	{"sender verify", ReasonRejected, false, ""},
	{"sender verification", ReasonRejected, false, ""}, // Debian exim4-config: "Sender verification failed".
	{"sender domain", ReasonRejected, false, ""},
	{"domain of sender address", ReasonRejected, false, ""},
	{"purported responsible address", ReasonRejected, false, ""},
	{"envelope sender", ReasonRejected, false, ""},
	{"badmailfrom", ReasonRejected, false, ""}, // qmail.
	{"invalid sender", ReasonRejected, false, ""},
	{"address is not verified", ReasonRejected, false, ""}, // Amazon SES.

	{"unroutable sender", ReasonRejected, false, ""},             // Exim.
	{"not a registered gateway user", ReasonRejected, false, ""}, // The sender is not allowed to use the gateway.
	{"customfromdenied", ReasonRejected, false, ""},              // Google Groups: the sender may not post.
	{"permission to post", ReasonRejected, false, ""},            // Google Groups.

	{"relay access denied", ReasonNoRelaying, false, ""},
	{"relaying", ReasonNoRelaying, false, ""},
	{"relay denied", ReasonNoRelaying, false, ""},
	{"relay not permitted", ReasonNoRelaying, false, ""},
	{"relay not allowed", ReasonNoRelaying, false, ""},
	{"not permitted to relay", ReasonNoRelaying, false, ""},
	{"unable to relay", ReasonNoRelaying, false, ""},
	{"not configured to relay", ReasonNoRelaying, false, ""},
	{"insecure mail relay", ReasonNoRelaying, false, ""},
	{"we do not relay", ReasonNoRelaying, false, ""},
	{"open relay", ReasonNoRelaying, false, ""},
	{"allowed rcpthosts", ReasonNoRelaying, false, ""}, // qmail.

	{"host not found", ReasonHostUnknown, false, ""},
	{"dns domain", ReasonHostUnknown, false, ""}, // Microsoft 5.4.310.
	{"host unknown", ReasonHostUnknown, false, ""},
	{"domain not found", ReasonHostUnknown, false, ""},
	{"domain name not found", ReasonHostUnknown, false, ""},
	{"no such domain", ReasonHostUnknown, false, ""},
	{"domain does not exist", ReasonHostUnknown, false, ""},
	{"unknown domain", ReasonHostUnknown, false, ""},
	{"domain unknown", ReasonHostUnknown, false, ""},
	{"invalid domain", ReasonHostUnknown, false, ""},
	{"unrouteable address", ReasonHostUnknown, false, ""}, // Exim.
	{"domain is not reachable", ReasonHostUnknown, false, ""},
	{"name or service not known", ReasonHostUnknown, false, ""},
	{"nxdomain", ReasonHostUnknown, false, ""},
	{"couldn't find any host", ReasonHostUnknown, false, ""}, // qmail.
	{"non-existent host", ReasonHostUnknown, false, ""},

	{"user unknown", ReasonUserUnknown, false, ""},
	{"unknown user", ReasonUserUnknown, false, ""},
	{"no such user", ReasonUserUnknown, false, ""},
	{"no such recipient", ReasonUserUnknown, false, ""},
	{"no such mailbox", ReasonUserUnknown, false, ""},
	{"no such address", ReasonUserUnknown, false, ""},
	{"unknown recipient", ReasonUserUnknown, false, ""},
	{"recipient unknown", ReasonUserUnknown, false, ""},
	// OpenSMTPD's fixed "550 Invalid recipient: <x@example.org>" says only
	// that no rule of its ruleset accepted the envelope: relaying denied,
	// and also a "match mail-from <table> reject" rule about our sender,
	// so it is no proof that the recipient does not exist. Others' "Invalid
	// recipient" without the colon is an unknown user.
	{"invalid recipient:", ReasonNoRelaying, false, ""},
	{"invalid recipient", ReasonUserUnknown, false, ""},
	{"no valid recipients", ReasonUserUnknown, false, ""},
	{"user not found", ReasonUserUnknown, false, ""},
	{"user does not exist", ReasonUserUnknown, false, ""},
	{"mailbox not found", ReasonUserUnknown, false, ""},
	{"mailbox unavailable", ReasonUserUnknown, false, ""}, // RFC 5321's 550 text; Outlook.com.
	{"mailbox does not exist", ReasonUserUnknown, false, ""},
	{"mailbox unknown", ReasonUserUnknown, false, ""},
	{"unknown mailbox", ReasonUserUnknown, false, ""},
	{"invalid mailbox", ReasonUserUnknown, false, ""},
	{"no mailbox", ReasonUserUnknown, false, ""},
	{"check if address is correct", ReasonUserUnknown, false, ""}, // InterScan MSS.
	{"does not exist", ReasonUserUnknown, false, ""},
	{"doesn't have a", ReasonUserUnknown, false, ""}, // Yahoo "This user doesn't have a yahoo.com account".
	{"address unknown", ReasonUserUnknown, false, ""},
	{"addressee unknown", ReasonUserUnknown, false, ""},
	{"recipnotfound", ReasonUserUnknown, false, ""}, // Exchange RESOLVER.ADR.RecipNotFound.
	{"not our customer", ReasonUserUnknown, false, ""},
	{"validrcptto", ReasonUserUnknown, false, ""}, // qmail.

	{"does not accept mail", ReasonNotAccept, false, ""},
	{"not accepting mail", ReasonNotAccept, false, ""},
	{"accepts no mail", ReasonNotAccept, false, ""},
	{"null mx", ReasonNotAccept, false, ""},

	{"too large", ReasonMesgTooBig, false, ""},
	{"too big", ReasonMesgTooBig, false, ""},
	{"size exceeds", ReasonMesgTooBig, false, ""},
	{"message size", ReasonMesgTooBig, false, ""},
	{"mail size limit", ReasonMesgTooBig, false, ""}, // 1&1: "Mail size limit exceeded".
	{"exceeds the maximum size", ReasonMesgTooBig, false, ""},
	{"databytes", ReasonMesgTooBig, false, ""}, // qmail.

	{"insufficient system storage", ReasonSystemFull, false, ""},
	{"system storage", ReasonSystemFull, false, ""},
	{"insufficient storage", ReasonSystemFull, false, ""},
	{"disk space", ReasonSystemFull, false, ""},
	{"disk full", ReasonSystemFull, false, ""},
	{"disk is full", ReasonSystemFull, false, ""},

	// The sending queue gave up: texts written into a bounce when a
	// message's queue lifetime ran out, before the network errors they
	// often quote ("Connection timed out: retry timeout exceeded").
	{"in the queue too long", ReasonExpired, false, ""}, // qmail-send: "this message has been in the queue too long".
	{"message expired", ReasonExpired, false, ""},
	{"queue.expired", ReasonExpired, false, ""}, // Exchange.
	{"delivery time expired", ReasonExpired, false, ""},
	// Exim's retry.c sets "retry timeout exceeded" when an address passed
	// its retry rule's cutoff; its smtp transport says "retry time not
	// reached for any host after a long failure period" and "all hosts
	// have been failing for a long time and were last tried after this
	// message arrived".
	{"retry timeout exceeded", ReasonExpired, false, ""},
	{"retry time not reached for any host", ReasonExpired, false, ""},
	{"failing for a long time", ReasonExpired, false, ""},
	// "Giving up on 192.0.2.1." after the last failed attempt, as sisimai's
	// expired table lists it; Yahoo's "Unable to deliver message after
	// multiple retries, giving up." has no "on" and stays out.
	{"giving up on", ReasonExpired, false, ""},

	{"timed out", ReasonNetworkError, false, ""},
	{"timeout", ReasonNetworkError, false, ""},
	{"connection refused", ReasonNetworkError, false, ""},
	{"connection reset", ReasonNetworkError, false, ""},
	{"connection closed", ReasonNetworkError, false, ""},
	{"lost connection", ReasonNetworkError, false, ""},
	{"no route to host", ReasonNetworkError, false, ""},
	{"network is unreachable", ReasonNetworkError, false, ""},
	{"routing loop", ReasonNetworkError, false, ""},
	{"hop count exceeded", ReasonNetworkError, false, ""},
	{"too many hops", ReasonNetworkError, false, ""},
	{"mail loop", ReasonNetworkError, false, ""},
	{"loop detected", ReasonNetworkError, false, ""},
	{"host name lookup failure", ReasonNetworkError, false, ""}, // Sendmail, before "lookup failure".
	{"dns error", ReasonNetworkError, false, ""},                // Gmail "DNS Error: ... had no relevant answers".
	{"network error", ReasonNetworkError, false, ""},            // OpenSMTPD "Network error on destination MXs".
	{"establish an smtp connection", ReasonNetworkError, false, ""},
	{"read error", ReasonNetworkError, false, ""},
	{"unable to connect", ReasonNetworkError, false, ""},

	// Protocol errors, before "starttls": Gmail "protocol violation, no
	// commands allowed to pipeline after STARTTLS" is our client's error.
	{"syntax error", ReasonSyntaxError, false, ""},
	{"command unrecognized", ReasonSyntaxError, false, ""},
	{"unrecognized command", ReasonSyntaxError, false, ""},
	{"command not recognized", ReasonSyntaxError, false, ""},
	{"bad sequence", ReasonSyntaxError, false, ""},
	{"improper sequence", ReasonSyntaxError, false, ""},
	{"out of sequence", ReasonSyntaxError, false, ""},
	{"not implemented", ReasonSyntaxError, false, ""},
	{"protocol violation", ReasonSyntaxError, false, ""},
	{"line too long", ReasonSyntaxError, false, ""},

	{"starttls", ReasonFailedSTARTTLS, false, ""},
	{"tls required", ReasonFailedSTARTTLS, false, ""},
	{"tls is required", ReasonFailedSTARTTLS, false, ""},
	{"must use tls", ReasonFailedSTARTTLS, false, ""},
	{"encryption required", ReasonFailedSTARTTLS, false, ""},
	{"does not support tls", ReasonFailedSTARTTLS, false, ""}, // Gmail relaying "500 Remote server does not support TLS".

	{"authentication required", ReasonSecurityError, false, ""},
	{"authentication is required", ReasonSecurityError, false, ""},
	{"not authenticated", ReasonSecurityError, false, ""},
	{"unauthenticated senders", ReasonSecurityError, false, ""},
	{"smtp authentication", ReasonSecurityError, false, ""},
	{"access denied", ReasonSecurityError, false, ""},
	{"not authorized", ReasonSecurityError, false, ""},
	{"certificate", ReasonSecurityError, false, ""},

	{"8-bit", ReasonContentError, false, ""},
	{"8bit", ReasonContentError, false, ""},
	{"malformed", ReasonContentError, false, ""},
	{"invalid message content", ReasonContentError, false, ""},
	{"media not supported", ReasonContentError, false, ""},

	{"blocked", ReasonBlocked, false, ""},
	{"banned", ReasonBlocked, false, ""},
	{"not in whitelist", ReasonBlocked, false, ""}, // Gmail "IP not in whitelist for RCPT domain".
	{"permanently deferred", ReasonBlocked, false, ""},

	{"filter", ReasonFiltered, false, ""},

	// The most generic texts last.
	{"internal error", ReasonSystemError, false, ""},
	{"system error", ReasonSystemError, false, ""},
	{"local error", ReasonSystemError, false, ""},
	{"local problem", ReasonSystemError, false, ""},
	{"temporary problem", ReasonSystemError, false, ""},
	{"system problem", ReasonSystemError, false, ""},
	{"configuration problem", ReasonSystemError, false, ""},
	{"config error", ReasonSystemError, false, ""},
	{"service unavailable", ReasonSystemError, false, ""},
	{"service not available", ReasonSystemError, false, ""},
	{"service currently unavailable", ReasonSystemError, false, ""},
	{"server busy", ReasonSystemError, false, ""},
	{"temporarily unavailable", ReasonSystemError, false, ""},
	{"lookup failure", ReasonSystemError, false, ""},
	// A local delivery program failed, in the words its MTA writes for it:
	// Exim's pipe transport hides the command's output behind the fixed
	// "local delivery failed" (transports/pipe.c sets it as the user
	// message of every failure), and OpenSMTPD's parent process reports an
	// MDA child that exited with a non-zero status as "exited abnormally"
	// (smtpd.c, parent_sig_handler) under 4.3.0 (EX_TEMPFAIL, EX_OSERR)
	// or 5.3.0. After the expired rules: "local delivery failed: retry
	// timeout exceeded" is Exim giving up.
	{"local delivery failed", ReasonMailerError, false, ""},
	{"exited abnormally", ReasonMailerError, false, ""},
	// A receiving system's own failure, from sisimai's systemerror table
	// (lib/Sisimai/Reason/SystemError.pm): "451 Could not load DRD for
	// domain", a hosted mail system's lookup of its domain data.
	{"could not load drd", ReasonSystemError, false, ""},

	// Postfix's queue manager defers the recipients of a destination it
	// has marked dead after a connection-level failure (qmgr_defer.c
	// writes "delivery temporarily suspended: " and the failure: connect
	// errors, a lost connection, a greeting that refused the session).
	// That is a temporary problem reaching the host, not a suspended
	// mailbox: the word "suspended" in it is never read (see
	// foldedReply.fold), the failure it quotes decides, and this rule only
	// when no other does.
	{"delivery temporarily suspended", ReasonNetworkError, false, ""},
}

// aboutUsRules are phrases that say a reply is about us, the sending side:
// our client IP or host name, our HELO name, our envelope sender, our rate.
// Such a reply is never a hard bounce of the recipient, whatever its code:
// when the reason found from the code and textRules would be one
// (userunknown, hostunknown, hasmoved, notaccept), the first of these rules
// that matches decides instead (see replyReason). Only phrases that clearly
// name the sending side are here, each from the MTA that writes it; the
// earlier rules are the more specific.
var aboutUsRules = [...]textRule{
	// Postfix reject_unknown_client_hostname and
	// reject_unknown_reverse_client_hostname: "Client host rejected: cannot
	// find your (reverse) hostname".
	{"cannot find your", ReasonRequirePTR, true, ""},
	{"reverse hostname", ReasonRequirePTR, true, ""},
	// Exim ACLs on $host_lookup_failed: "Sender IP reverse lookup
	// rejected".
	{"reverse lookup", ReasonRequirePTR, true, ""},

	// Postfix anvil limits (smtpd_client_connection_count_limit,
	// smtpd_client_connection_rate_limit, smtpd_client_message_rate_limit,
	// smtpd_client_recipient_rate_limit): "Error: too many connections
	// from", "too much mail from", "too many recipients from".
	{"too many connections from", ReasonTooManyConn, true, ""},
	{"too much mail from", ReasonSpeeding, true, ""},
	{"too many recipients from", ReasonSpeeding, true, ""},
	{"too many messages from", ReasonSpeeding, true, ""},
	// Exim's ratelimit ACL as documented: "Sender rate exceeds ...".
	{"sender rate", ReasonSpeeding, true, ""},
	{"rate limit", ReasonSpeeding, true, ""},

	// Postfix restrictions on the client: "Client host rejected" (client
	// access maps, reject_unknown_client_hostname and others),
	// "Client host [192.0.2.1] blocked using" (reject_rbl_client).
	{"client host", ReasonBlocked, true, ""},
	// Postfix helo restrictions: "Helo command rejected"; Exim's documented
	// HELO ACLs and qmail.
	{"helo command rejected", ReasonBlocked, true, ""},
	{"invalid helo", ReasonBlocked, true, ""},
	{"bad helo", ReasonBlocked, true, ""},
	{"my name was rejected", ReasonBlocked, true, ""}, // qmail.
	// OpenSMTPD's and others' "no rDNS"-style filter texts.
	{"your ip", ReasonBlocked, true, ""},
	{"your host", ReasonBlocked, true, ""},

	// Postfix restrictions on MAIL FROM (sender access maps,
	// reject_unknown_sender_domain, reject_unverified_sender,
	// reject_unlisted_sender): "Sender address rejected".
	{"sender address rejected", ReasonRejected, true, ""},
	// Exim verify = sender: "Sender verify failed", "Could not complete
	// sender verify callout"; Debian's exim4-config says "Sender
	// verification failed".
	{"sender verify", ReasonRejected, true, ""},
	{"sender verification", ReasonRejected, true, ""},
	// Sendmail check_mail: "Domain of sender address ... does not exist".
	{"domain of sender address", ReasonRejected, true, ""},
	// Other wordings that name our sender, from the reply collections in
	// classify_replies_test.go (qmail, Exchange, hosted filters).
	{"sender domain", ReasonRejected, true, ""},
	{"sender address", ReasonRejected, true, ""},
	{"sender rejected", ReasonRejected, true, ""},
	{"sender was rejected", ReasonRejected, true, ""},
	{"sender not allowed", ReasonRejected, true, ""},
	{"envelope sender", ReasonRejected, true, ""},
	{"unroutable sender", ReasonRejected, true, ""}, // Exim.
}

// firstWeakRule is the index of the first weak rule: strong rules come first.
var firstWeakRule = func() int {
	for i, r := range textRules {
		if !r.strong {
			return i
		}
	}
	return len(textRules)
}()

// fold lowers ASCII letters and turns a tab into a space.
func fold(c byte) byte {
	if c == '\t' {
		return ' '
	}
	return lower(c)
}

// matchText returns the index in textRules of the first rule below limit
// that matches the reply, or -1.
func matchText(first string, more []string, limit int) int {
	ri, _ := scanText(first, more, limit, false)
	return ri
}

// inAddress reports whether position i of a reply line is inside an email
// address the reply echoes, whose words are not words of the reply: a bare
// addr-spec ("spamtrap@example.org", also its domain), an angle-bracketed
// path without spaces ("<virus>", "<quota@example.org>", Postfix's
// "<helo.example>"), a quoted localpart ("\"mailbox full\"@example.org",
// RFC 5321 section 4.1.2) or a quoted word (Postfix's "unknown user:
// \"virus\""). Host names and URLs outside angle brackets stay
// words: "blocked using zen.spamhaus.org" names the block list.
func inAddress(s string, i int) bool {
	// The token around i, up to spaces and the punctuation that encloses
	// addresses in replies.
	start := i
	for start > 0 && !isAddressDelim(s[start-1]) {
		start--
	}
	end := i
	for end < len(s) && !isAddressDelim(s[end]) {
		end++
	}
	if strings.IndexByte(s[start:end], '@') >= 0 {
		return true
	}
	if start > 0 && s[start-1] == '<' && end < len(s) && s[end] == '>' {
		// A path without "@": a bare localpart or a HELO name. A URL in
		// angle brackets ("<https://...>") stays words.
		return strings.IndexByte(s[start:end], ':') < 0 && strings.IndexByte(s[start:end], '/') < 0
	}
	// A quoted localpart: i between a pair of quotes, the closing one
	// followed by "@", or a quoted string without spaces, as Postfix's
	// local(8) echoes a user name: "unknown user: \"virus\"".
	if start > 0 && s[start-1] == '"' && end < len(s) && s[end] == '"' {
		return true
	}
	if strings.Count(s[:i], "\"")%2 == 1 {
		if q := strings.IndexByte(s[i:], '"'); q >= 0 && i+q+1 < len(s) && s[i+q+1] == '@' {
			return true
		}
	}
	return false
}

// isAddressDelim reports whether c ends an address token in a reply line.
func isAddressDelim(c byte) bool {
	switch c {
	case ' ', '\t', '<', '>', '(', ')', '[', ']', ',', ';', ':', '"', '\'', '=':
		return true
	}
	return false
}

// hasPrefixFold reports whether s starts with the lower-case phrase, ignoring
// ASCII case. A space in phrase matches one or more spaces or tabs in s, or
// the end of s, after which matching goes on in the next lines.
func hasPrefixFold(s string, next []string, phrase string) bool {
	j := 0
	for k := 0; k < len(phrase); k++ {
		p := phrase[k]
		if p != ' ' {
			if j >= len(s) || lower(s[j]) != p {
				return false
			}
			j++
			continue
		}
		n := 0
		for {
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
				n++
			}
			if j < len(s) {
				break
			}
			if len(next) == 0 {
				return false
			}
			s, next, j = next[0], next[1:], 0
			n++
		}
		if n == 0 {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// maxScanText bounds the bytes of a reply the text rules read. An SMTP
// reply line has at most 512 octets (RFC 5321 section 4.5.3.1.5); what
// follows the first 64 KB of a reply is not read, so hostile text costs at
// most the rules times this.
const maxScanText = 64 << 10

// foldedReply is a reply's lines folded for searching: lower case, tabs as
// spaces, joined by "\n", which no phrase contains; at most maxScanText
// bytes.
type foldedReply struct {
	text  []byte
	ends  []int // ends[k] is the offset in text where line k ends.
	first string
	more  []string

	// starts has a bit set for the first three bytes of every word of
	// text (see startBit), so most phrases are ruled out without a search.
	starts [64]uint64
}

// startBit returns the word and bit of foldedReply.starts for a word that
// starts with b0, b1, b2. Starts may share a bit: a set bit only means a
// search is needed.
func startBit(b0, b1, b2 byte) (int, uint64) {
	h := (uint(b0)*961 + uint(b1)*31 + uint(b2)) & 4095
	return int(h >> 6), 1 << (h & 63)
}

// foldReply folds the reply into t, reusing t's text and ends.
func (t *foldedReply) fold(first string, more []string) {
	t.first, t.more = first, more
	for k := 0; k <= len(more) && len(t.text) < maxScanText; k++ {
		s := first
		if k > 0 {
			t.text = append(t.text, '\n')
			s = more[k-1]
		}
		s = s[:min(len(s), maxScanText-len(t.text))]
		for i := 0; i < len(s); i++ {
			t.text = append(t.text, fold(s[i]))
		}
		t.ends = append(t.ends, len(t.text))
	}
	blankSuspendedDelivery(t.text)
	// A space of a phrase matches a line end: the key reads one as a space.
	space := func(b byte) byte {
		if b == '\n' {
			return ' '
		}
		return b
	}
	for i := 0; i+2 < len(t.text); i++ {
		if i > 0 && isLetter(t.text[i-1]) {
			continue
		}
		w, bit := startBit(t.text[i], space(t.text[i+1]), space(t.text[i+2]))
		t.starts[w] |= bit
	}
}

// contains reports whether phrase starts a word of the reply outside an
// echoed address. The phrase's first word is searched in the folded text;
// each place found is then checked on the original lines, where a space of
// the phrase may also match a line end.
func (t *foldedReply) contains(phrase string) bool {
	if w, bit := startBit(phrase[0], phrase[1], phrase[2]); t.starts[w]&bit == 0 {
		return false
	}
	word := phrase
	if j := strings.IndexByte(phrase, ' '); j >= 0 {
		word = phrase[:j]
	}
	for off := 0; ; {
		j := bytes.Index(t.text[off:], []byte(word))
		if j < 0 {
			return false
		}
		p := off + j
		off = p + 1
		k := sort.SearchInts(t.ends, p) // The line of p.
		start := 0
		if k > 0 {
			start = t.ends[k-1] + 1
		}
		s, next := t.first, t.more
		if k > 0 {
			s, next = t.more[k-1], t.more[k:]
		}
		i := p - start
		if (i == 0 || !isLetter(s[i-1])) && hasPrefixFold(s[i:], next, phrase) && !inAddress(s, i) {
			return true
		}
	}
}

// scanText returns the index in textRules of the first rule below limit
// that matches the reply, or -1, and, if aboutUs is set, the index in
// aboutUsRules of the first of those that matches, or -1. A phrase may
// continue on the next line: replies are wrapped at spaces, and a line end
// matches a space in a phrase. A phrase never matches inside an address the
// reply echoes (see inAddress): "<virus@example.org>: User unknown" is about
// an unknown user.
func scanText(first string, more []string, limit int, aboutUs bool) (ri, about int) {
	var text [1024]byte
	var ends [16]int
	t := foldedReply{text: text[:0], ends: ends[:0]}
	t.fold(first, more)
	ri, about = -1, -1
	for k := 0; k < limit; k++ {
		if t.contains(textRules[k].phrase) {
			ri = k
			break
		}
	}
	if aboutUs {
		for k := range aboutUsRules {
			if t.contains(aboutUsRules[k].phrase) {
				about = k
				break
			}
		}
	}
	return ri, about
}

// blankSuspendedDelivery overwrites with spaces the word "suspended" of
// Postfix's "delivery temporarily suspended" in folded text, so that the
// suspend rules do not read a dead destination as a suspended mailbox (see
// the last of textRules). The words may be split by spaces or line ends.
func blankSuspendedDelivery(text []byte) {
	const first = "delivery"
	for off := 0; ; {
		j := bytes.Index(text[off:], []byte(first))
		if j < 0 {
			return
		}
		p := off + j
		off = p + len(first)
		if p > 0 && isLetter(text[p-1]) {
			continue
		}
		k, ok := skipWord(text, off, "temporarily")
		if !ok {
			continue
		}
		k, ok = skipWord(text, k, "suspended")
		if !ok {
			continue
		}
		for i := k - len("suspended"); i < k; i++ {
			text[i] = ' '
		}
		off = k
	}
}

// skipWord skips one or more spaces or line ends at text[i:] and then
// word, returning the index after word.
func skipWord(text []byte, i int, word string) (int, bool) {
	n := i
	for n < len(text) && (text[n] == ' ' || text[n] == '\n') {
		n++
	}
	if n == i || !bytes.HasPrefix(text[n:], []byte(word)) {
		return 0, false
	}
	return n + len(word), true
}
