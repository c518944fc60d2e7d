package suppression

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/inject"
)

// Errors of Store.
var (
	ErrAbsent  = errors.New("suppression: no such entry")
	ErrInvalid = errors.New("suppression: invalid entry")
	ErrNoDB    = errors.New("suppression: store has no database")
)

// Store is a suppression list kept in the host's bstore database, which must
// have been opened with DBTypes. Its exported fields are configuration; the
// zero value of each is the documented default. A Store is safe for
// concurrent use: bstore serializes write transactions.
//
// Methods without a Tx suffix open their own transaction on DB. The Tx forms
// take the caller's transaction (writable for the ones that write), so an
// entry is added or removed together with the caller's other changes, and
// take the time explicitly where it matters.
type Store struct {
	// DB is the host's database. Only the methods without a Tx suffix use it.
	DB *bstore.DB

	// Policy decides in ProcessTx. The zero Policy is the default.
	Policy Policy

	// Normalizer maps addresses to base addresses. The zero Normalizer is
	// the default. Changing it for an existing list leaves the stored base
	// addresses as they are.
	Normalizer Normalizer

	// Now returns the current time for the methods without a Tx suffix.
	// Nil means time.Now.
	Now func() time.Time

	// migrateStep is how many entries one CleanupTx scans for the expiry
	// migration (migrateExpiry); zero means defaultMigrateStep. Tests set
	// it small.
	migrateStep int
}

func (s *Store) now() time.Time {
	return inject.Now(s.Now)
}

func (s *Store) read(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if s.DB == nil {
		return ErrNoDB
	}
	return s.DB.Read(ctx, fn)
}

func (s *Store) write(ctx context.Context, fn func(tx *bstore.Tx) error) error {
	if s.DB == nil {
		return ErrNoDB
	}
	return s.DB.Write(ctx, fn)
}

// key returns the checked account and the base address of address.
func (s *Store) key(account, address string) (string, error) {
	return Key(s.Normalizer, account, address)
}

// get returns the stored entry for account and base address, active or not.
func get(tx *bstore.Tx, account, base string) (Entry, bool, error) {
	e, err := bstore.QueryTx[Entry](tx).FilterEqual(FieldAccount, account).FilterEqual(FieldBaseAddress, base).Get()
	if err == bstore.ErrAbsent {
		return Entry{}, false, nil
	} else if err != nil {
		return Entry{}, false, fmt.Errorf("suppression: lookup: %w", err)
	}
	return e, true, nil
}

// Lookup returns the entry in effect for address in account; see LookupTx.
func (s *Store) Lookup(ctx context.Context, account, address string) (e Entry, ok bool, err error) {
	err = s.read(ctx, func(tx *bstore.Tx) error {
		e, ok, err = s.LookupTx(tx, account, address, s.now())
		return err
	})
	return
}

// LookupTx returns the entry in effect at now for the base address of
// address in account. ok is false when there is none, or only an expired one.
// It is one unique-index lookup. It does not count a hit: use StopTx when the
// lookup stops a send.
func (s *Store) LookupTx(tx *bstore.Tx, account, address string, now time.Time) (e Entry, ok bool, err error) {
	base, err := s.key(account, address)
	if err != nil {
		return Entry{}, false, err
	}
	e, ok, err = get(tx, account, base)
	if err != nil || !ok || !e.Active(now) {
		return Entry{}, false, err
	}
	return e, true, nil
}

// StopTx is LookupTx for a send that is about to happen: when an entry is in
// effect it counts a hit (Hits, LastHit) and returns it with ok true, and the
// caller should not send. tx must be writable.
func (s *Store) StopTx(tx *bstore.Tx, account, address string, now time.Time) (e Entry, ok bool, err error) {
	e, ok, err = s.LookupTx(tx, account, address, now)
	if err != nil || !ok {
		return e, ok, err
	}
	e.Hits++
	e.LastHit = now
	if err := tx.Update(&e); err != nil {
		return Entry{}, false, fmt.Errorf("suppression: counting hit: %w", err)
	}
	return e, true, nil
}

// Add adds or refreshes an entry; see AddTx.
func (s *Store) Add(ctx context.Context, e Entry) (entry Entry, added bool, err error) {
	err = s.write(ctx, func(tx *bstore.Tx) error {
		entry, added, err = s.AddTx(tx, e, s.now())
		return err
	})
	return
}

