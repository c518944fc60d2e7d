// Package relay is the transaction boundary between a sending node's
// bstore database and the state all nodes share on PostgreSQL: the
// suppression list (package pgsuppression), the index of sent messages
// (package pgsent) and webhook delivery on River (package riverhook).
//
// A queue.Handler works in the host's bstore transaction, and PostgreSQL
// is outside it. To keep the Handler's contract, "a rolled-back call leaves
// no trace", the node's Relay is its queue.HookQueue and
// queue.SuppressionStore: instead of writing to PostgreSQL they write
// intents (HookIntent, SuppressionIntent, SentIntent) to a local outbox in
// the caller's transaction. After commit, Relay.Run moves them to
// PostgreSQL, at least once, and deletes them.
//
// # Setup
//
// The host opens its database with DBTypes besides queue.DBTypes, sets
// the Handler's Suppressions, Hooks and Remote to the Relay, calls IndexTx
// after Handler.Add in the same transaction, runs Run next to
// Handler.Run, and calls Handler.Kick after commits (which kicks the
// Relay):
//
//	r := &relay.Relay{Node: "mx1", DB: db, Suppressions: sup, Sent: index, Hooks: riverQueue}
//	h := &queue.Handler{DB: db, Suppressions: r, Hooks: r, Remote: r}
//	err := db.Write(ctx, func(tx *bstore.Tx) error {
//		if _, err := h.Add(tx, msgs...); err != nil {
//			return err
//		}
//		return r.IndexTx(tx, msgs...)
//	})
//	h.Kick()
//
// Every node must use the same suppression.Policy and Normalizer on its
// pgsuppression.Store: StopTx and ProcessTx decide with them.
//
// # What is atomic
//
//	Step                          Atomic with                            Seen by
//	Handler call (bstore tx)      its intents: all or none with the      this node, at its commit
//	                              queue's own changes                    (StopTx reads pending intents)
//	Relay round, suppression      one PostgreSQL transaction per batch,  every node, at that commit
//	                              with the node's applied mark
//	Relay round, index records    one PostgreSQL transaction per batch   every node, at that commit
//	Relay round, hooks            one River insert per batch             River's workers, at its commit
//	Deleting moved intents        one bstore transaction per batch,      -
//	                              after the PostgreSQL commit
//
// Nothing is atomic across the two databases, nor between the three kinds
// of intents: a round may move a failure's suppression change and not yet
// its webhook. What keeps the contract is the order: PostgreSQL only ever
// learns what a committed bstore transaction wrote.
//
// A crash (or a failed round) before the PostgreSQL commit leaves the
// intents in the outbox; the next round moves them. A crash between the
// PostgreSQL commit and the delete moves them again, with no effect:
//
//   - Suppression changes take effect once: the round records the ID of
//     the last intent it applied, per node and outbox, in the same
//     PostgreSQL transaction (table bouncekit_relay), and a later round
//     skips intents up to it. Replaying a change would otherwise not
//     always be harmless: an add merged again keeps the earliest Created,
//     a hit would count twice.
//   - Index records are upserts by node and message ID (pgsent.Index.Put).
//   - Hooks are River jobs unique by webhook-id (WebhookID: node, outbox
//     token, outbox ID), as long as River keeps the first job
//     (riverhook.Config.KeepRetired).
//
// Between a commit and the round that moves it, the node sees its own
// changes and other nodes do not: a recipient suppressed through node A
// is refused by node B from A's next round on (at once after a Kick). Two
// nodes that change one address at the same time both reach PostgreSQL;
// the list's rules (suppression.Refresh) merge them, in the order the
// rounds commit. Within one node, changes of one address are applied in
// the order they were written; that takes one Relay per database.
//
// # Lookups and partitions
//
// StopTx (Handler.Add, Due, FailMsgs) reads PostgreSQL directly, within
// LookupTimeout, and applies the node's pending intents on top. It does
// not write to PostgreSQL: the hit it counts is an intent too. ProcessTx
// decides with the shared Policy and writes the add as an intent; it
// looks at PostgreSQL only to say whether the entry is new (Outcome's
// Suppressing), and never fails for it. DeliveredTx writes an intent
// without asking PostgreSQL: a delivery is never slowed or failed by the
// shared list.
//
// When PostgreSQL cannot be reached, a node keeps recording failures,
// deliveries and webhooks in its outbox, and its own pending intents keep
// suppressing. What StopTx does for the rest is Relay.FailOpen: false,
// the default, fails closed, like Postfix on a temporary lookup failure:
// StopTx returns an error wrapping ErrUnavailable, so Add fails (the host
// answers its client with a temporary error) and Due fails (queued
// messages wait). A FailMsgs that looks up its recipients during
// the partition fails as well and its transaction is rolled back: the
// attempt is not recorded and the message is tried again. True fails
// open: the address is sent to, with a warning logged. Failing open risks
// mail to an address another node suppressed meanwhile; failing closed
// stops the node's sending while the partition lasts.
//
// # Reports for other nodes' messages
//
// IndexTx puts every message a node queues in the shared index (after
// commit, as all intents). A DSN, bounce or complaint (RFC 5965 feedback
// report) may come back to any node: when a recipient it names matches no
// message of the node's own queue, ProcessIncoming asks Handler.Remote
// (RemoteSent) for messages other nodes sent, by the same keys (FromID with
// the rest of its submission, ENVID, Message-ID) and the recipient
// (queue.MatchRemote); a complaint that redacts the recipient matches the
// one message found if it was the only recipient of its submission, which
// the index can tell since it holds every recipient a node queued. The node
// that received the report makes its events from the index's summary: the
// webhook (with the sending node's message ID, as the application knows it)
// and the suppression change (source "dsn", or "arf" for a complaint), both
// as intents of its own outbox. The sending node's queue record is not
// changed: its MsgRetired does not learn of the report, and the suppression
// policy's history on the receiving node is that node's own. A message
// appears in the index only once the sending node's relay moved it; a
// report that arrives before that is handled as unmatched. PostgreSQL that
// cannot be asked fails the ProcessIncoming call (FailOpen: handled as
// unmatched), so the host can refuse the report with a temporary error and
// get it again.
//
// # Layout
//
//   - relay.go: Relay, Run, Flush: moving the outbox.
//   - outbox.go: the intents and DBTypes.
//   - suppressions.go: StopTx, ProcessTx, DeliveredTx.
//   - hooks.go: Enqueue, HookInserter, WebhookID.
//   - sent.go: IndexTx.
//   - remote.go: RemoteSent, for queue.Handler.Remote.
//   - schema.go: the relay's table on PostgreSQL.
package relay
