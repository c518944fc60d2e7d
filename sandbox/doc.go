// Package sandbox lets an application developer see every webhook their
// application will receive, without sending real mail: like mox's
// localserve, the recipient's localpart chooses what the simulated remote
// server answers. Command bouncesandbox runs it.
//
// A Sandbox wires the whole stack on loopback: a submission listener (SMTP),
// the queue's Handler with the reference delivery client (package delivery)
// whose DNS points every domain at the Simulator, the durable webhook queue
// (package hookqueue) posting to the developer's URL, and a Clock that can
// run fast, so a five-day retry schedule plays out in minutes.
//
// # Conventions
//
// The Simulator answers by the recipient's localpart (compared without
// regard to case), compatible with mox's localserve where mox has a
// convention (temperror, permerror, a reply code, timeout, the mailfrom
// and rcptto prefixes). The table, also in Conventions and printed by the
// command:
//
//	Localpart ends in  Simulated answer                           Webhooks
//	temperror          451 4.0.0                                  delayed..., failed (expired)
//	permerror          550 5.0.0                                  failed
//	NNN (400-599)      NNN X.0.0, e.g. user550: 550 5.0.0         per code
//	NNN-X.Y.Z          NNN X.Y.Z, e.g. user550-5.1.1              per code
//	timeout            no answer until the client gives up        delayed...
//	greylist           451 4.7.1 once per sender+recipient        delayed, delivered
//	mailboxfull        552 5.2.2                                  per classification
//	asyncdsn           accepted; later a failed DSN (RFC 3464)    delivered, failed (DSN)
//	complaint          accepted; later an ARF report (RFC 5965)   delivered, complained
//	autoreply          accepted; later an auto-reply (RFC 3834)   delivered, unrecognized
//	anything else      accepted                                   delivered
//
//	Localpart begins with  The answer comes
//	rcptto                 at RCPT TO, for this recipient only
//	data, or nothing       after the message data, for the whole transaction (as mox)
//	mailfrom               at MAIL FROM; read from the sender's localpart (as mox)
//
// A stall ends when the client gives up (the delivery client's timeouts,
// on the sandbox's clock), when the Simulator closes, or after MaxStall
// (one hour, as mox) with 451 4.3.0. Later reports come LaterDelay (five
// minutes) after acceptance, on the clock, addressed to the message's MAIL
// FROM (its FromID address), and go to Handler.ProcessIncoming in a
// transaction of their own. Greylisting is remembered in memory, per run,
// by the sender's address without its FromID and the recipient.
//
// # Submission
//
// The submission listener speaks SMTP without authentication (it listens
// on loopback only) and accepts any MAIL FROM: every message belongs to
// Config.Account, with its MAIL FROM as sender, one queue message per
// recipient. The DSN parameters of RFC 3461 (ENVID and RET on MAIL FROM,
// NOTIFY and ORCPT on RCPT TO) are kept on the queue messages. A message
// without a Message-ID gets one (RFC 6409 section 8.3). Header fields
// X-Mox-Extra-<Key>: <value> become the messages' Extra, returned in every
// webhook, and are removed before the message is sent
// (queue.ExtraFromHeader); a bad one is refused with 554 5.6.0.
//
// # Delivery
//
// The delivery loop attempts up to eight submissions at once, one SMTP
// transaction per submission with its first message's MAIL FROM
// (delivery.Client.SubmissionMailFrom), and records the results with
// Handler.Attempted; a submission that stalls holds up no other. Every
// domain's MX is the Simulator (a scripted resolver; nothing is looked up
// on the network).
//
// # Time
//
// One Clock drives everything: the Handler (retries, DSNs), the webhook
// queue, the delivery loop (it waits on the clock for the next due
// message), the Simulator (stalls, later reports) and the delivery client's
// SMTP timeouts (its connections' deadlines run on the clock). A
// ScaledClock runs real time or N times faster; tests use a manual clock
// (queuetest.Clock) and call Sandbox.Kick after moving it.
//
// # Output
//
// Every submission, attempt, stall, later report, incoming outcome, DSN and
// webhook request is an Event, passed to Config.OnEvent (the command prints
// one line each). DSNs to senders are saved in Dir/dsn, the database is
// Dir/bouncekit.db. Sandbox.Mux is served on Config.HTTPAddr: it shows the
// conventions at "/", and is where a host mounts the HTTP API.
//
// # Limitations
//
// The Simulator has no TLS. Every domain resolves to the Simulator: DNS
// failures are not simulated. Later reports are always about one recipient,
// with fixed codes (5.1.1 for the DSN, abuse for the complaint). Pending
// later reports and greylisting are kept in memory: a restart with the same
// Dir keeps the queue, webhooks and suppressions, not those. Message data
// stays in the database (type Message) for the life of Dir.
//
// # Layout
//
//   - convention.go: the localpart conventions (AnswerFor).
//   - simulator.go: the simulated remote SMTP server.
//   - later.go: the later reports: DSN, ARF complaint, auto-reply.
//   - clock.go: Clock and ScaledClock.
//   - clockconn.go: connections whose deadlines run on the Clock.
//   - submission.go: the submission listener.
//   - sandbox.go: Config, Sandbox, the delivery loop and the wiring.
//   - store.go: message data in the database.
//   - event.go: the live log's events.
package sandbox

// Conventions is the table of the Simulator's localpart conventions, as in
// the package documentation, for printing.
const Conventions = `Localpart ends in  Simulated answer                           Webhooks
temperror          451 4.0.0                                  delayed..., failed (expired)
permerror          550 5.0.0                                  failed
NNN (400-599)      NNN X.0.0, e.g. user550: 550 5.0.0         per code
NNN-X.Y.Z          NNN X.Y.Z, e.g. user550-5.1.1              per code
timeout            no answer until the client gives up        delayed...
greylist           451 4.7.1 once per sender+recipient        delayed, delivered
mailboxfull        552 5.2.2                                  per classification
asyncdsn           accepted; later a failed DSN (RFC 3464)    delivered, failed (DSN)
complaint          accepted; later an ARF report (RFC 5965)   delivered, complained
autoreply          accepted; later an auto-reply (RFC 3834)   delivered, unrecognized
anything else      accepted                                   delivered

Localpart begins with  The answer comes
rcptto                 at RCPT TO, for this recipient only
data, or nothing       after the message data, for the whole transaction (as mox)
mailfrom               at MAIL FROM; read from the sender's localpart (as mox)
`
