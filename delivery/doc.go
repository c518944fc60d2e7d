// Package delivery is the reference SMTP delivery client of bouncekit: it
// delivers a due batch of queue messages over SMTP with go-smtp's client and
// returns one queue.AttemptResult per message, the input of the Handler's
// per-recipient call. Hosts use it as is, or read it as the reference for
// their own client: it shows where each reply and error of a transaction
// goes, with its bounce.Stage, so bounce.Classify can tell a refusal of the
// recipient (RCPT TO) from one of the sender (MAIL FROM) or of the
// connection (greeting, EHLO).
//
// RFCs: RFC 5321 (SMTP; section 5.1 MX and implicit MX, section 4.5.3.2
// timeouts), RFC 7505 (null MX), RFC 3207 (STARTTLS), RFC 8689
// (REQUIRETLS), RFC 6531 (SMTPUTF8), RFC 6152 (8BITMIME), RFC 1870 (SIZE),
// RFC 3461 (DSN parameters NOTIFY, RET, ENVID, ORCPT), RFC 4954 (AUTH, with
// a smarthost).
//
// # Transactions
//
// Messages are grouped by recipient domain (one route each), then into
// transactions: one per distinct MAIL FROM address and submission (BaseID,
// so the same message data). The MAIL FROM of a message is
// queue.Msg.MailFrom with Client.Separator, so messages with different
// FromIDs go in different transactions and each DSN that comes back names
// its own message. With Client.SubmissionMailFrom set, all recipients of a
// submission share the first message's address (queue.Batch.MailFrom) and
// go in one transaction; ProcessIncoming then matches a returned DSN by the
// submission and the recipient it names.
//
// Per message the result is:
//   - delivered: its RCPT TO was accepted and so was the message data;
//   - failed at StageRcpt: its RCPT TO was refused, with the reply;
//   - failed at StageDataEnd (or StageData): its RCPT TO was accepted but
//     the message (or the DATA command) was refused, with that reply;
//   - failed at StageDNS, StageDial, StageConnect, StageEHLO, StageTLS,
//     StageAuth or StageMail: the transaction did not get to its
//     recipient, with the reply or the network, DNS or TLS error;
//   - not tried: only when ctx was canceled before its transaction began.
//
// Failures the client finds itself before a server could refuse (a null
// MX, a message larger than the server's SIZE, a missing SMTPUTF8,
// 8BITMIME or REQUIRETLS) are permanent *bounce.SMTPError values with an
// enhanced code (5.1.10, 5.3.4, 5.6.7, 5.6.3, 5.7.30) and no reply code,
// so bounce.Classify reads them as it would the server's refusal. A
// failure with a reply or a connection records the remote MTA's name and
// IP in Msg.Attempt.
//
// A 421 reply (RFC 5321 section 3.8: the server closes the connection) at
// any stage ends the transaction: every recipient of it that has no result
// yet fails with that reply, a temporary failure (wrapping
// ErrTransactionClosed for the recipients it did not answer), so none is
// delivered twice and none is retried before the retry policy says so.
// The next transaction for the same domain opens a new connection.
//
// # Routing
//
// The MX records of the recipient domain are tried in preference order
// (equal preferences in the order the resolver gave them, which
// net.Resolver shuffles); a domain without MX records is its own implicit
// MX (RFC 5321 section 5.1); a null MX (RFC 7505) fails every message
// permanently without a connection. A domain that does not exist (NXDOMAIN
// for the MX and the address lookup) fails permanently, a failed lookup
// (SERVFAIL, timeout) temporarily. For each host its addresses are tried,
// those not yet in Msg.DialedIPs first. The next address or host is tried
// when the connection cannot be made, or the greeting or EHLO gets a 4xx
// reply or none; a 5xx reply there is the answer of the domain's mail
// system and fails the transaction. In smarthost mode (Client.Smarthost)
// every message goes to one fixed host, dialed by name.
//
// # TLS
//
// STARTTLS (RFC 3207) is used whenever the server offers it. Without
// REQUIRETLS it is opportunistic: the certificate is checked against
// Client.TLSConfig's roots and the MX host name, but a failed check does
// not stop delivery, and when the STARTTLS command or the handshake fails
// the same address is tried again without TLS. A smarthost requires
// verified TLS unless Smarthost.Insecure.
//
// # REQUIRETLS
//
// A message with Msg.RequireTLS (RFC 8689) goes in transactions of its
// own, after the domain's other messages, and only as RFC 8689 section
// 4.2.1 says:
//   - The route is secure: the MX lookup was authenticated by DNSSEC (the
//     Resolver implements SecureResolver and says so), or
//     Client.SecureRoute says a policy such as MTA-STS in enforce mode
//     covers the domain. Otherwise the message fails permanently with
//     5.7.30 at StageDNS without a connection (temporarily when
//     SecureRoute returns an error).
//   - The host gives TLS with a certificate verified for its name and
//     offers REQUIRETLS in its EHLO reply after STARTTLS. A host that
//     answers without (no STARTTLS, a certificate not valid for it, no
//     REQUIRETLS) is left with QUIT and the next MX host is tried; a
//     failed STARTTLS is not tried again in plain text. The connection
//     of the domain's other messages is used when it qualifies.
//   - When no host qualifies: a permanent 5.7.30 at StageMail when every
//     host answered without qualifying (as mox: a domain is unlikely to
//     add REQUIRETLS within the retry period); otherwise the temporary
//     failure of a host that could not be reached (or whose TLS
//     handshake failed).
//
// In smarthost mode there is no MX lookup to secure: a REQUIRETLS message
// needs verified TLS to the smarthost and REQUIRETLS offered, and fails
// permanently with 5.7.30 otherwise.
//
// # Limitations
//
// go-smtp's client sends one command and waits for its reply. With a
// server that offers PIPELINING (RFC 2920) this package writes MAIL, RCPT
// and DATA itself as one group on go-smtp's connection and reads the
// replies (pipeline.go); go-smtp's client does the rest. go-smtp v0.25 has no STARTTLS for a client that already said EHLO with
// its own name, so this package sends STARTTLS itself and gives go-smtp the
// TLS connection (see tls.go). DANE and MTA-STS are not implemented:
// for REQUIRETLS, the host supplies the DNSSEC answer (SecureResolver) or
// the MTA-STS verdict (Client.SecureRoute).
//
// # Layout
//
//   - client.go: Client, its configuration, and Deliver.
//   - group.go: splitting a batch into transactions by domain and MAIL FROM.
//   - route.go: MX lookup (authenticated with a SecureResolver), implicit
//     and null MX, address order.
//   - connect.go: dialing, greeting, EHLO, fallback to the next address
//     or host (for REQUIRETLS: the next host that qualifies).
//   - tls.go: STARTTLS, certificate verification, whether a session
//     qualifies for REQUIRETLS.
//   - transaction.go: checks before MAIL FROM, the transaction one command
//     at a time with go-smtp, per-recipient results.
//   - pipeline.go: the transaction as one group of commands (RFC 2920).
//   - params.go: MAIL and RCPT parameters from a message (SIZE, BODY,
//     SMTPUTF8, REQUIRETLS, DSN), checked against the server's extensions.
//   - errors.go: sentinel errors, the client's own failures, and the
//     mapping of go-smtp's errors to *bounce.SMTPError with a stage.
//   - smarthost.go: relaying through one host, with AUTH PLAIN.
//   - metrics.go: Prometheus collectors.
package delivery
