package bounce

import (
	"fmt"
	"net/textproto"
	"testing"

	"github.com/emersion/go-smtp"
)

// Real-world SMTP replies and their expected classification.
//
// Sources: the published reply lists of Gmail/Google Workspace ("Gmail SMTP
// errors and codes"), Microsoft 365/Exchange Online NDR documentation and
// NDRs quoted in public posts, Yahoo's sender error codes, Postfix, Exim,
// Sendmail and qmail (their standard reject texts), Amazon SES, Proofpoint,
// Mimecast, Spamhaus-listed rejections, and the Diagnostic-Code fields of the
// sisimai "set-of-emails" bounce collection (rows marked "sisimai <file>").
// The sisimai files are Copyright (C) 2014, azumakuniyuki, and go-sisimai is
// Copyright (c) 2020-2025, azumakuniyuki and sisimai development team, both
// under the BSD 2-Clause License; only the reply strings are quoted here, the
// expected reasons are ours. Where we deliberately disagree with sisimai's
// label, the row's note says why.
//
// Each reply is given as the error type it would arrive as: tp for net/smtp
// (*textproto.Error, enhanced code in the text, lines joined with "\n"), gs
// for go-smtp (*smtp.SMTPError), se for our *SMTPError, raw for text from a
// DSN Diagnostic-Code (ParseReply).

type replyCase struct {
	source string
	err    error
	perm   bool
	code   int
	enh    string
	reason Reason
	note   string
}

func tp(code int, msg string) error { return &textproto.Error{Code: code, Msg: msg} }

