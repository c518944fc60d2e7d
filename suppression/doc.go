// Package suppression keeps per-account suppression lists: addresses a mail
// server stops sending to because they will not accept mail. Retrying them
// hurts the server's reputation; suppressing too eagerly silently drops mail
// to people who would have received it. This package tries to do the first
// without the second.
//
// It has three parts: a Policy that decides, a Normalizer that maps an
// address to the base address entries are keyed on, and a Store that keeps
// Entry records in the host's bstore database, inside the host's
// transaction. Of bouncekit it imports only the leaf package bounce, whose
// Failure, Reason and hard-bounce definition it decides from; package queue
// calls it with a Check holding the bounce.Failure and the recipient's
// earlier results (Prior).
//
// # Policy
//
// Policy.Decide is a pure function of the failure and the recipient's recent
// history. The zero Policy:
//
//   - suppresses at once, without expiry, on a hard bounce with an SMTP
//     reply: a permanent failure that says the address is gone,
//     userunknown (5.1.1), hostunknown (5.1.2), hasmoved (5.1.6) or
//     notaccept (521/556, RFC 7504), as bounce.Failure.HardBounce defines
//     it. That definition is the only one: the policy calls it;
//   - suppresses at once for 7 days (DefaultNoReplyExpiry, field
//     NoReplyExpiry) on a hard bounce without an SMTP reply (Code 0): an
//     NXDOMAIN, no address records, or a DSN in which a relay reports its
//     own failed DNS lookup (Postfix's 5.4.4 "Host or domain name not
//     found"), or any other report whose diagnostic has no reply code. A
//     DNS answer is a fact about a moment; a provider outage or a domain
//     registered tomorrow turns it around. mox does not suppress on these
//     at once. Each new such failure renews the entry. The exception is a
//     null MX (RFC 7505: notaccept with status X.1.10), the domain's own
//     statement that it takes no mail, which suppresses without expiry like
//     a reply;
//   - treats suspend (a disabled mailbox, 5.2.1, 5.7.13) as an ordinary
//     failure that counts toward the soft rule below: accounts are disabled
//     for unpaid bills, inactivity or abuse locks and enabled again, and
//     sisimai calls it a soft bounce. mox suppresses on 5.2.1 at once; set
//     HardReasons to do that;
//   - suppresses at once, without expiry, on a complaint (reason "feedback",
//     or Source arf: an RFC 5965 feedback report);
//   - never suppresses for reputation and policy blocks (blocked,
//     spamdetected, policyviolation, badreputation, toomanyconn, speeding,
//     and any x.7.x status without a reason): they say "not from you, not
//     now" and suppressing would punish the recipient for the sender's
//     reputation. mox suppresses on any 550 and on 5.7.1; this package does
//     not;
//   - soft suppresses for 30 days (like Postal) after 3 consecutive failed
//     messages (like mox) to the same base address. Reputation blocks in the
//     history are skipped, a delivered message resets the count.
//
// Every threshold and reason list is a Policy field.
//
// # Normalization
//
// The zero Normalizer lowercases the domain and encodes it to its IDNA
// A-label (RFC 5890, RFC 3492), writes IP literals canonically, lowercases
// the localpart, cuts it at the first "+" and removes dots only for gmail.com
// and googlemail.com. It never cuts at "-" unless configured: mox cuts every
// localpart at "+" and "-" and removes dots everywhere, which merges
// john-doe@ and john-smith@ into one entry. Quoted localparts (RFC 5321
// section 4.1.2), address literals (section 4.1.3) and UTF-8 localparts (RFC
// 6531) work; malformed addresses give ErrAddress.
//
// A domain with non-ASCII characters first goes through
// golang.org/x/net/idna's lookup profile (UTS #46 mapping, NFC, IDNA 2008
// validation), so full-width forms, ideographic full stops and decomposed
// characters give the same base address. An ASCII A-label is decoded with
// the same module's Punycode profile and accepted only when it is the
// canonical encoding of a valid U-label (it encodes back to itself), so one
// name has one base form.
//
// # Store
//
// Entry has a unique index on Account+BaseAddress. Adding an address that is
// already listed refreshes the entry (LastSeen, Reason, expiry) instead of
// failing, inside the same write transaction, so concurrent adds never
// duplicate. Lookups use that index; an expired entry is ignored by lookups
// at once and deleted by Cleanup (see Performance and Upgrading). A
// successful delivery (DeliveredTx) removes a soft suppression. StopTx is
// the lookup that stops a send and counts a hit. List pages by ID with a
// cursor that stays stable while entries are added; Import and Export use
// CSV (RFC 4180) with a header row, and a bad import row is reported with
// its line number before anything is written.
//
// Every method that touches the database comes in two forms: one that opens
// its own transaction on Store.DB, and one with a Tx suffix that takes the
// caller's *bstore.Tx, so that the queue's failure handling, its DSN and its
// suppression entry commit or roll back together.
//
// # Performance
//
// Every lookup is its own read transaction and one unique-index get
// (bench_test.go measures it; the figures are in the README). List with an
// Account filter reads the index on Account, whose keys end in the ID, in
// the order asked: the first page costs its length whatever the size of the
// account's list. A later page also steps over the entries before its
// cursor (bstore seeks an index only by its named fields, and bstore
// v0.0.11 builds an index that names ID wrongly for existing records), so
// deep pages of a large list cost their depth. Filter fields other than
// Account are checked per entry: a filter that matches few of the account's
// entries reads more of them per page. The index costs one more index write
// per new entry.
//
// ExpiresAt has no index. An entry that expires has a record of its own
// (type SuppressionExpiry) whose key is the expiry time, fixed width in UTC,
// then the entry's ID: one B-tree per expiring entry and none for an entry
// that never expires, such as every hard bounce (an index holds a key for
// zero values too, and each B-tree a commit changes is pages written and
// synced). Every write of Store keeps the records in step with the entries.
// Cleanup reads the records up to now in key order, so its cost follows
// what it removes, not what the list keeps.
//
// # Upgrading
//
// Versions before SuppressionExpiry indexed ExpiresAt. bstore drops that
// index when the database is opened with DBTypes. The expiry records of
// the entries such a version wrote are added by Cleanup, a bounded number
// of entries per call, in ID order from where the last call stopped (type
// SuppressionExpiryMigration keeps the place); a new database marks itself
// done at its first Cleanup. Store.Upgrade, called at startup, does all of
// it at once, a bounded step per transaction. Until the migration is done,
// old entries that expired are not yet deleted, but lookups already ignore
// them. A host that writes Entry records itself, not through Store, should
// write none that expire: they get no record and Cleanup does not find
// them.
//
// # Layout
//
//   - policy.go: Policy, Check and Decision: whether a failure suppresses,
//     on bounce.Failure and its hard-bounce definition; categories and
//     sources.
//   - normalize.go: Normalizer, the base address of an address.
//   - entry.go: Entry, the stored record.
//   - expiry.go: the expiry records of expiring entries, Cleanup's range
//     scan of them, and the migration from the index on ExpiresAt.
//   - store.go: Store: lookup, add, remove, process a failure, cleanup.
//   - list.go: Filter, List and Count, paged with package paging.
//   - csv.go: import and export as CSV.
//   - shared.go: the rules apart from storage (Key, Prepare, Refresh,
//     Merge, Policy.DecideEntry, ReadCSV, WriteCSV), exported for other
//     stores, such as the PostgreSQL one of the nested module
//     github.com/bouncekit/bouncekit/postgres. Package suppressiontest is
//     the conformance suite every store passes.
package suppression
