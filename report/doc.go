// Package ndr reads non-delivery reports ("bounces") that do not follow RFC
// 3464, and those that do, and returns the failed recipients with the remote
// server's reply.
//
// A delivery failure that happens after the next hop accepted a message comes
// back as a mail message. Standard DSNs (RFC 3464, RFC 6533) carry a
// message/delivery-status part with one field group per recipient, but many
// real bounces carry only text written for people: qmail's "Hi. This is the
// qmail-send program", Exim's "This message was created automatically by mail
// delivery software" without a DSN part, old Sendmail transcripts, Exchange and
// Office 365 NDRs, Gmail, Yahoo and many appliances and webmail services.
// Parse finds the recipients, the SMTP reply code (RFC 5321), the enhanced
// status code (RFC 3463) and the error text in either kind, so a mail server
// can match a bounce to the message it is about and decide whether the address
// is dead (5.x.x) or the failure was temporary (4.x.x).
//
// # Approach
//
// Parse walks the MIME structure (multipart, quoted-printable and base64
// parts, HTML parts reduced to text, LF, CRLF or CR line endings, 8-bit
// bytes) and collects the text parts, the message/delivery-status part and
// the headers of the returned message (message/rfc822 or text/rfc822-headers).
// Text parts of the returned message are not searched.
//
// Then, in order:
//
//   - An Amazon SES notification in JSON (as SNS mails it) is read as such:
//     bounces and deliveries give recipients, a complaint gives a Report with
//     Complaint set and no recipients.
//   - A message that shows too little sign of being a bounce (sender such as
//     MAILER-DAEMON, a bounce subject, bounce wording in the text, a DSN part,
//     an X-Failed-Recipients field) is not parsed further: it is an auto-reply
//     (see IsAutoReply) or not a bounce (ErrNotBounce). A feedback report (RFC
//     5965 ARF) is not a bounce either.
//   - If a delivery-status part (or DSN fields pasted into the text) names
//     recipients, they are used, and the text fills in what a recipient lacks
//     (a missing Diagnostic-Code, a pipe or file recipient).
//   - Otherwise the text is cut where the copy of the original message starts
//     ("--- Below this line is a copy of the message.", "------ This is a copy
//     of the message, including all the headers. ------", "----- Original
//     message -----", ...), and recipients are searched in this order: Exim's
//     X-Failed-Recipients field; lines that start with an address (qmail
//     "<x@y>:", Exim's indented address, Sendmail's "554 <x@y>... reason",
//     Gmail's and Exchange's recipient lists); labelled addresses ("RCPT
//     TO:<x@y>", "Recipient address: x@y"); any other address in the text;
//     the To and Cc of the returned message. Addresses of the bounce itself
//     (its From and To), the sender named after "MAIL FROM:" and
//     postmaster-like local parts are skipped unless nothing else is found.
//   - The diagnostic of a recipient is the text that follows its line up to a
//     blank line or the next recipient; if that has no reply or status code,
//     the first reply in the text with its continuation lines ("550-5.1.1
//     ..." lines joined) is added; failing both, the first paragraph with
//     error wording. The reply code and enhanced status code are the first
//     ones in the diagnostic; an Exchange 2000/2003 NDR code ("MSEXCH:...
//     (000C05A6)") gives the enhanced status code it stands for.
//   - Where a Sendmail session transcript shows it, Recipient.Command is the
//     command the reply answered: ">>> RCPT To:<x@y>" then "<<< 550 ...".
//     With PIPELINING, a reply read after ">>> DATA" that names the
//     recipient, or that DATA's own reply follows, answered RCPT TO.
//   - A recipient is "delayed" when its code is 4xx or 4.x.x, or, without
//     codes, when the text speaks of a temporary failure or of retrying and
//     not of a permanent one.
//
// The format is named (Report.Format) from phrases that identify the
// software, for logs and statistics; recipients are found by the same rules
// whatever the format.
//
// # Limits
//
// Input is limited to MaxSize bytes, MIME nesting to 8 levels and 200 parts,
// decoded text to 1 MB of which the first 128 KB of bounce text are searched,
// and a Report to MaxRecipients recipients. Parse reads one message: a file
// holding several bounces yields the first. The reason for a failure
// (userunknown, mailboxfull, ...) is left to the caller's classifier, which
// gets the Diagnostic, Status and Code.
//
// # Measured
//
// On the shared corpus of real bounces (sisimai's set-of-emails, see
// testdata/corpus/README.md), the corpus test checks the number and order of
// recipients, that each is a plausible address found in the bounce, and that
// the class (2, 4 or 5) of each matches sisimai's status; it logs a table per
// format and asserts floors (the figures are in the README); the files it
// counts as wrong are disagreements with sisimai's labels, each argued in
// the test.
// testdata/corpus.golden holds the full output (addresses, codes,
// diagnostics) for every corpus file, reviewed by hand, as a regression test.
//
// # Layout
//
//   - ndr.go: Parse and the Report and Recipient types.
//   - mime.go: the MIME walk and decoding of parts.
//   - dsnpart.go: reports that carry a delivery-status part.
//   - text.go: the text rules for bounces without one.
//   - format.go: naming the software that wrote a bounce.
//   - ses.go: Amazon SES notifications.
//   - autoreply.go: auto-replies (RFC 3834).
//
// RFCs: RFC 3464 (DSN), RFC 3463 (enhanced status codes), RFC 5321 (reply
// codes), RFC 3834 (auto-replies), RFC 5965 (ARF, recognised to be refused),
// RFC 2045-2047 (MIME).
package report
