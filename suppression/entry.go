package suppression

import "time"

// Entry is one suppressed address of one account, stored with bstore.
// Account and BaseAddress are unique together.
type Entry struct {
	ID int64

	// Account is the host's account (sender) the entry belongs to.
	// The index on Account alone (its keys end in the ID) lets List read
	// one account's entries in ID order without sorting them all.
	Account string `bstore:"unique Account+BaseAddress,index"`

	// BaseAddress is the normalized address (Normalizer.Normalize) that
	// sends are matched against.
	BaseAddress string `bstore:"nonzero"`

	// OriginalAddress is the address as it was first seen, for people.
	OriginalAddress string

	// Reason is free text for people: why the address is suppressed.
	Reason string

	Category Category `bstore:"nonzero"`
	Source   Source   `bstore:"nonzero"`

	// Code and EnhancedCode are the SMTP reply code and RFC 3463 status
	// code of the failure that caused the entry; zero and empty otherwise.
	// EnhancedCode is a bounce.EnhancedCode's String form: bstore could
	// store the array, but cannot change the type of a field that databases
	// already hold (see TestQueryPlanOldSchema). Code reads it with
	// bounce.ParseEnhancedCode.
	Code         int64
	EnhancedCode string

	// Created is when the entry was added; LastSeen when the failure was
	// last seen (an add of an existing entry updates it).
	Created  time.Time
	LastSeen time.Time

	// Hits is how often a send was stopped by this entry (Store.StopTx),
	// LastHit when that last happened.
	Hits    int64
	LastHit time.Time

	// ExpiresAt, when not zero, is when the entry stops being in effect.
	// Lookups ignore it from then on; Cleanup deletes it. It has no index:
	// an expiring entry has a record of its own (type SuppressionExpiry,
	// written by Store) that Cleanup finds, and an entry that never
	// expires, the common case, writes nothing for it. A host that writes
	// expiring Entry records itself, not through Store, writes no such
	// record, and Cleanup does not find them.
	ExpiresAt time.Time
}

// Field names of Entry, for bstore queries and filters.
const (
	FieldID              = "ID"
	FieldAccount         = "Account"
	FieldBaseAddress     = "BaseAddress"
	FieldOriginalAddress = "OriginalAddress"
	FieldCategory        = "Category"
	FieldSource          = "Source"
	FieldCreated         = "Created"
	FieldLastSeen        = "LastSeen"
	FieldHits            = "Hits"
	FieldExpiresAt       = "ExpiresAt"
)

// DBTypes returns the types of this package that a host passes to
// bstore.Open, e.g. bstore.Open(ctx, path, opts, suppression.DBTypes()...).
// It is a function, not a variable, so no package-level state can be
// modified.
func DBTypes() []any {
	return []any{Entry{}, expiryRecord{}, expiryMigration{}}
}

// Active reports whether e is in effect at now: it has no expiry or
// expires after now.
func (e Entry) Active(now time.Time) bool {
	return e.ExpiresAt.IsZero() || now.Before(e.ExpiresAt)
}
