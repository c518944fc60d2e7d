// Package crashtest proves that bouncekit's records stay consistent when
// the process that writes them is killed at any moment.
//
// TestCrash starts a child process (the test binary itself, re-executed
// with BOUNCEKIT_CRASH_CHILD=1) that runs a host's whole delivery loop on
// an on-disk bstore database: Handler.Add, Handler.Due, FailMsgs with
// temporary and permanent SMTP replies, DeliveredMsgs, ProcessIncoming of
// DSNs composed with package dsn, Handler.Run delivering the DSN outbox to
// a file, and hookqueue.Queue.Run posting to a receiver that the parent runs
// on 127.0.0.1. The parent SIGKILLs the child at seeded random moments,
// checks the database file with bbolt after every kill, and restarts the
// child, which continues where the database says it was. A last run drains
// the queue; then Check compares the database, the delivered DSNs and the
// received webhooks with the journal of committed transactions the child
// kept, and prints a table.
//
// # The journal
//
// A kill can land between a commit and the journal line that records it.
// So the child writes each transaction's record (its intent) inside the
// transaction, before the commit, and a confirmation after. Every journaled
// transaction also inserts a TxMark with its sequence number, so the
// database itself says whether an unconfirmed intent was committed: Check
// treats an intent as committed exactly when its TxMark exists, and
// reports a confirmed intent without a TxMark (a lost commit) or an
// unconfirmed one that is not the last record of its run.
//
// # The workload
//
// The profiles, SMTP errors and late DSNs are internal/workload's, shared
// with the soak; the mix of profiles is the crash test's own. The outcome
// of a delivery attempt depends only on the recipient address and the
// attempt number (see workload.Profile), so a run that was killed between
// an attempt and its FailMsgs repeats the same outcome after the restart. Two
// accounts are used: "keep" keeps retired messages for a year, "drop"
// keeps none (KeepRetired negative), so Check knows where each message must
// be. Both subscribe to every webhook event. DSNs that come back for the
// drop account carry no original message while dropDSNOriginal is off
// (see TestIncomingSiblingBug).
//
// # The checks
//
// Check replays the committed records and compares: every message added
// is queued, retired or removed as its account says, with the attempts,
// result codes and event the journal recorded, and nothing else is in the
// queue; every give-up has exactly one failure DSN and every message at
// most one delayed DSN, each handed to the deliverer at least once under
// its committed Message-ID; every committed webhook reached the receiver
// with a 2xx answer under its webhook-id and payload, and nothing else
// did; every suppression entry was added by a committed outcome with its
// code and source; nothing is left in the outbox or the webhook queue.
// TestCheckDetects breaks each of these once to show that Check sees it.
//
// scripts/crash runs the long version (500 kills by default).
package crashtest
