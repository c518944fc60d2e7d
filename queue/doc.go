// Package queue holds the outbound queue records of a Go mail server and the
// decisions made when a delivery attempt fails: bounce.Classify (package
// bounce) turns an error into a bounce.Failure (permanent or not, SMTP codes,
// a reason), RetryPolicy decides when to try again or to give up, and
// Handler carries out the whole lifecycle of a message in the host's own
// bstore transaction: DSNs, suppression list, webhooks, history.
//
// RFCs: RFC 5321 (SMTP replies, section 4.2 and 4.5.4.1 retry strategy,
// section 4.5.5 no notifications to the null sender), RFC 3463 (enhanced
// status codes), RFC 3461 (DSN parameters NOTIFY, RET, ENVID, ORCPT),
// RFC 3464 (delivery status notifications, composed with package dsn),
// RFC 8689 (REQUIRETLS, recorded), RFC 4865 (FUTURERELEASE, recorded).
//
// # The flow
//
// The host owns the database, the SMTP client and the delivery loop:
//
//	Handler.Add(tx, msgs...)            queue a submission (one Msg per recipient, shared BaseID)
//	Handler.Due(tx, now, limit)         batches: one submission, one recipient domain
//	  deliver with the host's client
//	  Handler.Attempted(tx, results)       per-recipient results of one transaction
//	  Handler.DeliveredMsgs(tx, msgs, d)   or, one outcome for the batch: success
//	  Handler.FailMsgs(tx, msgs, err)      or failure
//	commit tx, then Handler.Kick()
//	Handler.Run(ctx)                    in the background: DSN outbox, retired cleanup
//
// FailMsgs classifies err, records a MsgResult and asks the RetryPolicy. On
// retry it updates the message, queues the delayed DSN once (when the policy
// says so and NOTIFY allows; Will-Retry-Until is the policy's real last
// attempt) and the "delayed" webhook. When giving up (permanent failure,
// attempts exhausted, expired, or the recipient is suppressed) it queues the
// failure DSN (unless NOTIFY says otherwise), lets the SuppressionStore
// decide with the recipient's history from MsgRetired, retires the message
// and queues the "failed" or "suppressed" webhook, with Suppressing set when
// this failure added the entry. It returns an Outcome per message.
//
// Everything is written in the caller's transaction: DSNs go to the
// OutboxDSN table, hooks to the HookQueue, entries to the SuppressionStore.
// A rolled-back call leaves no trace; after commit, Run hands the DSNs to the
// DSNDeliverer, at least once, with retries. Bad input (an empty batch, a
// nil error, mixed accounts, a message not in the queue) returns an error
// before anything changes; an error from a store is returned and the caller
// must roll back.
//
// # Feedback that arrives later
//
// Handler.ProcessIncoming(tx, account, rcptTo, msg) takes mail that came
// back, as package report reads it: an RFC 3464 DSN, a bounce in another
// format (qmail, Exim, Exchange, ...), an RFC 5965 feedback report, a
// sending service's notification, or an auto-reply. Each recipient it names is matched by its address to a
// queued or retired message found by, in this order, the FromID in rcptTo
// (which names the whole submission, see Msg.MailFrom and ParseMailFrom),
// the DSN's Original-Envelope-Id against Msg.EnvID (RFC 3461), and the
// returned message's Message-ID. A report changes only the messages whose
// recipient it names; an alias or forward matches only the sole recipient
// of a submission (MatchSoleRecipient). A failure
// records a MsgResult (DSN true), asks the SuppressionStore and queues the
// "failed" webhook with DSN set; a complaint adds a complaint entry and
// queues "complained"; an auto-reply or anything unmatched queues
// "unrecognized", never an error. The same report processed twice changes
// nothing (MsgResult.Report on the matched message, else a SeenReport
// record).
//
// A report names the cause less directly than a live reply, so a few rules
// apply only there: "user unknown" is a hard bounce only where the recipient
// itself was refused (at RCPT TO, as Postfix, Exim and Sendmail transcripts
// say, or under an X.1.x status); after the data, or where the report does
// not say, it is "filtered". Under Status 4.4.7 the diagnostic names the
// cause. A local delivery program's failure (X-Unix, a pipe) is mailererror.
// Amazon SES's complaint notifications count as feedback reports.
// TestIncomingCorpus measures these rules on the shared corpus of real
// bounces and logs a table per format; the figures are in the README.
//
// # Interfaces
//
// The Handler calls small interfaces, each with a bstore-backed or default
// implementation and a recording fake in package queuetest: DSNComposer
// (default: package dsn, English text), DSNDeliverer (the host's: a local
// mailbox, a Maildir, or a re-queue with the null sender), SuppressionStore
// (*suppression.Store), HookQueue (*hookqueue.Queue), MessageOpener (the
// host's message store), Accounts (per-account webhook settings and keep
// periods). DBTypes lists every bstore type to register, including those of
// packages suppression and hookqueue.
//
// # Decisions
//
//   - One DSN per original message and kind in a FailMsgs or Attempted
//     call, listing all its recipients (RFC 3464 allows several); mox sends
//     one per recipient. A success DSN (NOTIFY=SUCCESS) only for a delivery
//     relayed to a system without DSNs or expanded: a server that accepted
//     NOTIFY sends its own.
//   - RET=FULL returns the whole message (package dsn falls back to the
//     header above its size limit); RET=HDRS and no RET return the header.
//     ENVID becomes Original-Envelope-Id, ORCPT Original-Recipient.
//   - Failure DSNs go to the sender's account; for an unknown account to
//     the postmaster account; for DMARC and TLS reports to the postmaster
//     account's "dmarc" mailbox, marked seen, with a counter (as mox). Such
//     reports, null-sender messages and DSNs get no delayed DSN.
//   - The suppression list is consulted at Add (a suppressed recipient is
//     retired at once as "suppressed", without an attempt or DSN), at Due
//     (a recipient suppressed since it was queued gets no further attempt:
//     it is given up with a failure DSN per NOTIFY) and at every FailMsgs
//     (a recipient suppressed meanwhile is not retried). Passing
//     ErrSuppressed to FailMsgs gives up without counting an attempt, as
//     in mox. A successful delivery clears a soft suppression.
//   - The history given to the suppression policy is the recipient's
//     retired messages (exact address, RecipientAddress index, the last
//     queued first), so it is only as long as the account's KeepRetired.
//   - An account with KeepRetired zero keeps MsgRetired for
//     DefaultKeepRetired (or the retry policy's MaxAge plus a week, when
//     longer), so bounces that arrive after the next MTA gave up still
//     match; a negative KeepRetired removes messages when they leave the
//     queue (mox's default).
//   - MsgRetired stores the sender address itself (mox builds the sender of
//     a retired message from the recipient's localpart).
//   - Removing a hold rule does not release the messages it held; SetHold
//     does.
//   - FromIDs, when generated, are 16 random bytes (22 URL-safe
//     characters), checked against queued and retired messages.
//   - No package-level state: time (Now, After) and randomness (Rand) are
//     Handler fields.
//
// # Layout
//
// Records and the host's calls on them:
//   - msg.go: Msg, MsgResult, MsgRetired, HoldRule, Attempt.
//   - dbtypes.go: DBTypes, every bstore type a host registers.
//   - outcome.go: Outcome, Result, DSNKind: what a Handler call did.
//   - filter.go: MsgFilter, for CancelMsgs and SetHold.
//   - due.go: Due and NextDue: what the delivery loop sends next, in Batches.
//   - hold.go: hold rules and SetHold.
//   - retired.go: ListRetired and CleanupRetired.
//   - msgcheck.go: Add's checks that a message's DSN can be written: its
//     NOTIFY and RET, and the fields a DSN carries.
//
// The Handler, one file per call or concern:
//   - handler.go: the Handler, its fields and defaults, Kick, the errors.
//   - handler_add.go, handler_failmsgs.go, handler_delivered.go,
//     handler_cancel.go: Add, FailMsgs, DeliveredMsgs, CancelMsgs.
//   - attempt.go, handler_attempt.go: AttemptResult and Attempted, the one
//     call FailMsgs and DeliveredMsgs are made of.
//   - retry.go: where retry is decided: RetryPolicy and Decide, a pure
//     function of a RetryInput; DefaultPolicy, MoxPolicy, Plan.
//   - handler_dsn.go: which DSNs are wanted (dsnWanted: NOTIFY, the null
//     sender, reports) and queued; dsncompose.go: the default DSNComposer,
//     where a DSN is composed (with package dsn); outbox.go: OutboxDSN.
//   - handler_run.go: Run and DeliverOutbox, the work after commit.
//   - handler_suppression.go: the SuppressionStore and the recipient's
//     history it decides from.
//   - handler_hooks.go: the HookQueue and the webhooks a call queues.
//   - handler_retire.go: moving a message to MsgRetired.
//   - interfaces.go: DSNComposer, DSNDeliverer, MessageOpener, Accounts;
//     AccountSettings and how long retired messages are kept.
//   - metrics.go: NewMetrics and the Prometheus collectors.
//
// Mail that comes back (ProcessIncoming):
//   - incoming.go: ProcessIncoming, IncomingResult, IncomingOutcome.
//   - incoming_parse.go: a report as package report reads it, and
//     classifying each recipient's failure.
//   - incoming_fromid.go: FromIDs in MAIL FROM: Msg.MailFrom and
//     ParseMailFrom.
//   - incoming_match.go: where a bounce is matched to the message it is
//     about: by FromID, ENVID, Message-ID, sole recipient.
//   - incoming_outcome.go: what a matched or unmatched report changes:
//     results, suppression, webhooks.
//   - incoming_seen.go: the reports seen (stored as SeenReport), so a
//     report processed twice changes nothing; ProcessIncoming removes
//     expired ones, looking for them at most once a minute.
//   - incoming_remote.go: RemoteIndex (Handler.Remote), a report about a
//     message another node sent, found in a shared index of sent
//     messages (MatchRemote).
//
// The host's submission and local delivery:
//   - extra.go: ExtraHeaders, reading Msg.Extra from "X-Mox-Extra-" header
//     fields at submission and removing them, as mox reads them.
//   - incoming_hook.go: IncomingDelivered, mox's incoming webhook for a
//     message delivered to a local account (AccountSettings
//     IncomingWebhookURL), built by report.ReadIncoming.
package queue
