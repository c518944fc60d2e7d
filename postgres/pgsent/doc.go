// Package pgsent is the shared index of sent messages on PostgreSQL: which
// node sent which message, found by what a bounce carries. Each sending
// node keeps its messages in its own local queue (package queue, bstore);
// a bounce may come back to any node. With this index, ProcessIncoming on
// node C can learn that the message a DSN is about was sent by node A, and
// for which account, by the keys of RFC 3461 and RFC 5322:
//
//   - the FromID in the address the bounce came back to (the unique MAIL
//     FROM of queue.Msg.FromID);
//   - the ENVID (RFC 3461 section 4.4) the report quotes as
//     Original-Envelope-Id (RFC 3464 section 2.2.1);
//   - the Message-ID (RFC 5322 section 3.6.4) of the returned message,
//     then the recipient.
//
// One Sent record is one message to one recipient, keyed by the node and
// the message's ID in that node's queue. Put is an upsert by that key, so
// a relay that moves records to the index after the node's commit can
// repeat them (at least once) without duplicates: repeating a Put changes
// nothing, and the only field that changes later, KeepUntil, only grows.
// Lookups return the newest messages first (Queued, then ID), at most
// Index.Limit of them, optionally of one account.
//
// # Schema
//
// Open creates and upgrades the table bouncekit_sent in the connection's
// current schema with package migrate (versioned migrations under an
// advisory lock). The primary key is (node, msg_id); partial indexes on
// from_id, env_id and message_id (where not empty) serve the lookups, one
// on (node, base_id) the submissions, one on keep_until Cleanup.
//
// # Text
//
// PostgreSQL's text holds neither NUL bytes nor invalid UTF-8, and a
// Subject or Message-ID read from a message may have either. Every text
// field is stored with invalid bytes and NUL replaced by U+FFFD, and the
// values looked up get the same treatment, so a message is found by the
// key it was stored with. Two keys that differ only in invalid bytes find
// each other's messages; the recipient and account checks of the caller
// still apply.
//
// # Layout
//
//   - index.go: Sent, Index, Open, Put, Remove, Cleanup.
//   - lookup.go: ByFromID, ByEnvID, ByMessageID, Submission.
//   - schema.go: the migrations of the table.
package pgsent
