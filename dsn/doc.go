// Package dsn composes and parses delivery status notifications (DSNs): the
// messages an MTA sends back to tell a sender that mail failed, is delayed,
// or was delivered, and that remote MTAs send to us.
//
// A host composes a DSN with [Message.Compose] when a delivery fails or is
// delayed, and reads incoming DSNs with [Parse] (a whole message) or [Decode]
// (a delivery-status body) to match them to the original message, by
// OriginalMessageID, OriginalEnvelopeID or recipient. [DecodeLenient] reads
// what recipients it can from a delivery-status body Decode refuses, or from
// DSN fields pasted into a bounce's text; [ReadHeaderLenient] reads a
// returned header the same way. All of them read fields with one reader.
//
// The package is a leaf: it uses the standard library and
// golang.org/x/net/idna (A-labels for host names).
//
// Standards:
//
//   - RFC 3464, An Extensible Message Format for Delivery Status Notifications
//   - RFC 6522, The Multipart/Report Media Type
//   - RFC 6533, Internationalized Delivery Status and Disposition Notifications
//   - RFC 3461, SMTP Service Extension for DSNs (NOTIFY and RET: [Notify],
//     [ParseNotify], [ParseRet]; ENVID, ORCPT)
//   - RFC 3463, Enhanced Mail System Status Codes
//   - RFC 3834, Recommendations for Automatic Responses (Auto-Submitted)
//   - RFC 4865, SMTP Submission Service Extension for Future Message Release
//   - RFC 2045, RFC 2046, RFC 2047 (MIME), RFC 5322 (message format)
//
// # Composing
//
// Compose is deterministic: the Date, Message-ID and the MIME boundary come
// from the Message, never from a clock or random source, so output can be
// compared with golden files. It streams the returned original message to
// the writer without copying it. See [Message.Compose] for the encodings
// chosen with and without SMTPUTF8.
//
// What Compose writes is strict, whatever the input: CRLF line endings,
// lines of at most 998 octets, folds only before white space and never a
// line of white space alone, 7-bit parts without 8-bit octets or NUL,
// 8-bit octets only with SMTPUTF8, valid msg-ids and encoded-words, host
// names as A-labels, dates without day of week. A value it cannot write so
// is refused with an error that names the field ([ErrNotHostName],
// [ErrMsgID], [ErrNeedsSMTPUTF8], [ErrFold]), before anything is written;
// the exceptions, all documented on Compose, are free text (invalid UTF-8
// becomes U+FFFD, an overlong run is split with a space) and threading
// references (invalid ones are left out). The tests check every golden file
// and every FuzzCompose output with a conformance checker of their own.
//
// # Parsing
//
// Parse accepts what real MTAs send: see [Parse] and [Decode] for the
// tolerances. Parse reads the input line by line through a small buffer
// (one pass over the MIME structure, then the few parts it needs), and keeps
// only the fields it reports, so memory does not grow with the size of the
// returned original; the limits (MaxParts, MaxDepth, MaxFieldSize,
// MaxStatusSize, MaxRecipients, MaxExtraFields) bound it on hostile input. A
// message without a delivery-status part gives [ErrNotDSN]; a
// delivery-status part without recipients gives [ErrNoRecipients] together
// with the per-message fields; other malformed fields give a [*FieldError]
// naming the field. Recipients past MaxRecipients are not kept, and not
// read: Message.Truncated says so.
//
// The walk Parse makes is the module's one MIME walk: package report reads
// every returned message from the [Part] tree Parse returns, with
// [Part.Body], the one transfer decoder (base64 bytes outside the alphabet
// are skipped, RFC 2045 section 6.8), and [Part.Header]. So the tree is
// returned with ErrNotDSN too, and with the error of a message over MaxParts
// (then holding the parts read before the limit). The walk reads broken
// Content-Type parameter lists as far as they go (a parameter without
// value, a missing ";", an unclosed quote), and reads a multipart without a
// boundary, or whose boundary never comes, as text/plain: RFC 2045 section
// 5.2 reads an invalid Content-Type so, and the words of a bounce in such a
// part are still worth reading.
//
// Decisions where the standards leave room:
//
//   - Only the first delivery-status part of a message is read; a second
//     one (for example inside a returned message) is ignored. A message
//     returned after the delivery-status part is read for its header
//     only, not for the structure of its body.
//   - Action values "expired" and "failure" are read as failed, "deliverable"
//     and "success" as delivered; a missing Action is derived from the
//     status class. A missing Final-Recipient is taken from
//     Original-Recipient.
//   - Dates that cannot be read are kept as text in Extra instead of
//     failing the DSN.
//   - A top-level message without Content-Type whose body looks like a
//     multipart is parsed as one.
//   - Message-IDs are reported with angle brackets.
//
// # Fuzzing
//
// FuzzParse, FuzzDecode and FuzzDecodeLenient are seeded from the golden
// files and the corpus in testdata; FuzzCompose from the golden cases, with values it can repeat to
// 10,000 octets and more. Run them for a while with, from the repository
// root (scripts/fuzz runs every target of the module):
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=5m ./dsn/
//	go test -run='^$' -fuzz=FuzzDecode -fuzztime=5m ./dsn/
//	go test -run='^$' -fuzz=FuzzDecodeLenient -fuzztime=5m ./dsn/
//	go test -run='^$' -fuzz=FuzzCompose -fuzztime=5m ./dsn/
//
// New failing inputs are written to testdata/fuzz and then run by plain go
// test; commit them with the fix.
//
// # Layout
//
//   - dsn.go: the Message, Recipient and Action types.
//   - compose.go: Compose, the multipart/report writer.
//   - check.go: the checks Compose makes of values it cannot write.
//   - fold.go: line folding and length limits of composed fields.
//   - parse.go: Parse, which finds the report in a whole message.
//   - part.go: Part, the MIME entities Parse walked.
//   - decode.go: Decode, the message/delivery-status body reader.
//   - lenient.go: DecodeLenient and ReadHeaderLenient, the same reader for
//     fields in text.
//   - field.go: reading one field (Status, Diagnostic-Code, addresses).
//   - date.go: the dates real MTAs write.
//   - limits.go: the bounds on hostile input.
package dsn
