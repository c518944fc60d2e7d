// Package pgsuppression keeps per-account suppression lists on PostgreSQL,
// for several sending nodes that must agree on them: an address suppressed
// through one node is suppressed on all. It behaves as the bstore store of
// package suppression (github.com/bouncekit/bouncekit/suppression), and
// both pass the same conformance suite (suppression/suppressiontest).
//
// Only storage is here. The rules come from package suppression: the
// Normalizer that computes base addresses, the Policy that decides on a
// failure (suppression.Policy.DecideEntry), the defaults and checks of a
// new entry (suppression.Prepare), how an entry in effect is refreshed
// (suppression.Refresh and Merge), and the CSV format
// (suppression.ReadCSV and WriteCSV).
//
// # Schema
//
// Open creates and upgrades the table bouncekit_suppression in the
// connection's current schema (search_path) with package migrate: versioned
// migrations in one transaction under an advisory lock, so nodes that start
// together do not race. A unique constraint on (account, base_address)
// keys the entries, as bstore's unique index does; an index on (account,
// id) serves List, a partial index on expires_at serves Cleanup. A zero
// time is stored as NULL: ExpiresAt NULL means the entry never expires.
//
// # Time
//
// PostgreSQL's timestamptz holds microseconds: times are truncated to the
// microsecond when stored, and the entries returned (also by Add) carry the
// stored times, in UTC.
//
// # Transactions
//
// Every method is one transaction, or one statement, on DB. Add inserts
// with INSERT ... ON CONFLICT DO NOTHING: a new address is that one
// statement. An address that is listed takes a transaction that locks its
// row (SELECT ... FOR UPDATE), merges in Go and updates the row, so
// concurrent adds of one address from any number of nodes serialize on
// that row and none is lost. Stop counts a hit in one UPDATE. Import adds
// all rows of a file in one transaction, or none; two imports that list
// the same addresses in different orders can deadlock, and PostgreSQL then
// fails one of them (nothing of it is written). This relies on
// PostgreSQL's default isolation, read committed. DB may be a pgx.Tx at
// that level: the methods then work in the caller's transaction, those of
// several statements (Add of a listed address, Process, Import) in a
// savepoint; as always in PostgreSQL, a statement that fails aborts the
// caller's transaction.
//
// # Differences
//
// PostgreSQL's text holds neither NUL bytes nor invalid UTF-8, which
// bstore stores: adding an entry whose account, reason or enhanced code
// has either is refused with suppression.ErrInvalid. Lookups, removals
// and filters with such an account find nothing, as they would in a
// bstore list without such entries. (Addresses never hold them: the
// Normalizer refuses them.)
//
// # Layout
//
//   - store.go: Store, Open: lookup, stop, add, remove, process a
//     failure, deliveries, cleanup.
//   - schema.go: the migrations of the table.
//   - list.go: List and Count with suppression.Filter.
//   - csv.go: Import, ImportCheck and Export.
package pgsuppression