// AddTx adds e, or refreshes the existing entry with the same base address,
// and returns the stored entry. added is true when no entry was in effect
// before.
//
// The base address is computed from e.OriginalAddress (e.BaseAddress when
// that is empty). Empty Category means CategoryManual, empty Source
// SourceAPI, zero Created and LastSeen mean now. e.ID is ignored: a new
// entry gets the next ID, a refreshed one keeps its own.
//
// Refreshing never fails on the unique index and never shortens an entry:
// LastSeen and ExpiresAt become the later of both (zero ExpiresAt, never,
// being the latest), Created the earlier. Reason, Category, Source and the
// codes are taken from e unless e is a soft bounce and the existing entry is
// not: a soft bounce does not weaken a hard bounce, complaint or manual
// entry. An entry that had expired is replaced as if new.
func (s *Store) AddTx(tx *bstore.Tx, e Entry, now time.Time) (Entry, bool, error) {
	e, err := Prepare(s.Normalizer, e, now)
	if err != nil {
		return Entry{}, false, err
	}
	old, ok, err := get(tx, e.Account, e.BaseAddress)
	if err != nil {
		return Entry{}, false, err
	}
	if !ok {
		e.ID = 0
		if err := tx.Insert(&e); err != nil {
			return Entry{}, false, fmt.Errorf("suppression: adding entry: %w", err)
		}
		if err := addExpiry(tx, e); err != nil {
			return Entry{}, false, err
		}
		return e, true, nil
	}
	e, added := Refresh(old, e, now)
	if err := tx.Update(&e); err != nil {
		return Entry{}, false, fmt.Errorf("suppression: updating entry: %w", err)
	}
	if err := updateExpiry(tx, old, e); err != nil {
		return Entry{}, false, err
	}
	return e, added, nil
}

// Remove removes the entry for address; see RemoveTx.
func (s *Store) Remove(ctx context.Context, account, address string) error {
	return s.write(ctx, func(tx *bstore.Tx) error {
		return s.RemoveTx(tx, account, address)
	})
}

// RemoveTx removes the entry for the base address of address in account,
// expired or not. It returns ErrAbsent when there is none.
func (s *Store) RemoveTx(tx *bstore.Tx, account, address string) error {
	base, err := s.key(account, address)
	if err != nil {
		return err
	}
	e, ok, err := get(tx, account, base)
	if err != nil {
		return err
	} else if !ok {
		return ErrAbsent
	}
	if err := tx.Delete(&e); err != nil {
		return fmt.Errorf("suppression: removing entry: %w", err)
	}
	return removeExpiry(tx, e)
}

// Process decides on and records a failure; see ProcessTx.
func (s *Store) Process(ctx context.Context, c Check) (d Decision, added bool, err error) {
	if c.Now.IsZero() {
		c.Now = s.now()
	}
	err = s.write(ctx, func(tx *bstore.Tx) error {
		d, added, err = s.ProcessTx(tx, c)
		return err
	})
	return
}

// ProcessTx is what the queue calls when a message failed for good: it
// asks Policy.Decide and, when the decision is to suppress, adds or
// refreshes the entry (AddTx). added is true when a new entry came into
// effect. Zero c.Now means the Store's Now, empty c.Source SourceQueue.
func (s *Store) ProcessTx(tx *bstore.Tx, c Check) (Decision, bool, error) {
	if c.Now.IsZero() {
		c.Now = s.now()
	}
	d, e := s.Policy.DecideEntry(c)
	if !d.Suppress {
		return d, false, nil
	}
	_, added, err := s.AddTx(tx, e, c.Now)
	if err != nil {
		return d, false, err
	}
	return d, added, nil
}

// Delivered records a successful delivery; see DeliveredTx.
func (s *Store) Delivered(ctx context.Context, account, address string) (removed bool, err error) {
	err = s.write(ctx, func(tx *bstore.Tx) error {
		removed, err = s.DeliveredTx(tx, account, address)
		return err
	})
	return
}

// DeliveredTx is what the queue calls after a successful delivery: a soft
// suppression of the address is removed, as Postal does, since the mailbox
// evidently works again. Other categories stay: they were decided on
// stronger evidence or by a person. An address that cannot be normalized
// cannot be on the list, so it gives false and no error.
func (s *Store) DeliveredTx(tx *bstore.Tx, account, address string) (removed bool, err error) {
	base, err := s.key(account, address)
	if err != nil {
		return false, nil
	}
	e, ok, err := get(tx, account, base)
	if err != nil || !ok || e.Category != CategorySoftBounce {
		return false, err
	}
	if err := tx.Delete(&e); err != nil {
		return false, fmt.Errorf("suppression: removing soft entry: %w", err)
	}
	if err := removeExpiry(tx, e); err != nil {
		return false, err
	}
	return true, nil
}

// Cleanup deletes expired entries; see CleanupTx.
func (s *Store) Cleanup(ctx context.Context, now time.Time) (n int, err error) {
	err = s.write(ctx, func(tx *bstore.Tx) error {
		n, err = s.CleanupTx(tx, now)
		return err
	})
	return
}

// CleanupTx deletes the entries that expired at or before now and returns
// how many. It reads only the expiry records of what it removes (a range
// scan of SuppressionExpiry up to now), so it is cheap to call often,
// whatever the number of entries that never expire.
//
// Entries written by versions of this package that indexed ExpiresAt
// instead have no expiry record. Until all are scanned, each call first
// adds the missing records of at most 10,000 entries, in ID order, from
// where the previous call stopped (the progress is kept in the database,
// type SuppressionExpiryMigration); a database that starts with this
// version marks itself done at its first call. Until then, old entries
// that expired may stay in the database, but lookups already ignore them.
func (s *Store) CleanupTx(tx *bstore.Tx, now time.Time) (int, error) {
	if _, err := migrateExpiry(tx, s.migrateStep); err != nil {
		return 0, err
	}
	return cleanupExpired(tx, now)
}
