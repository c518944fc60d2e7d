// Package report reads what comes back after mail was sent, and returns it
// as a typed Report: delivery status notifications (RFC 3464, RFC 6533),
// bounces in other formats, feedback reports (RFC 5965), sending services'
// own notifications (Amazon SES) and automatic replies (RFC 3834).
//
// A delivery failure that happens after the next hop accepted a message comes
// back as a mail message, and so do complaints and vacation replies. A mail
// server that wants to match them to the message they are about, and decide
// whether an address is dead, needs one reading of all of them: ReadAt (or
// Read, for a message in memory) takes the message and says what it is
// (Report.Kind), which software wrote it (Report.Format), which message it
// is about (Message-ID, ENVID, the returned header), and per recipient the
// address, action, enhanced status code (RFC 3463), reply code (RFC 5321),
// remote MTA, diagnostic text, the SMTP command the reply answered where the
// report says it, and the last attempt.
// The reason for a failure (userunknown, mailboxfull, ...) is left to package
// bounce, which gets the Diagnostic, Status and Code.
//
// Standard DSNs carry a message/delivery-status part with one field group per
// recipient, but many real bounces carry only text written for people:
// qmail's "Hi. This is the qmail-send program", Exim's "This message was
// created automatically by mail delivery software" without a DSN part, old
// Sendmail transcripts, Exchange and Office 365 NDRs, Gmail, Yahoo and many
// appliances and webmail services. ReadAt finds the recipients and replies in
// either kind.
//
// # Order
//
// The message is walked once, by package dsn's reader (dsn.Parse), whose
// part tree (dsn.Part: media types, charsets, transfer encodings and byte
// offsets) every later step reads its parts from. ReadAt tries, in order:
//
//   - package dsn's reader: a message with a delivery-status part
//     that names recipients is KindDSN. A recipient without a
//     Diagnostic-Code, or whose diagnostic does not say the command it
//     answered, is completed from the bounce text reader below (some MTAs
//     put the reply, or the command, only in the text part; Format then
//     names the software). A delivery-status part package dsn refuses is
//     reported in Report.DSNError, and the text reader reads the message.
//   - a message/feedback-report part (RFC 5965 section 2) among the parts
//     the text reader reads: KindFeedback, with its fields in
//     Report.Feedback.
//   - the bounce text reader (below): KindBounce, KindDSN when its own
//     reading of a delivery-status part found recipients, KindNotification
//     for an Amazon SES notification (a complaint carries a Feedback), or
//     KindAutoReply.
//   - the header's auto-reply fields (RFC 3834 section 5): KindAutoReply.
//   - otherwise KindNone.
//
// # The bounce text reader
//
// It reads, from the part tree, the text parts (quoted-printable and base64
// undone by dsn.Part.Body, the one transfer decoder of the module; HTML
// reduced to text; LF, CRLF or CR line endings turned into LF; 8-bit
// bytes), the message/delivery-status parts and the headers of the returned
// messages (message/rfc822, message/global, text/rfc822-headers and
// message/global-headers; read with dsn.Part.Header where package dsn
// found the header). Text parts of a returned message are not searched. A
// multipart without a boundary, or whose boundary never comes, is read as
// text (package dsn's walk makes it text/plain), so a bounce in it is still
// found.
//
// Then, in order:
//
//   - An Amazon SES notification in JSON (as SNS mails it) is read as such:
//     bounces and deliveries give recipients, a complaint gives a Feedback
//     and no recipients.
//   - A message that shows too little sign of being a bounce (sender such as
//     MAILER-DAEMON, a bounce subject, bounce wording in the text, a DSN part,
//     an X-Failed-Recipients field) is not read further: it is an auto-reply
//     (RFC 3834 Auto-Submitted, the fields vacation programs and Exchange
//     set, out-of-office subjects) or not a report.
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
//   - Where a Sendmail session transcript shows it, Recipient.Stage is the
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
// ReadAt reads at most MaxSize bytes of a message (the text that names
// recipients comes first), the message's own header up to MaxHeader bytes,
// MIME nesting to 8 levels and 200 parts (package dsn's walk stops at
// dsn.MaxDepth and dsn.MaxParts, and the parts before that limit are still
// read), decoded text to 1 MB of which the first 128 KB of bounce text are
// searched, delivery-status parts to 1 MB and returned headers to 1 MB in
// all, 64 KB of a feedback-report part, and returns at most MaxRecipients
// recipients (Report.Truncated says more were named; package dsn stops
// decoding there). ReadAt reads one message: a file holding several bounces
// yields the first.
//
// Memory: package dsn's walk keeps offsets, not bodies, and the parts the
// text rules need are then read from the input in bounded pieces; nothing
// copies the whole message or a part's whole body. What ReadAt allocates
// besides its input, an upper bound of its peak extra heap, is at most
// 16 MB for any input, and at most 16 times the input's size plus 256 KB,
// whatever the nesting. TestReadMemory asserts both on the inputs that make
// the most of each limit: a 25 MB bounce nested 8 deep, DSNs of 10,000 and
// 100,000 recipients, a 30 MB DSN, 4 MB of delivery-status extension
// fields, hundreds of returned headers and text parts; its figures are in
// the README. A report of many recipients costs the most per input byte:
// the MaxRecipients recipients it keeps, each with its fields; dsn stops
// reading recipients there.
//
// # Charsets
//
// Text parts are decoded to UTF-8 from their charset parameter after the
// transfer decoding (RFC 2046 section 4.1.2), and RFC 2047 encoded words
// in the Subject and From fields, in any charset golang.org/x/text knows
// (ISO-2022-JP, Shift_JIS, EUC-JP, ISO-8859-x, Windows-125x, KOI8-R, GBK,
// Big5, EUC-KR, ...). The 1 MB cap applies to the decoded text, and the
// decoder works through fixed buffers, so a charset costs no memory beyond
// that cap whatever the part's size. Invalid byte sequences become U+FFFD.
// A charset x/text does not know (UTF-7 among them) leaves the bytes as
// they are. ISO-2022-JP without a label, which Japanese MTAs write into
// text parts and into Diagnostic-Code fields, is recognized by its escape
// sequences in otherwise 7-bit text and decoded too.
//
// # Measured
//
// On the shared corpus of real bounces (sisimai's set-of-emails and KumoMTA's
// samples, see testdata/corpus/README.md), the corpus test checks the number
// and order of recipients the text reader finds, that each is a plausible
// address found in the bounce, and that the class (2, 4 or 5) of each matches
// sisimai's status; it logs a table per format and asserts floors (the
// figures are in the README); the files it counts as wrong are disagreements
// with sisimai's labels, each argued in the test. testdata/corpus.golden holds
// the text reader's full output (addresses, codes, diagnostics) for every
// corpus file, reviewed by hand, as a regression test.
//
// # Incoming messages
//
// ReadIncoming reads any message that arrived for an account, not only a
// report, into the payload of mox's incoming webhook (webhook.Incoming):
// its header fields, its MIME structure from the same part tree, its text
// and HTML decoded from their charsets (each at most MaxIncomingText), and
// whether it was automated. Package queue's Handler.IncomingDelivered
// queues it.
//
// # Layout
//
//   - incoming.go: ReadIncoming, for incoming webhooks.
//   - report.go: ReadAt and Read, the Report and Recipient types,
//     completing DSN recipients from the text.
//   - feedback.go: feedback reports (RFC 5965) and the Feedback type.
//   - parts.go: reading the parts of package dsn's part tree the text rules
//     need, within the limits above.
//   - textreport.go: the message as read (header and part tree), the
//     bounce text reader's entry and its result.
//   - dsnpart.go: the text reader's recipients from dsn.DecodeLenient.
//   - text.go: the text rules for bounces without a delivery-status part.
//   - format.go: naming the software that wrote a bounce, and whether a
//     message looks like one.
//   - status.go: finding enhanced status codes in text (parsed by package
//     bounce).
//   - ses.go: Amazon SES notifications.
//   - autoreply.go: auto-replies (RFC 3834).
//
// RFCs: RFC 3464 and RFC 6533 (DSN), RFC 3462/RFC 6522 (multipart/report),
// RFC 3463 (enhanced status codes), RFC 5321 (reply codes), RFC 5965
// (feedback reports), RFC 3834 (auto-replies), RFC 2045-2047 (MIME, encoded
// words).
package report
