// Package bounce classifies failed mail deliveries: it turns the error of an
// SMTP delivery attempt, or the reply text a DSN reports, into a Failure
// that says whether retrying can help, which SMTP reply and enhanced status
// code the receiver gave, at which stage of the transaction, and why, in
// sisimai's taxonomy of 36 reasons. It also holds the one definition of a
// hard bounce (Failure.HardBounce), which the suppression policy uses.
//
// It knows nothing of queues, databases or webhooks, and depends on the
// standard library only, plus go-smtp to recognise its *smtp.SMTPError; a
// test checks that. Package queue records and acts on its Failures;
// package suppression decides from them.
//
// RFCs:
//
//   - RFC 5321, SMTP: reply codes (section 4.2, 4.2.2, 4.2.3), the reply
//     line format (section 4.2.1), the transaction stages (section 3, 4.3.2
//     command-reply sequences), and 552 "too many recipients" as temporary
//     (section 4.5.3.1.10).
//   - RFC 3463, Enhanced Mail System Status Codes, with the IANA registry's
//     later codes (RFC 5248, RFC 6710, RFC 7293, RFC 7372, RFC 8689):
//     EnhancedCode, and the reasons of the codes.
//   - RFC 2034, enhanced codes in replies (section 4).
//   - RFC 7504, SMTP 521 and 556 reply codes: the host or domain accepts no
//     mail.
//   - RFC 7505, null MX: status X.1.10 (Failure.NullMX) and X.7.27.
//   - RFC 3464, delivery status notifications: a Diagnostic-Code's reply
//     (section 2.3.6), read by ParseReply and ClassifyReply.
//
// # Layout
//
//   - classify.go: Classify and ClassifyReply, the dispatch per error type
//     (our SMTPError, go-smtp, net/smtp, DNS, dial, TLS, context), and the
//     reason of a reply from its codes.
//   - text.go: the text rules, phrases real MTAs write and the reason each
//     gives, the about-us rules (a reply about our client, sender or rate),
//     and the matching, which skips addresses a reply echoes.
//   - reply.go: SMTPError, the reply type for hosts whose SMTP client is
//     neither go-smtp nor net/smtp, and ParseReply.
//   - code.go: EnhancedCode, ParseEnhancedCode (the module's one parser of
//     enhanced status codes) and CutEnhancedCode.
//   - reason.go: Reason, Reasons and Detail.
//   - stage.go: Stage, the step of the transaction a failure happened at.
//   - failure.go: Failure and Failure.Text.
//   - hardbounce.go: the hard-bounce definition, NoReply, NullMX and
//     EffectiveReason.
//
// # Decisions
//
//   - The enhanced code wins over the reply code, the reply code over text;
//     text wins only where real MTAs are known to misuse codes, and each
//     such rule names the MTA (see Classify).
//   - A reply about us (our client, HELO, envelope sender or rate) is never
//     a hard bounce of the recipient.
//   - suspend (a disabled mailbox) is not a hard bounce: mailboxes are
//     enabled again, and sisimai calls it soft.
//   - Classify reads the error with errors.As and errors.Is only and does
//     not recover: an error type whose Unwrap panics panics through it.
//   - Phrases are found by a scan of the rule table, phrase by phrase,
//     over the reply folded once (text.go), reading at most its first
//     64 KB. The first three bytes of every word of the reply are noted in
//     a small bit set, so that most phrases are ruled out without a
//     search: without it, a code-only reply missed the README's target for
//     BenchmarkClassifyCodeOnlyText. An earlier index of the rule table
//     itself, built at init, was faster still but not worth its code next
//     to a transaction's fsync (the figures are in the README).
package bounce