func gs(code int, enh smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

func se(code int, enh, line string, more ...string) error {
	c, _ := ParseEnhancedCode(enh) // Empty: none.
	return &SMTPError{Code: code, EnhancedCode: c, Line: line, MoreLines: more}
}

func raw(text string) error { return ParseReply(text) }

var noEnh = smtp.NoEnhancedCode

var replyCases = []replyCase{
	// Gmail / Google Workspace.
	{"gmail", tp(550, "5.1.1 The email account that you tried to reach does not exist. Please try\n5.1.1 double-checking the recipient's email address for typos or\n5.1.1 unnecessary spaces. Learn more at\n5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"gmail", gs(550, smtp.EnhancedCode{5, 2, 1}, "The email account that you tried to reach is disabled. Learn more at\nhttps://support.google.com/mail/?p=DisabledUser x1si - gsmtp"), true, 550, "5.2.1", ReasonSuspend, ""},
	{"gmail", tp(552, "5.2.2 The email account that you tried to reach is over quota. Please direct\n5.2.2 the recipient to\n5.2.2  https://support.google.com/mail/?p=OverQuotaPerm - gsmtp"), true, 552, "5.2.2", ReasonMailboxFull, ""},
	{"gmail", tp(452, "4.2.2 The email account that you tried to reach is over quota. Please direct\n4.2.2 the recipient to\n4.2.2  https://support.google.com/mail/?p=OverQuotaTemp - gsmtp"), false, 452, "4.2.2", ReasonMailboxFull, ""},
	{"gmail", tp(450, "4.2.1 The user you are trying to contact is receiving mail too quickly. Please\n4.2.1 resend your message at a later time. - gsmtp"), false, 450, "4.2.1", ReasonSpeeding, "text wins over 4.2.1 (mailbox disabled)"},
	{"gmail", tp(450, "4.2.1 Peak SMTP relay limit exceeded for customer. - gsmtp"), false, 450, "4.2.1", ReasonSpeeding, "text wins over 4.2.1"},
	{"gmail", tp(552, "5.3.4 Your message exceeded Google's message size limits. Please visit\n5.3.4  https://support.google.com/mail/?p=MaxSizeError - gsmtp"), true, 552, "5.3.4", ReasonMesgTooBig, ""},
	{"gmail", tp(553, "5.1.2 We weren't able to find the recipient domain. Please check for any\n5.1.2 spelling errors, and make sure you didn't enter any spaces, periods,\n5.1.2 or other punctuation after the recipient's email address. - gsmtp"), true, 553, "5.1.2", ReasonHostUnknown, ""},
	{"gmail", tp(553, "5.1.3 The recipient address <a b@example.com> is not a valid RFC-5321\n5.1.3 address. - gsmtp"), true, 553, "5.1.3", ReasonUserUnknown, ""},
	{"gmail", tp(550, "5.7.1 Our system has detected that this message is\n5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\n5.7.1 this message has been blocked. - gsmtp"), true, 550, "5.7.1", ReasonSpamDetected, "Gmail spam text: spam, not blocked"},
	{"gmail", tp(421, "4.7.0 [192.0.2.1] Our system has detected an unusual rate of\n4.7.0 unsolicited mail originating from your IP address. To protect our\n4.7.0 users from spam, mail sent from your IP address has been temporarily\n4.7.0 rate limited. - gsmtp"), false, 421, "4.7.0", ReasonSpamDetected, ""},
	{"gmail", tp(421, "4.7.28 [192.0.2.1] Gmail has detected an unusual rate of unsolicited mail\n4.7.28 originating from your DKIM domain. - gsmtp"), false, 421, "4.7.28", ReasonAuthFailure, "the text names DKIM; the block is per DKIM domain"},
	{"gmail", tp(550, "5.7.28 [192.0.2.1] Our system has detected an unusual rate of unsolicited\n5.7.28 mail originating from your IP address. - gsmtp"), true, 550, "5.7.28", ReasonSpamDetected, ""},
	{"gmail", tp(421, "4.7.0 IP not in whitelist for RCPT domain, closing connection."), false, 421, "4.7.0", ReasonBlocked, ""},
	{"gmail", tp(421, "4.7.0 TLS required for RCPT domain, closing connection."), false, 421, "4.7.0", ReasonFailedSTARTTLS, ""},
	{"gmail", tp(421, "4.7.0 Try again later, closing connection. (EHLO) - gsmtp"), false, 421, "4.7.0", ReasonSystemError, ""},
	{"gmail", tp(421, "4.4.5 Server busy, try again later. - gsmtp"), false, 421, "4.4.5", ReasonSystemFull, "4.4.5 mail system congestion, as sisimai"},
	{"gmail", tp(451, "4.3.0 Mail server temporarily rejected message. - gsmtp"), false, 451, "4.3.0", ReasonSystemError, ""},
	{"gmail", tp(451, "4.4.2 Timeout - closing connection. - gsmtp"), false, 451, "4.4.2", ReasonNetworkError, ""},
	{"gmail", tp(451, "4.5.0 SMTP protocol violation, see RFC 2821. - gsmtp"), false, 451, "4.5.0", ReasonSyntaxError, ""},
	{"gmail", tp(452, "4.5.3 Your message has too many recipients. For more information regarding\n4.5.3 Google's sending limits, visit\n4.5.3  https://support.google.com/mail/?p=TooManyRecipientsError - gsmtp"), false, 452, "4.5.3", ReasonTooManyConn, ""},
	{"gmail", tp(452, "4.5.3 Domain policy size per transaction exceeded, please try this recipient\n4.5.3 in a separate transaction. - gsmtp"), false, 452, "4.5.3", ReasonTooManyConn, ""},
	{"gmail", tp(454, "4.5.0 SMTP protocol violation, no commands allowed to pipeline after STARTTLS,\n4.5.0 see RFC 3207. - gsmtp"), false, 454, "4.5.0", ReasonSyntaxError, "our client's protocol error, not a TLS failure"},
	{"gmail", tp(454, "4.7.0 Cannot authenticate due to temporary system problem. Try again later. - gsmtp"), false, 454, "4.7.0", ReasonSystemError, ""},
	{"gmail", tp(530, "5.7.0 Authentication Required. Learn more at\n5.7.0  https://support.google.com/mail/?p=WantAuthError - gsmtp"), true, 530, "5.7.0", ReasonSecurityError, ""},
	{"gmail", tp(535, "5.7.8 Username and Password not accepted. Learn more at\n5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp"), true, 535, "5.7.8", ReasonSecurityError, ""},
	{"gmail", tp(550, "5.7.1 [192.0.2.1] The IP you're using to send mail is not authorized to\n5.7.1 send email directly to our servers. Please use the SMTP relay at your\n5.7.1 service provider instead. - gsmtp"), true, 550, "5.7.1", ReasonBlocked, ""},
	{"gmail", tp(550, "5.7.1 This message violates example.com email policy. - gcdp a1si - gsmtp"), true, 550, "5.7.1", ReasonPolicyViolation, ""},
	{"gmail", tp(550, "5.7.1 The user or domain that you are sending to (or from) has a policy that\n5.7.1 prohibited the mail that you sent. - gsmtp"), true, 550, "5.7.1", ReasonPolicyViolation, ""},
	{"gmail", tp(550, "5.7.1 Unauthenticated email is not accepted from this domain. - gsmtp"), true, 550, "5.7.1", ReasonAuthFailure, ""},
	{"gmail", tp(550, "5.7.1 Daily SMTP relay limit exceeded for user. - gsmtp"), true, 550, "5.7.1", ReasonSpeeding, ""},
	{"gmail", tp(550, "5.7.26 This mail has been blocked because the sender is unauthenticated.\n5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp"), true, 550, "5.7.26", ReasonAuthFailure, ""},
	{"gmail", tp(421, "4.7.26 This mail has been rate limited because it is unauthenticated. Gmail\n4.7.26 requires all senders to authenticate with either SPF or DKIM. - gsmtp"), false, 421, "4.7.26", ReasonAuthFailure, ""},
	{"gmail", tp(550, "5.7.26 Unauthenticated email from example.org is not accepted due to\n5.7.26 domain's DMARC policy. - gsmtp"), true, 550, "5.7.26", ReasonAuthFailure, ""},
	{"gmail", tp(550, "5.7.25 [192.0.2.1] The IP address sending this message does not have a\n5.7.25 PTR record setup, or the corresponding forward DNS entry does not\n5.7.25 point to the sending IP. - gsmtp"), true, 550, "5.7.25", ReasonRequirePTR, ""},
	{"gmail", tp(550, "5.7.1 This message is not RFC 5322 compliant. There are multiple Subject\n5.7.1 headers. To reduce the amount of spam sent to Gmail, this message has\n5.7.1 been blocked. - gsmtp"), true, 550, "5.7.1", ReasonNotCompliantRFC, ""},
	{"gmail", tp(550, "5.7.1 Messages with multiple addresses in From: header are not accepted. - gsmtp"), true, 550, "5.7.1", ReasonNotCompliantRFC, ""},
	{"gmail", tp(550, "5.7.1 [192.0.2.1] Our system has detected that this message is\n5.7.1 likely suspicious due to the very low reputation of the sending IP\n5.7.1 address. To best protect our users from spam, the message has been\n5.7.1 blocked. - gsmtp"), true, 550, "5.7.1", ReasonBadReputation, ""},
	{"gmail", tp(550, "5.7.1 Message rejected due to very low reputation of sending domain. - gsmtp"), true, 550, "5.7.1", ReasonBadReputation, ""},
	{"gmail", tp(552, "5.7.0 This message was blocked because its content presents a potential\n5.7.0 security issue. - gsmtp"), true, 552, "5.7.0", ReasonVirusDetected, ""},
	{"gmail", tp(552, "5.7.0 Our system detected an illegal attachment on your message. - gsmtp"), true, 552, "5.7.0", ReasonPolicyViolation, ""},
	{"gmail", tp(550, "5.4.5 Daily user sending limit exceeded. - gsmtp"), true, 550, "5.4.5", ReasonSpeeding, "text wins over 5.4.5"},
	{"gmail", tp(554, "5.6.0 Mail message is malformed. Not accepted. - gsmtp"), true, 554, "5.6.0", ReasonContentError, ""},
	{"gmail", tp(550, "5.7.0 Mail relay denied. - gsmtp"), true, 550, "5.7.0", ReasonNoRelaying, ""},
	{"gmail", tp(421, "4.7.0 This message does not have authentication information or fails to\n4.7.0 pass authentication checks (SPF or DKIM). - gsmtp"), false, 421, "4.7.0", ReasonAuthFailure, ""},

	// Microsoft 365, Exchange Online, Outlook.com, Exchange on premises.
	{"microsoft", se(550, "5.1.10", "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"), true, 550, "5.1.10", ReasonUserUnknown, "Microsoft uses 5.1.10 (null MX in the registry) for unknown recipients: text wins"},
	{"microsoft", se(550, "5.1.1", "RESOLVER.ADR.RecipNotFound; not found"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"microsoft", se(550, "5.4.1", "Recipient address rejected: Access denied. AS(201806281) [BN1NAM02FT004.eop-nam02.prod.protection.outlook.com]"), true, 550, "5.4.1", ReasonUserUnknown, "directory based edge blocking: the recipient does not exist"},
	{"microsoft", se(550, "5.7.606", "Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609)"), true, 550, "5.7.606", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.1", "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)."), true, 550, "5.7.1", ReasonBlocked, ""},
	{"microsoft", raw("550 SC-001 (BAY004-MC1F37) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your Internet service provider since part of their network is on our block list."), true, 550, "", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.708", "Service unavailable. Access denied, traffic not accepted from this IP."), true, 550, "5.7.708", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.511", "Access denied, banned sender[192.0.2.1]. To request removal from this list, forward this message to delist@microsoft.com."), true, 550, "5.7.511", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.512", "Access denied, message must be RFC 5322 section 3.6.2 compliant and include a valid From address."), true, 550, "5.7.512", ReasonNotCompliantRFC, ""},
	{"microsoft", se(550, "5.7.509", "Access denied, sending domain [EXAMPLE.ORG] does not pass DMARC verification and has a DMARC policy of reject."), true, 550, "5.7.509", ReasonAuthFailure, ""},
	{"microsoft", se(451, "4.7.650", "The mail server [192.0.2.25] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775)"), false, 451, "4.7.650", ReasonBadReputation, ""},
	{"microsoft", se(451, "4.7.500", "Server busy. Please try again later from [192.0.2.1]. (S77719)"), false, 451, "4.7.500", ReasonSystemError, ""},
	{"microsoft", se(550, "5.7.750", "Service unavailable. Client blocked from sending from unregistered domains."), true, 550, "5.7.750", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.501", "Access denied, spam abuse detected."), true, 550, "5.7.501", ReasonSpamDetected, ""},
	{"microsoft", se(550, "5.7.1", "Service unavailable, Client host [192.0.2.1] blocked using Spamhaus."), true, 550, "5.7.1", ReasonBlocked, ""},
	{"microsoft", se(550, "5.7.133", "RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required; Delivery restriction check failed as the sender is not authenticated"), true, 550, "5.7.133", ReasonSecurityError, ""},
	{"microsoft", se(550, "5.7.57", "Client was not authenticated to send anonymous mail during MAIL FROM"), true, 550, "5.7.57", ReasonSecurityError, ""},
	{"microsoft", se(550, "5.7.64", "TenantAttribution; Relay Access Denied"), true, 550, "5.7.64", ReasonNoRelaying, ""},
	{"microsoft", se(554, "5.4.14", "Hop count exceeded - possible mail loop ATTR34"), true, 554, "5.4.14", ReasonNetworkError, ""},
	{"microsoft", se(550, "5.4.310", "DNS domain example.invalid does not exist"), true, 550, "5.4.310", ReasonHostUnknown, ""},
	{"microsoft", se(550, "5.4.316", "Message expired, connection refused(Socket error code 10061)"), true, 550, "5.4.316", ReasonExpired, ""},
	{"microsoft", se(550, "5.2.2", "STOREDRV.Deliver: mailbox full."), true, 550, "5.2.2", ReasonMailboxFull, ""},
	{"microsoft", se(554, "5.2.2", "mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded"), true, 554, "5.2.2", ReasonMailboxFull, ""},
	{"microsoft", se(550, "5.2.3", "RESOLVER.RST.RecipSizeLimit; message too large for this recipient"), true, 550, "5.2.3", ReasonExceedLimit, ""},
	{"microsoft", se(552, "5.3.4", "Message size exceeds fixed maximum message size"), true, 552, "5.3.4", ReasonMesgTooBig, ""},
	{"microsoft", se(550, "5.7.1", "RESOLVER.RST.AuthRequired; authentication required"), true, 550, "5.7.1", ReasonSecurityError, ""},
	{"microsoft", se(550, "5.7.1", "RESOLVER.RST.NotAuthorized; not authorized"), true, 550, "5.7.1", ReasonSecurityError, ""},
	{"microsoft", se(550, "5.7.1", "TRANSPORT.RULES.RejectMessage; the message was rejected by organization policy"), true, 550, "5.7.1", ReasonPolicyViolation, ""},
	{"microsoft", se(550, "5.7.23", "The message was rejected because of Sender Policy Framework violation"), true, 550, "5.7.23", ReasonAuthFailure, ""},
	{"microsoft", se(550, "5.7.350", "Remote server returned message detected as spam -> 554 5.7.1 Message rejected as spam"), true, 550, "5.7.350", ReasonSpamDetected, ""},
	{"microsoft", se(550, "4.4.7", "QUEUE.Expired; message expired"), true, 550, "4.4.7", ReasonExpired, "permanence follows the 550 reply code, not the enhanced class"},
	{"microsoft", se(452, "4.5.3", "Too many recipients"), false, 452, "4.5.3", ReasonTooManyConn, ""},
	{"microsoft", se(550, "5.1.90", "Your message can't be sent because you've reached your daily limit for message recipients."), true, 550, "5.1.90", ReasonSpeeding, ""},
	{"microsoft", se(452, "4.3.1", "Insufficient system resources"), false, 452, "4.3.1", ReasonSystemFull, ""},
	{"microsoft", se(550, "5.4.6", "Routing loop detected"), true, 550, "5.4.6", ReasonNetworkError, ""},
	{"microsoft", se(554, "5.6.0", "Invalid message content"), true, 554, "5.6.0", ReasonContentError, ""},
	{"outlook.com", raw("550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM5EUR03FT025.eop-EUR03.prod.protection.outlook.com]"), true, 550, "5.5.0", ReasonUserUnknown, ""},
	{"sisimai lhost-exchange2007-01", raw("smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai lhost-exchange2007-03", raw("smtp;550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient"), true, 550, "5.2.3", ReasonExceedLimit, ""},
	{"sisimai rhost-outlook-03", raw("smtp;554 The mail could not be delivered to the recipient because the domain is not reachable. Please check the domain and try again (-1915321397:308:-2147467259)"), true, 554, "", ReasonHostUnknown, ""},
	{"sisimai rhost-outlook-09", raw("smtp;550 domain [example.com] mismatches client ip 192.0.2.225."), true, 550, "", ReasonRequirePTR, ""},
	{"exchange 2003", raw("550 #5.1.0 Address rejected."), true, 550, "5.1.0", ReasonUserUnknown, ""},

	// Yahoo, AOL, Verizon Media.
	{"yahoo", raw("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"), false, 421, "4.7.0", ReasonBadReputation, "sisimai says rejected; Yahoo documents TSS04 as complaints/reputation"},
	{"yahoo", raw("421 4.7.0 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes"), false, 421, "4.7.0", ReasonBlocked, "a 421 stays temporary whatever the text says"},
	{"yahoo", raw("553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes"), true, 553, "5.7.1", ReasonBlocked, ""},
	{"yahoo", raw("553 5.7.1 [BL23] Connections not accepted from IP addresses on Spamhaus XBL; see https://postmaster.yahooinc.com/error-codes"), true, 553, "5.7.1", ReasonBlocked, ""},
	{"yahoo", raw("554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes"), true, 554, "5.7.9", ReasonPolicyViolation, "text wins over 5.7.9 (auth mechanism too weak)"},
	{"yahoo", raw("550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM."), true, 550, "5.7.9", ReasonAuthFailure, "text wins over 5.7.9"},
	{"yahoo", raw("554 delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com"), true, 554, "", ReasonUserUnknown, ""},
	{"yahoo", raw("554 delivery error: dd Sorry your message to someone@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta1010.mail.ne1.yahoo.com"), true, 554, "", ReasonSuspend, ""},
	{"yahoo", raw("552 1 Requested mail action aborted, mailbox not found"), true, 552, "", ReasonUserUnknown, "the text wins over 552's storage allocation"},
	{"yahoo", raw("554 30 Sorry, your message size exceeds 41943040 bytes."), true, 554, "", ReasonMesgTooBig, ""},
	{"yahoo", raw("421 4.7.0 [TS01] Messages from 192.0.2.1 temporarily deferred due to user complaints - 4.16.55.1; see https://help.yahoo.com/kb/postmaster"), false, 421, "4.7.0", ReasonBadReputation, ""},
	{"sisimai rhost-yahooinc-01", raw("smtp; 554 5.7.9 Message not accepted for policy reasons. See https://postmaster.verizonmedia.com/error-codes"), true, 554, "5.7.9", ReasonPolicyViolation, ""},
	{"sisimai rhost-yahooinc-02", raw("smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes"), false, 421, "4.7.0", ReasonBadReputation, "sisimai says rejected; see above"},
	{"sisimai rhost-yahooinc-03", raw("SMTP; 554 delivery error: dd This user doesn't have a yahoo.com account (this-local-part-does-not-exist@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com"), true, 554, "", ReasonUserUnknown, ""},

	// Apple iCloud, other large receivers.
	{"sisimai rhost-apple-01", raw("smtp; 550 5.1.6 recipient no longer on server: kijitora@example.jp"), true, 550, "5.1.6", ReasonHasMoved, ""},
	{"sisimai rhost-apple-02", raw("smtp; 554 5.7.1 Your message was rejected due to libsisimai.org's DMARC policy. See https://support.apple.com/en-us/HT204137 for info"), true, 554, "5.7.1", ReasonAuthFailure, ""},
	{"sisimai rhost-apple-03", raw("smtp; 552 5.2.2 <pseudo-local-part-of-apple-icloud-mail@icloud.com>: user is over quota"), true, 552, "5.2.2", ReasonMailboxFull, ""},
	{"icloud", raw("554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137"), true, 554, "5.7.1", ReasonPolicyViolation, ""},
	{"sisimai rhost-franceptt-05", raw("smtp; 550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. LPN007_426"), true, 550, "5.5.0", ReasonSuspend, ""},
	{"sisimai rhost-franceptt-08", raw("smtp; 421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]"), false, 421, "4.2.0", ReasonSystemError, ""},
	{"sisimai rhost-franceptt-12", raw("smtp; 554 5.7.1 <xxxx.xxxx.net[#.#.#.#]:49309>: Client host rejected: #216 lpn LPN000_630"), true, 554, "5.7.1", ReasonBlocked, "sisimai says policyviolation; Postfix's \"Client host rejected\" is about the sending host"},
	{"sisimai rhost-facebook-03", raw("smtp; 550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.135#rcp Refused due to recipient preferences"), true, 550, "5.1.1", ReasonFiltered, "text wins over 5.1.1: the address exists"},
	{"sisimai rhost-facebook-04", raw("SMTP; 550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.54#rcp  Recipient address does not exist"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai rhost-godaddy-02", raw("SMTP; 553 http://www.spamhaus.org/query/bl?ip=192.0.2.222"), true, 553, "", ReasonBlocked, ""},
	{"sisimai rhost-godaddy-03", raw("smtp; 550 5.1.1 <kijitora@example.com>  - 203.0.113.222 has sent to too many recipients this hour. IB607  <http://x.co/rlbounce>"), true, 550, "5.1.1", ReasonSpeeding, "text wins over 5.1.1"},
	{"sisimai rhost-google-03", raw("smtp; 550-5.7.26 The MAIL FROM domain [mail4.example.com] has an SPF record with a 550-5.7.26 hard fail policy (-all) but it fails to pass SPF checks with the ip: 550-5.7.26 [192.0.2.24]. To best protect our users from spam and phishing, 550-5.7.26 the message has been blocked."), true, 550, "5.7.26", ReasonAuthFailure, ""},
	{"sisimai rhost-google-06", raw("smtp; 550-5.7.25 [192.0.2.202] The IP address sending this message does not have a 550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not 550-5.7.25 point to the sending IP."), true, 550, "5.7.25", ReasonRequirePTR, ""},
	{"sisimai rhost-google-08", raw("smtp; 550-5.7.1 This message is not RFC 5322 compliant. There are multiple Subject 550-5.7.1 headers. To reduce the amount of spam sent to Gmail, this message has 550-5.7.1 been blocked."), true, 550, "5.7.1", ReasonNotCompliantRFC, ""},
	{"sisimai rhost-iua-01", raw("smtp; 550 Mailbox is frozen. See http://mail.i.ua/err/3/"), true, 550, "", ReasonSuspend, ""},
	{"sisimai rhost-kddi-01", raw("SMTP; 550 : User unknown"), true, 550, "", ReasonUserUnknown, "sisimai says filtered (from the carrier's DSN body); the reply itself says user unknown"},
	{"sisimai rhost-kddi-02", raw("SMTP; 550 <otsu-sakaba-hunter-neko-nyaaaaaaan@au.com>: User unknown"), true, 550, "", ReasonUserUnknown, ""},
	{"sisimai rhost-messagelabs-01", raw("smtp; 550-Please turn on SMTP Authentication in your mail client."), true, 550, "", ReasonSecurityError, ""},
	{"sisimai rhost-messagelabs-02", raw("smtp; 550 kijitora@neko.example.org... No such user"), true, 550, "", ReasonUserUnknown, ""},
	{"sisimai rhost-microsoft-01", raw("SMTP; 550 5.7.606 Access denied, banned sending IP [198.51.100.222]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609)"), true, 550, "5.7.606", ReasonBlocked, ""},
	{"sisimai rhost-microsoft-04", raw("SMTP; 550 5.7.509 Access denied, sending domain [EXAMPLE.JP] does not pass DMARC verification and has a DMARC policy of reject."), true, 550, "5.7.509", ReasonAuthFailure, ""},
	{"sisimai rhost-microsoft-05", raw("smtp; 451 4.7.650 The mail server [192.0.2.25] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S3113)"), false, 451, "4.7.650", ReasonBadReputation, ""},
	{"sisimai rhost-tencent-01", raw("smtp; 550 Ip frequency limited [V2VkIEFwciAgMyAxNjozNjo1OSBKU1QgMjAxOQo=/RkNGMjlFQTVEQ0E Blocked IP 192.0.2.22]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725"), true, 550, "", ReasonTooManyConn, ""},
	{"sisimai rhost-tencent-02", raw("smtp; 550 Connection frequency limited [Q1YzZ3kxdnRYYnpkbVZ0MAo+QTMzMTMzRjUxNzQ4Cg/MTI3MTY2MDge= Blocked IP 192.0.2.22]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000722"), true, 550, "", ReasonTooManyConn, ""},
	{"sisimai rhost-tencent-03", raw("smtp; 550 DMARC check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1&&no=1001508&&id=16."), true, 550, "", ReasonAuthFailure, ""},
	{"sisimai rhost-mimecast-01", raw("smtp; 554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369#554 [z7qZw5BPd1zlDYHka4589ru.us222]"), true, 554, "", ReasonBlocked, "sisimai says policyviolation; Mimecast means the sending network is blocked"},
	{"sisimai rhost-mimecast-02", raw("smtp; 554 email rejected due to security policies - MCSpamSignature.sa.2.2"), true, 554, "", ReasonPolicyViolation, "sisimai says virusdetected; the reply names neither a virus nor (as a word) spam"},
	{"sisimai rhost-cox-01", raw("smtp; 550 5.1.0 <bounce@mailer.cnt1.example.com> sender rejected. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL"), true, 550, "5.1.0", ReasonRejected, "sisimai says blocked from Cox's code table (CDRBL); the text says the sender was rejected"},
	{"earthlink", raw("550 IP 192.0.2.212 is blocked by EarthLink. Go to earthlink.net/block for details."), true, 550, "", ReasonBlocked, ""},
	{"comcast", raw("554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 192.0.2.1 found on one or more RBLs (dnsbl.example), see http://postmaster.comcast.net/smtp-error-codes.php#BL000000"), true, 554, "", ReasonBlocked, ""},
	{"comcast", raw("550 5.1.1 <nobody@comcast.net> Not our Customer"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"mail.ru", raw("550 Message was not accepted -- invalid mailbox.  Local mailbox nobody@mail.ru is unavailable: user not found"), true, 550, "", ReasonUserUnknown, ""},
	{"yandex", raw("550 5.7.1 Policy rejection on the target address"), true, 550, "5.7.1", ReasonPolicyViolation, ""},
	{"gmx", raw("554-gmx.net (mxgmx001) Nemesis ESMTP Service not available\r\n554-No SMTP service\r\n554-Bad DNS PTR resource record.\r\n554 For explanation visit http://postmaster.gmx.com/en/error-messages?ip=192.0.2.22&c=rdns"), true, 554, "", ReasonRequirePTR, ""},
	{"qq", raw("550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728"), true, 550, "", ReasonUserUnknown, ""},
	{"zoho", raw("550 5.1.1 User does not exist - <nobody@zoho.com>"), true, 550, "5.1.1", ReasonUserUnknown, ""},

	// Postfix.
	{"postfix", se(550, "5.1.1", "<nobody@example.org>: Recipient address rejected: User unknown in local recipient table"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"postfix", se(550, "5.1.1", "<nobody@example.org>: Recipient address rejected: User unknown in virtual alias table"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"postfix", se(450, "4.1.1", "<nobody@example.org>: Recipient address rejected: unverified address: host mx.example.org[192.0.2.3] said: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"), false, 450, "4.1.1", ReasonUserUnknown, "temporary, so not a hard bounce"},
	{"postfix", se(554, "5.7.1", "<x@example.net>: Relay access denied"), true, 554, "5.7.1", ReasonNoRelaying, ""},
	{"postfix", se(450, "4.7.1", "Client host rejected: cannot find your hostname, [192.0.2.9]"), false, 450, "4.7.1", ReasonRequirePTR, ""},
	{"postfix", se(450, "4.7.25", "Client host rejected: cannot find your reverse hostname, [192.0.2.9]"), false, 450, "4.7.25", ReasonRequirePTR, ""},
	{"postfix", se(554, "5.7.1", "Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.9"), true, 554, "5.7.1", ReasonBlocked, ""},
	{"postfix", se(554, "5.7.1", "Service unavailable; Sender address [x@example.com] blocked using dbl.spamhaus.org; https://www.spamhaus.org/query/dbl?domain=example.com"), true, 554, "5.7.1", ReasonBlocked, ""},
	{"postfix", se(450, "4.1.8", "<x@nonexistent.example>: Sender address rejected: Domain not found"), false, 450, "4.1.8", ReasonRejected, ""},
	{"postfix", se(450, "4.1.2", "<x@nonexistent.example>: Recipient address rejected: Domain not found"), false, 450, "4.1.2", ReasonNetworkError, "a 4xx domain not found is a DNS lookup that failed for now"},
	{"postfix", se(550, "5.1.0", "<x@example.com>: Sender address rejected: User unknown in local recipient table"), true, 550, "5.1.0", ReasonRejected, "5.1.0 is generic: the text says it is the sender"},
	{"postfix", se(552, "5.3.4", "Message size exceeds fixed limit"), true, 552, "5.3.4", ReasonMesgTooBig, ""},
	{"postfix", se(452, "4.3.1", "Insufficient system storage"), false, 452, "4.3.1", ReasonSystemFull, ""},
	{"postfix", se(450, "4.2.0", "<x@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html"), false, 450, "4.2.0", ReasonOnHold, ""},
	{"postfix", se(452, "4.5.3", "Error: too many recipients"), false, 452, "4.5.3", ReasonTooManyConn, ""},
	{"postfix", se(554, "5.7.1", "<x@example.org>: Recipient address rejected: Access denied"), true, 554, "5.7.1", ReasonSecurityError, ""},
	{"postfix", se(550, "5.7.1", "<mail.example.com>: Helo command rejected: Host not found"), true, 550, "5.7.1", ReasonBlocked, "about our HELO name: not hostunknown, which would be a hard bounce"},
	{"postfix", se(504, "5.5.2", "<localhost>: Helo command rejected: need fully-qualified hostname"), true, 504, "5.5.2", ReasonSyntaxError, ""},
	{"postfix", se(451, "4.3.5", "Server configuration problem"), false, 451, "4.3.5", ReasonSystemError, ""},
	{"postfix", se(421, "4.4.2", "mx.example.org Error: timeout exceeded"), false, 421, "4.4.2", ReasonNetworkError, ""},
	{"postfix", se(451, "4.3.0", "<x@example.org>: Temporary lookup failure"), false, 451, "4.3.0", ReasonSystemError, ""},
	{"postfix", se(554, "5.7.1", "<unknown[192.0.2.9]>: Client host rejected: Access denied"), true, 554, "5.7.1", ReasonBlocked, ""},
	{"postfix", se(421, "4.3.2", "Service shutting down"), false, 421, "4.3.2", ReasonNotAccept, ""},
	{"sisimai lhost-postfix-09", raw("smtp; 452 4.3.2 Connection rate limit exceeded."), false, 452, "4.3.2", ReasonTooManyConn, ""},
	{"sisimai lhost-postfix-10", raw("smtp; 553 5.1.8 <root@vagrant-centos65.vagrantup.com>... Domain of sender address root@vagrant-centos65.vagrantup.com does not exist"), true, 553, "5.1.8", ReasonRejected, ""},
	{"sisimai lhost-postfix-16", raw("smtp; 550 5.1.6 recipient no longer on server: kijitora@example.go.jp"), true, 550, "5.1.6", ReasonHasMoved, ""},
	{"sisimai lhost-postfix-28", raw("smtp; 550-5.7.1 [2401:2500:102:3032:192.0.2.222      13] Messages with multiple 550 5.7.1 addresses in From: header are not accepted. v14si1155795plk.134 - gsmtp"), true, 550, "5.7.1", ReasonNotCompliantRFC, "folded mid-phrase: ParseReply splits at the embedded \"550 5.7.1\" and the phrase continues on the next line"},
	{"sisimai lhost-postfix-38", raw("smtp; 554 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip=192.0.2.225"), true, 554, "", ReasonBlocked, ""},
	{"sisimai lhost-postfix-39", raw("smtp; 554 5.6.0 This message has been scored as spam with a probability of more than 90%"), true, 554, "5.6.0", ReasonSpamDetected, ""},
	{"sisimai lhost-postfix-40", raw("smtp; 451 Could not load DRD for domain (example.com) rcpt (kijitora@example.com)"), false, 451, "", ReasonSystemError, ""},
	{"sisimai lhost-postfix-41", raw("550 Protocol violation"), true, 550, "", ReasonSyntaxError, "sisimai says policyviolation; a protocol violation is a protocol (syntax) error"},
	{"sisimai lhost-postfix-44", raw("501 Rcpt-To validation failed: RCPT TO not accepted: 5.7.1 This system is not configured to relay mail (r) from <nekonyaans@p2.example.com> to <kijitora@example.jp> for 127.0.0.1"), true, 501, "", ReasonNoRelaying, ""},
	{"sisimai lhost-postfix-52", raw("smtp; 554 delivery error: dd Sorry your message to kijitora@example.co.jp cannot be delivered. This account has been disabled or discontinued [#102]. - mta222.mail.neko.example.co.jp"), true, 554, "", ReasonSuspend, ""},
	{"sisimai lhost-postfix-53", raw("smtp; 504 Command parameter not implemented"), true, 504, "", ReasonSyntaxError, ""},
	{"sisimai lhost-postfix-59", raw("smtp; 550-5.2.1 The user you are trying to contact is receiving mail at a rate that 550-5.2.1 prevents additional messages from being delivered. For more 550-5.2.1 information, please visit 550 5.2.1 https://support.google.com/mail/?p=ReceivingRatePerm p131si8414989oif.118 - gsmtp"), true, 550, "5.2.1", ReasonSpeeding, "text wins over 5.2.1"},
	{"sisimai lhost-postfix-62", raw("smtp; 550 Virus Detected; Content Rejected"), true, 550, "", ReasonVirusDetected, ""},
	{"sisimai lhost-postfix-65", raw("smtp; 550 Unauthenticated senders not allowed"), true, 550, "", ReasonSecurityError, ""},
	{"sisimai lhost-postfix-70", raw("smtp; 550-5.7.26 Unauthenticated email from libsisimai.org is not accepted due to 550-5.7.26 domain's DMARC policy. Please contact the administrator of 550-5.7.26 libsisimai.org domain if this was a legitimate mail."), true, 550, "5.7.26", ReasonAuthFailure, ""},
	{"sisimai lhost-amavis-01", raw("smtp; 550 5.1.1 <neko@example.co.jp>: Recipient address rejected: User unknown in virtual mailbox table"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai lhost-amavis-03", raw("smtp; 554 5.7.0 Reject, id=20025-09 - SPAM"), true, 554, "5.7.0", ReasonSpamDetected, "sisimai says notcompliantrfc; amavis says SPAM"},

	// Exim.
	{"exim", raw("550 Unrouteable address"), true, 550, "", ReasonHostUnknown, ""},
	{"exim", raw("550 No Such User Here"), true, 550, "", ReasonUserUnknown, ""},
	{"exim", raw("550-Verification failed for <x@example.com>\n550-Unrouteable address\n550 Sender verify failed"), true, 550, "", ReasonRejected, "sender verification, not the recipient's domain"},
	{"exim", raw("550 Administrative prohibition"), true, 550, "", ReasonPolicyViolation, ""},
	{"exim", raw("550 relay not permitted"), true, 550, "", ReasonNoRelaying, ""},
	{"exim", raw("451 Temporary local problem - please try later"), false, 451, "", ReasonSystemError, ""},
	{"exim", raw("550-Mailbox quota exceeded"), true, 550, "", ReasonMailboxFull, ""},
	{"exim", raw("451 Could not complete sender verify callout"), false, 451, "", ReasonRejected, ""},
	{"exim", raw("550 Invalid HELO name (See RFC2821 4.1.1.1)"), true, 550, "", ReasonBlocked, ""},
	{"exim", raw("550 Sender IP reverse lookup rejected"), true, 550, "", ReasonRequirePTR, ""},
	{"exim", raw("550 SPF check failed."), true, 550, "", ReasonAuthFailure, ""},
	{"exim", raw("550 Rejected because 192.0.2.1 is in a black list at zen.spamhaus.org"), true, 550, "", ReasonBlocked, ""},
	{"exim", raw("451-192.0.2.1 is not yet authorized to deliver mail from\n451 <x@example.com> to <y@example.org>. Please try later."), false, 451, "", ReasonOnHold, "greylistd's text, without the word greylist"},
	{"sisimai lhost-exim-29", raw("smtp; 550 Bad SPF records for [example.org:192.0.2.2], see http://spf.pobox.com/"), true, 550, "", ReasonAuthFailure, ""},

	// Sendmail.
	{"sendmail", raw("550 5.1.1 <nobody@example.org>... User unknown"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sendmail", raw("550 5.7.1 <x@example.net>... Relaying denied. IP name lookup failed [192.0.2.9]"), true, 550, "5.7.1", ReasonRequirePTR, "the relay is denied because of the missing PTR"},
	{"sendmail", raw("550 5.7.1 <x@example.net>... Relaying denied"), true, 550, "5.7.1", ReasonNoRelaying, ""},
	{"sendmail", raw("451 4.4.1 reply: read error from mx.example.org."), false, 451, "4.4.1", ReasonNetworkError, ""},
	{"sendmail", raw("554 5.0.0 Service unavailable"), true, 554, "5.0.0", ReasonSystemError, ""},
	{"sendmail", raw("553 5.3.0 <x@example.org>... Spam blocked see: http://spamcop.net/bl.shtml?192.0.2.9"), true, 553, "5.3.0", ReasonBlocked, ""},
	{"sendmail", raw("551 5.1.6 <x@example.org>... User has moved; please try <x@example.net>"), true, 551, "5.1.6", ReasonHasMoved, ""},
	{"sendmail", raw("550 5.1.2 <x@nonexistent.example>... Host unknown (Name server: nonexistent.example: host not found)"), true, 550, "5.1.2", ReasonHostUnknown, ""},
	{"sendmail", raw("421 4.3.2 Connection rate limit exceeded."), false, 421, "4.3.2", ReasonTooManyConn, ""},
	{"sendmail", raw("452 4.5.3 Too many recipients"), false, 452, "4.5.3", ReasonTooManyConn, ""},
	{"sendmail", raw("554 5.7.1 Rejected 192.0.2.9 found in dnsbl.sorbs.net"), true, 554, "5.7.1", ReasonBlocked, ""},
	{"sisimai lhost-sendmail-04", raw("SMTP; 553 5.1.8 <httpd@host1.mx.example.jp>... Domain of sender address httpd@host1.mx.example.jp does not exist"), true, 553, "5.1.8", ReasonRejected, ""},
	{"sisimai lhost-sendmail-05", raw("SMTP; 552 5.2.3 Message size exceeds fixed maximum message size (10485760)"), true, 552, "5.2.3", ReasonExceedLimit, ""},
	{"sisimai lhost-sendmail-06", raw("SMTP; 550 5.6.9 improper use of 8-bit data in message header"), true, 550, "5.6.9", ReasonContentError, ""},
	{"sisimai lhost-sendmail-07", raw("SMTP; 554 5.7.1 <kijitora@example.org>: Relay access denied"), true, 554, "5.7.1", ReasonNoRelaying, ""},
	{"sisimai lhost-sendmail-08", raw("SMTP; 450 4.7.1 Access denied. IP name lookup failed [192.0.2.222]"), false, 450, "4.7.1", ReasonRequirePTR, ""},
	{"sisimai lhost-sendmail-09", raw("SMTP; 554 5.7.9 Header error"), true, 554, "5.7.9", ReasonPolicyViolation, "was securityerror from 5.7.9 alone; a header check is the receiver's policy, as sisimai says, so \"header error\" is a strong phrase now"},
	{"sisimai lhost-sendmail-10", raw("SMTP; 450 4.7.1 <c135.kyoto.example.ne.jp[192.0.2.56]>: Client host rejected: may not be mail exchanger"), false, 450, "4.7.1", ReasonBlocked, ""},
	{"sisimai lhost-sendmail-17", raw("SMTP; 551 not our user"), true, 551, "", ReasonHasMoved, ""},
	{"sisimai lhost-sendmail-35", raw("SMTP; 525 5.7.13 Disabled recipient address"), true, 525, "5.7.13", ReasonSuspend, ""},
	{"sisimai lhost-sendmail-38", raw("SMTP; 550 5.7.1 message content rejected"), true, 550, "5.7.1", ReasonSpamDetected, ""},
	{"sisimai lhost-sendmail-39", raw("SMTP; 452 4.4.5 Insufficient disk space; try again later"), false, 452, "4.4.5", ReasonSystemFull, ""},
	{"sisimai lhost-sendmail-53", raw("SMTP; 550 Unauthenticated senders not allowed"), true, 550, "", ReasonSecurityError, ""},
	{"sisimai lhost-sendmail-57", raw("SMTP; 550 Host does not accept mail"), true, 550, "", ReasonNotAccept, ""},

	// qmail.
	{"qmail", raw("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"), true, 553, "", ReasonNoRelaying, ""},
	{"qmail", raw("550 sorry, no mailbox here by that name. (#5.1.1)"), true, 550, "", ReasonUserUnknown, ""},
	{"qmail", raw("552 sorry, that message size exceeds my databytes limit (#5.3.4)"), true, 552, "", ReasonMesgTooBig, "the text wins over 552's storage allocation"},
	{"qmail", raw("451 qq temporary problem (#4.3.0)"), false, 451, "", ReasonSystemError, ""},
	{"qmail", raw("553 sorry, your envelope sender has been denied (#5.7.1)"), true, 553, "", ReasonRejected, ""},
	{"qmail", raw("553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"), true, 553, "", ReasonRejected, ""},
	{"qmail", raw("554 sorry, no valid recipients (#5.1.3)"), true, 554, "", ReasonUserUnknown, ""},
	{"qmail", raw("553 sorry, this recipient is not in my validrcptto list (#5.7.1)"), true, 553, "", ReasonUserUnknown, ""},
	{"qmail", raw("451 DENYSOFT greylisted, please try again later"), false, 451, "", ReasonOnHold, ""},
	{"qmail", ClassifyReply(0, EnhancedCode{5, 1, 2}, "Sorry, I couldn't find any host named nonexistent.example. (#5.1.2)").Err, true, 0, "5.1.2", ReasonHostUnknown, "qmail writes no reply code; the DSN Status gives the enhanced code"},
	{"qmail", ClassifyReply(0, EnhancedCode{4, 4, 1}, "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)").Err, false, 0, "4.4.1", ReasonNetworkError, ""},

	// Amazon SES.
	{"amazon ses", raw("554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: x@example.com"), true, 554, "", ReasonRejected, ""},
	{"amazon ses", raw("454 Throttling failure: Maximum sending rate exceeded."), false, 454, "", ReasonSpeeding, ""},
	{"amazon ses", raw("454 Throttling failure: Daily message quota exceeded."), false, 454, "", ReasonSpeeding, "our sending quota, not a full mailbox"},
	{"sisimai lhost-amazonses-14", raw("smtp; 554 5.7.1 <a8-95.smtp-out.amazonses.com[203.0.113.22]>: Client host rejected: blocked using mail.neko.example.org; Please see http://mail.neko.example.org/rbl/?ip=203.0.113.22 to send."), true, 554, "5.7.1", ReasonBlocked, ""},
	{"sisimai lhost-amazonses-17", raw("smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>"), true, 554, "4.4.7", ReasonExpired, ""},
	{"sisimai lhost-amazonses-18", raw("smtp; 550 5.4.4 Invalid domain"), true, 550, "5.4.4", ReasonHostUnknown, ""},
	{"sisimai lhost-amazonses-19", raw("smtp; 550 5.7.1 <kijitora@example.com>: Recipient address rejected: User kijitora@example.com temporary locked. Please try again later!"), true, 550, "5.7.1", ReasonSuspend, ""},
	{"sisimai lhost-receivingses-05", raw("smtp; 552 5.3.4 Message too large"), true, 552, "5.3.4", ReasonMesgTooBig, ""},
	{"sisimai lhost-receivingses-06", raw("smtp; 500 5.6.1 Message content rejected"), true, 500, "5.6.1", ReasonSpamDetected, "text wins over 5.6.1"},
	{"sisimai lhost-receivingses-08", raw("smtp; 552 5.2.3 Message length exceeds limit set by recipient"), true, 552, "5.2.3", ReasonExceedLimit, ""},
	{"sisimai lhost-receivingses-03", raw("smtp; 450 4.0.0 Temporary failure"), false, 450, "4.0.0", ReasonUndefined, "sisimai says onhold; the reply says nothing more than 4.0.0"},

	// Proofpoint, Mimecast, Barracuda, other filters.
	{"proofpoint", raw("554 5.7.1 [P4] Message blocked due to spam content in the message."), true, 554, "5.7.1", ReasonSpamDetected, ""},
	{"proofpoint", raw("554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1"), true, 554, "", ReasonBlocked, ""},
	{"proofpoint", raw("550 5.7.1 [CS01] Message rejected due to local policy. Please visit https://www.proofpoint.com/us/blocked-email-sender-removal"), true, 550, "5.7.1", ReasonPolicyViolation, ""},
	{"mimecast", raw("550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550 [abc.us16]"), true, 550, "", ReasonUserUnknown, ""},
	{"mimecast", raw("550 Rejected by header based Anti-Spoofing policy: x@example.com - https://community.mimecast.com/docs/DOC-1369#550"), true, 550, "", ReasonPolicyViolation, ""},
	{"mimecast", raw("550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550"), true, 550, "", ReasonPolicyViolation, ""},
	{"mimecast", raw("451 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#451"), false, 451, "", ReasonNoRelaying, ""},
	{"mimecast", raw("421 Sender rate limited - https://community.mimecast.com/docs/DOC-1369#421"), false, 421, "", ReasonSpeeding, ""},
	{"mimecast", raw("554 Mail loop detected - https://community.mimecast.com/docs/DOC-1369#554"), true, 554, "", ReasonNetworkError, ""},
	{"mimecast", raw("550 Envelope blocked - User Entry - https://community.mimecast.com/docs/DOC-1369#550"), true, 550, "", ReasonBlocked, ""},
	{"barracuda", raw("550 permanent failure for one or more recipients (x@example.org:blocked)"), true, 550, "", ReasonBlocked, ""},
	{"barracuda", raw("554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?pr=1&ip=192.0.2.1"), true, 554, "", ReasonBlocked, "listed in a block list, not a receiver's own reputation verdict"},
	{"sisimai lhost-barracuda-01", raw("smtp; 550 5.7.1 Message content rejected, UBE, id=00000-22-225"), true, 550, "5.7.1", ReasonSpamDetected, ""},
	{"amavis", raw("554 5.7.0 Reject, id=12345-01 - VIRUS: Eicar-Test-Signature"), true, 554, "5.7.0", ReasonVirusDetected, ""},
	{"spamhaus", raw("550 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org"), true, 550, "5.7.1", ReasonBlocked, ""},
	{"spamhaus", raw("550 5.7.1 Mail from 192.0.2.1 refused - see https://www.spamhaus.org/query/ip/192.0.2.1"), true, 550, "5.7.1", ReasonBlocked, ""},
	{"spamhaus", raw("421 4.7.0 DNSBL: IP 192.0.2.1 listed in sbl.spamhaus.org"), false, 421, "4.7.0", ReasonBlocked, ""},

	// Other sisimai corpus replies.
	{"sisimai lhost-courier-01", raw("smtp; 550 5.1.1 <kijitora@example.co.jp>... User Unknown"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai lhost-courier-02", raw("smtp; 550 Unknown user kijitora@example.jp"), true, 550, "", ReasonUserUnknown, "sisimai says filtered (Courier's body); the reply says unknown user"},
	{"sisimai lhost-courier-03", raw("smtp; 550 5.7.1 can't determine Purported  Responsible Address"), true, 550, "5.7.1", ReasonRejected, ""},
	{"sisimai lhost-bigfoot-02", raw("SMTP; 553 Invalid recipient kijitora@example.org (Mode: normal)"), true, 553, "", ReasonUserUnknown, ""},
	{"sisimai lhost-messagingserver-03", raw("smtp; 550 5.7.1 550 User Unknown: sabineko@example.org"), true, 550, "5.7.1", ReasonUserUnknown, "sisimai says filtered; 5.7.1 is generic and the text says user unknown"},
	{"sisimai lhost-messagingserver-11", raw("smtp;501 5.1.8 Sender address rejected"), true, 501, "5.1.8", ReasonRejected, ""},
	{"sisimai lhost-powermta-01", raw("smtp;550 5.2.1 <kijitora@example.jp>... User Unknown"), true, 550, "5.2.1", ReasonSuspend, "a specific enhanced code beats a weak phrase"},
	{"sisimai lhost-powermta-02", raw("smtp;554 delivery error: dd This user doesn't have a example.com account (kijitora@example.com) [0] - mta1082.mail.bf1.example.com"), true, 554, "", ReasonUserUnknown, ""},
	{"sisimai lhost-surfcontrol-02", raw("smtp; 554 Service currently unavailable"), true, 554, "", ReasonSystemError, ""},
	{"sisimai lhost-yandex-02", raw("smtp; 550 5.2.2 <sabineko@example.jp>... Mailbox Full"), true, 550, "5.2.2", ReasonMailboxFull, ""},
	{"sisimai lhost-amazonworkmail-03", raw("smtp; 550 5.3.5 <kuroneko@example.org>... Internal System Error"), true, 550, "5.3.5", ReasonSystemError, ""},
	{"sisimai lhost-exchange2007-04", raw("smtp;550 5.7.1 RESOLVER.RST.AuthRequired; authentication required"), true, 550, "5.7.1", ReasonSecurityError, ""},
	{"sisimai lhost-mcafee-02", raw("smtp; 550 5.1.1 <kijitora@example.jp>... User unknown"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai rfc3464-01", raw("SMTP; 550 5.1.1 <userunknown@bouncehammer.jp>... User Unknown"), true, 550, "5.1.1", ReasonUserUnknown, "sisimai says mailboxfull from the DSN body; the reply says 5.1.1 user unknown"},
	{"sisimai rfc3464-03", raw("smtp; 554 Mail from nekonyaan@example.net rejected for policy reasons."), true, 554, "", ReasonPolicyViolation, ""},
	{"sisimai rfc3464-28", raw("smtp; 250 2.1.5 Ok"), false, 250, "2.1.5", ReasonDelivered, ""},
	{"sisimai rfc3464-29", raw("smtp;503 Improper sequence of commands"), true, 503, "", ReasonSyntaxError, ""},
	{"sisimai rfc3464-36", raw("smtp; 426 connection timed out"), false, 426, "", ReasonNetworkError, "sisimai says expired (the DSN gave up); the reply is a timeout"},
	{"sisimai rfc3464-43", raw("smtp; 451 4.3.0 This message could not be delivered due to a recipient error. Please try again later."), false, 451, "4.3.0", ReasonSystemError, "sisimai says onhold; 4.3.0 is a mail system status"},
	{"sisimai rfc3464-51", raw("smtp; 550 #5.1.0 Address rejected."), true, 550, "5.1.0", ReasonUserUnknown, ""},
	{"sisimai rfc3464-52", ClassifyReply(0, EnhancedCode{4, 0, 0}, "smtp; DNS Error: 80458680 DNS type 'mx' lookup of libsisimai.org responded with code NOERROR The domain libsisimai.org doesn't receive email according to the administrator: returned Null MX https://www.rfc-editor.org/info/rfc7505").Err, false, 0, "4.0.0", ReasonNotAccept, "temporary as the DSN's Status says, so not a hard bounce"},
	{"sisimai rfc3464-53", ClassifyReply(0, EnhancedCode{4, 0, 0}, "smtp; DNS Error: 80335577 DNS type 'mx' lookup of example.jp responded with code NXDOMAIN Domain name not found: example.jp").Err, false, 0, "4.0.0", ReasonNetworkError, "NXDOMAIN under a temporary Status: a lookup that failed for now, as sisimai says"},
	{"sisimai rfc3464-63", raw("smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser y3si675602plr.1 - gsmtp"), true, 550, "5.1.1", ReasonUserUnknown, ""},
	{"sisimai rhost-aol-01", ClassifyReply(0, EnhancedCode{5, 4, 4}, "X-Outbound-Mail-Relay; Host or domain name not found. Name service error for name=example.jp type=A: Host not found").Err, true, 0, "5.4.4", ReasonHostUnknown, ""},
	{"sisimai lhost-postfix-17", ClassifyReply(0, EnhancedCode{5, 4, 4}, "X-Postfix; Name service error for name=example.org type=MX: Malformed or unexpected name server reply").Err, true, 0, "5.4.4", ReasonNetworkError, "a malformed DNS answer says nothing about the domain, even under Postfix's 5.4.4; as sisimai says"},
	{"postfix TRY_AGAIN", ClassifyReply(0, EnhancedCode{5, 4, 4}, "X-Postfix; Name service error for name=example.com type=MX: Host not found, try again").Err, true, 0, "5.4.4", ReasonNetworkError, "the resolver's TRY_AGAIN (Postfix dns_strerror): no answer for now, not a domain that does not exist"},
	{"sisimai rfc3464-34", ClassifyReply(0, EnhancedCode{4, 4, 1}, "X-Postfix; connect to nyaan.example.com[192.0.2.2]:25: No route to host").Err, false, 0, "4.4.1", ReasonNetworkError, ""},
	{"sisimai lhost-postfix-45", ClassifyReply(0, EnhancedCode{4, 3, 0}, "x-unix; /var/email/kijitora/Maildir/tmp/1000000000.A000000B00000.neko22: Disk quota exceeded").Err, false, 0, "4.3.0", ReasonMailboxFull, ""},

	// go-smtp without an enhanced code, and with the zero value.
	{"go-smtp", gs(550, noEnh, "No such user here"), true, 550, "", ReasonUserUnknown, ""},
	{"go-smtp", gs(421, smtp.EnhancedCodeNotSet, "Too many connections, try again later"), false, 421, "", ReasonTooManyConn, ""},
	{"go-smtp", gs(552, smtp.EnhancedCode{5, 3, 4}, "Max message size exceeded"), true, 552, "5.3.4", ReasonMesgTooBig, ""},
	{"go-smtp", gs(554, noEnh, "5.7.1 Message rejected as spam"), true, 554, "5.7.1", ReasonSpamDetected, "enhanced code found in the text"},
	{"go-smtp", gs(452, smtp.EnhancedCode{4, 5, 3}, "Too many recipients"), false, 452, "4.5.3", ReasonTooManyConn, ""},

	// RFC 5321 section 4.5.3.1.10: 552 "too many recipients" is temporary.
	{"rfc 5321", raw("552 5.1.1 Too many recipients"), false, 552, "5.1.1", ReasonTooManyConn, "text wins over 5.1.1; 552 too many recipients is temporary"},
	{"rfc 5321", raw("552 Too many recipients"), false, 552, "", ReasonTooManyConn, ""},
	{"rfc 5321", raw("552 5.5.3 Recipient limit exceeded"), false, 552, "5.5.3", ReasonTooManyConn, ""},
	{"rfc 7504", raw("521 5.3.2 mail.example.org does not accept mail"), true, 521, "5.3.2", ReasonNotAccept, ""},
	{"rfc 7504", raw("556 5.1.10 Recipient address has null MX"), true, 556, "5.1.10", ReasonNotAccept, ""},
	{"rfc 7505", raw("550 5.7.27 Sender address has null MX"), true, 550, "5.7.27", ReasonRejected, "sisimai says notaccept, which would make our recipient a hard bounce for the sender's problem"},
	{"rfc 8689", raw("550 5.7.30 REQUIRETLS support required"), true, 550, "5.7.30", ReasonFailedSTARTTLS, ""},
	{"rfc 3207", raw("530 5.7.0 Must issue a STARTTLS command first"), true, 530, "5.7.0", ReasonFailedSTARTTLS, ""},
}

func TestClassifyReplies(t *testing.T) {
	if len(replyCases) < 150 {
		t.Fatalf("only %d real-world replies, want at least 150", len(replyCases))
	}
	for i, c := range replyCases {
		name := fmt.Sprintf("%03d-%s", i, c.source)
		t.Run(name, func(t *testing.T) {
			check := func(label string, f Failure) {
				t.Helper()
				if f.Permanent != c.perm || f.Code != c.code || f.EnhancedCode.String() != c.enh || f.Reason != c.reason {
					t.Errorf("%s: %v\ngot  permanent %v, code %d, enhanced %q, reason %s\nwant permanent %v, code %d, enhanced %q, reason %s (%s)",
						label, c.err, f.Permanent, f.Code, f.EnhancedCode, f.Reason, c.perm, c.code, c.enh, c.reason, c.note)
				}
				if len(f.Lines) == 0 {
					t.Errorf("%s: no Lines", label)
				}
			}
			check("plain", Classify(c.err))
			check("wrapped", Classify(fmt.Errorf("deliver to mx: %w", fmt.Errorf("attempt 3: %w", c.err))))
		})
	}
}
