package suppression

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/mjl-/bstore"
)

// expiryRecord is the record of one Entry that expires, kept in step with the
// entry by every write of Store. Entries that never expire, most of a list
// (every hard bounce), have none: an index on Entry.ExpiresAt would hold a
// key for them too, and writing it was a B-tree more per new entry. The
// record has only its key, so an expiring entry costs one B-tree, as the
// index did.
type expiryRecord struct {
	// Key is the entry's ExpiresAt in UTC, fixed width so that keys sort
	// by time, then "/" and the entry's ID, zero-padded: CleanupTx finds
	// what expired with a range scan of the primary key.
	Key string `bstore:"typename SuppressionExpiry"`
}

// fieldExpiryKey is the field of expiryRecord for queries.
const fieldExpiryKey = "Key"

// expiryLayout is the time part of an expiry key. Its width is fixed for
// years 1 to 9999; expiryKey clamps other times into that range.
const expiryLayout = "20060102T150405.000000000"

// expiryKeyLen is the length of every expiry key: the time, "/", and 19
// digits, the width of the largest int64.
const expiryKeyLen = len(expiryLayout) + 1 + 19

// expiryKey returns the key of the expiry record of entry id expiring at t.
func expiryKey(t time.Time, id int64) string {
	t = t.UTC()
	if t.Year() < 1 {
		t = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if t.Year() > 9999 {
		t = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	}
	return fmt.Sprintf("%s/%019d", t.Format(expiryLayout), id)
}

// entryID returns the entry ID of an expiry key, false for a key that
// expiryKey did not make.
func entryID(key string) (int64, bool) {
	if len(key) != expiryKeyLen || key[len(expiryLayout)] != '/' {
		return 0, false
	}
	id, err := strconv.ParseInt(key[len(expiryLayout)+1:], 10, 64)
	return id, err == nil && id > 0
}

// addExpiry stores the expiry record of e if e expires. A record that is
// already there (the migration or an earlier write added it) is fine.
func addExpiry(tx *bstore.Tx, e Entry) error {
	if e.ExpiresAt.IsZero() {
		return nil
	}
	// An Insert that finds the key taken changes nothing and leaves tx
	// usable.
	if err := tx.Insert(&expiryRecord{Key: expiryKey(e.ExpiresAt, e.ID)}); err != nil && !errors.Is(err, bstore.ErrUnique) {
		return fmt.Errorf("suppression: adding expiry: %w", err)
	}
	return nil
}

// removeExpiry removes the expiry record of e if e expires. A record that
// is not there (an entry of an earlier version not yet migrated) is fine.
func removeExpiry(tx *bstore.Tx, e Entry) error {
	if e.ExpiresAt.IsZero() {
		return nil
	}
	if err := tx.Delete(&expiryRecord{Key: expiryKey(e.ExpiresAt, e.ID)}); err != nil && err != bstore.ErrAbsent {
		return fmt.Errorf("suppression: removing expiry: %w", err)
	}
	return nil
}

// updateExpiry moves the expiry record of an entry that changed from old to
// e, and writes nothing when its expiry did not change.
func updateExpiry(tx *bstore.Tx, old, e Entry) error {
	if old.ExpiresAt.Equal(e.ExpiresAt) {
		return nil
	}
	if err := removeExpiry(tx, old); err != nil {
		return err
	}
	return addExpiry(tx, e)
}

// cleanupExpired deletes the expiry records up to now and, for each, its
// entry if the entry still expires at the record's time. An entry whose
// expiry changed without its record (a host that wrote Entry itself) is
// kept, and gets the record of its current expiry.
func cleanupExpired(tx *bstore.Tx, now time.Time) (int, error) {
	var recs []expiryRecord
	// The last key of now, whatever the ID: every record of a time up to
	// now, inclusive.
	q := bstore.QueryTx[expiryRecord](tx).FilterLessEqual(fieldExpiryKey, expiryKey(now, math.MaxInt64))
	if _, err := q.Gather(&recs).Delete(); err != nil {
		return 0, fmt.Errorf("suppression: cleanup: %w", err)
	}
	n := 0
	for _, r := range recs {
		id, ok := entryID(r.Key)
		if !ok {
			continue
		}
		e := Entry{ID: id}
		if err := tx.Get(&e); err == bstore.ErrAbsent {
			continue
		} else if err != nil {
			return 0, fmt.Errorf("suppression: cleanup: %w", err)
		}
		if e.ExpiresAt.IsZero() || expiryKey(e.ExpiresAt, e.ID) != r.Key {
			if err := addExpiry(tx, e); err != nil {
				return 0, err
			}
			continue
		}
		if err := tx.Delete(&e); err != nil {
			return 0, fmt.Errorf("suppression: cleanup: %w", err)
		}
		n++
	}
	return n, nil
}

// expiryMigration records how far CleanupTx has come in adding the expiry
// records of entries written before there were any (they had an index on
// ExpiresAt instead). It is a type of its own, with one record (ID 1),
// so that the records of SuppressionExpiry are exactly one per expiring
// entry.
type expiryMigration struct {
	ID     int64 `bstore:"typename SuppressionExpiryMigration"`
	LastID int64 // The last entry scanned; the next step starts after it.
	Done   bool  // Every entry has been scanned.
}

// defaultMigrateStep is how many entries one CleanupTx scans for the
// migration at most, so that no call of a large list takes long.
const defaultMigrateStep = 10000

// migrateExpiry does one step of the migration, if it is not done, and
// reports whether it was done before the call: it scans
// up to step entries in ID order after the last one scanned and adds the
// expiry records that are missing. When a step finds fewer entries than it
// may scan, every entry has one, and the migration is done. A database
// that starts with this version scans what it holds at its first cleanup.
func migrateExpiry(tx *bstore.Tx, step int) (done bool, err error) {
	m := expiryMigration{ID: 1}
	err = tx.Get(&m)
	if err == nil && m.Done {
		return true, nil
	} else if err != nil && err != bstore.ErrAbsent {
		return false, fmt.Errorf("suppression: reading expiry migration: %w", err)
	}
	exists := err == nil
	if step <= 0 {
		step = defaultMigrateStep
	}
	scanned := 0
	err = bstore.QueryTx[Entry](tx).FilterGreater(FieldID, m.LastID).SortAsc(FieldID).Limit(step).ForEach(func(e Entry) error {
		scanned++
		m.LastID = e.ID
		return addExpiry(tx, e)
	})
	if err != nil {
		return false, fmt.Errorf("suppression: expiry migration: %w", err)
	}
	m.Done = scanned < step
	if exists {
		err = tx.Update(&m)
	} else {
		err = tx.Insert(&m)
	}
	if err != nil {
		return false, fmt.Errorf("suppression: writing expiry migration: %w", err)
	}
	return false, nil
}

// Upgrade finishes the migration of a database written by a version that
// indexed ExpiresAt (see the package doc, Upgrading): it adds the expiry
// records Cleanup would add over its next calls, one transaction of a
// bounded number of entries at a time, until every entry has been
// scanned, and returns how many transactions it took. A host calls it at
// startup, after opening the database with DBTypes; on a database that is
// done it reads one record. Without it, Cleanup does the same work a step
// per call.
func (s *Store) Upgrade(ctx context.Context) (steps int, err error) {
	for {
		var done bool
		err := s.write(ctx, func(tx *bstore.Tx) error {
			var err error
			done, err = migrateExpiry(tx, s.migrateStep)
			return err
		})
		if err != nil {
			return steps, err
		}
		if done {
			return steps, nil
		}
		steps++
	}
}
