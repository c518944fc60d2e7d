package suppression

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/internal/plantest"
)

// expiryKeys returns the keys of every SuppressionExpiry record, in order.
func expiryKeys(t *testing.T, db *bstore.DB) []string {
	t.Helper()
	recs, err := bstore.QueryDB[expiryRecord](context.Background(), db).List()
	tcheck(t, err, "listing expiry records")
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

// migrationState returns the stored progress of the expiry migration, and
// false when there is none yet.
func migrationState(t *testing.T, db *bstore.DB) (expiryMigration, bool) {
	t.Helper()
	m := expiryMigration{ID: 1}
	err := db.Get(context.Background(), &m)
	if err == bstore.ErrAbsent {
		return m, false
	}
	tcheck(t, err, "reading migration state")
	return m, true
}

func TestExpiryKey(t *testing.T) {
	tests := []struct {
		t    time.Time
		id   int64
		want string
	}{
		{time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), 7, "20250301T120000.000000000/0000000000000000007"},
		{time.Date(2025, 3, 1, 13, 0, 0, 1, time.FixedZone("", 3600)), 1 << 62, "20250301T120000.000000001/4611686018427387904"},
		{time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC), 1, "99991231T235959.999999999/0000000000000000001"},
		{time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), 1, "00010101T000000.000000000/0000000000000000001"},
		{time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC), 9223372036854775807, "09990101T000000.000000000/9223372036854775807"},
	}
	for _, tc := range tests {
		got := expiryKey(tc.t, tc.id)
		if got != tc.want || len(got) != expiryKeyLen {
			t.Errorf("expiryKey(%v, %d) = %q, want %q", tc.t, tc.id, got, tc.want)
		}
		if id, ok := entryID(got); !ok || id != tc.id {
			t.Errorf("entryID(%q) = %d %v, want %d", got, id, ok, tc.id)
		}
	}
	// Keys sort as their times do.
	a, b := expiryKey(t0, 99), expiryKey(t0.Add(time.Nanosecond), 1)
	if a >= b {
		t.Errorf("key of the earlier time %q does not sort before %q", a, b)
	}
	for _, bad := range []string{"", "x", "20250301T120000.000000000-0000000000000000007", "20250301T120000.000000000/00000000000000000x7", "20250301T120000.000000000/0000000000000000000"} {
		if _, ok := entryID(bad); ok {
			t.Errorf("entryID(%q) accepted", bad)
		}
	}
}

// TestExpiryRecords follows one address through every write of Store and
// checks after each that the expiry records are exactly those of the
// entries that expire.
func TestExpiryRecords(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t)
	var id int64 // Of jane's entry.
	add := func(e Entry) func() error {
		return func() error {
			got, _, err := s.Add(ctx, e)
			id = got.ID
			return err
		}
	}
	key := func(d time.Duration) []string { return []string{expiryKey(t0.Add(d), id)} }
	jane := func(c Category, exp time.Time) Entry {
		return Entry{Account: "acc", OriginalAddress: "jane@example.com", Category: c, ExpiresAt: exp}
	}
	steps := []struct {
		name string
		do   func() error
		want func() []string
	}{
		{"add, never expires", add(jane(CategoryHardBounce, time.Time{})), func() []string { return nil }},
		{"remove", func() error { return s.Remove(ctx, "acc", "jane@example.com") }, func() []string { return nil }},
		{"add, expires", add(jane(CategorySoftBounce, t0.Add(time.Hour))), func() []string { return key(time.Hour) }},
		{"refresh, later expiry", add(jane(CategorySoftBounce, t0.Add(2*time.Hour))), func() []string { return key(2 * time.Hour) }},
		{"refresh, earlier expiry: kept", add(jane(CategorySoftBounce, t0.Add(time.Minute))), func() []string { return key(2 * time.Hour) }},
		{"stop", func() error {
			return s.DB.Write(ctx, func(tx *bstore.Tx) error {
				e, ok, err := s.StopTx(tx, "acc", "jane@example.com", clk.Now())
				if err == nil && (!ok || e.Hits != 1) {
					err = fmt.Errorf("stop: ok %v, hits %d", ok, e.Hits)
				}
				return err
			})
		}, func() []string { return key(2 * time.Hour) }},
		{"refresh, never expires", add(jane(CategoryHardBounce, time.Time{})), func() []string { return nil }},
		{"refresh with an expiry: still never", add(jane(CategorySoftBounce, t0.Add(time.Hour))), func() []string { return nil }},
		{"remove", func() error { return s.Remove(ctx, "acc", "jane@example.com") }, func() []string { return nil }},
		{"add soft", add(jane(CategorySoftBounce, t0.Add(3*time.Hour))), func() []string { return key(3 * time.Hour) }},
		{"delivered", func() error {
			removed, err := s.Delivered(ctx, "acc", "jane@example.com")
			if err == nil && !removed {
				err = fmt.Errorf("not removed")
			}
			return err
		}, func() []string { return nil }},
		{"add soft again", add(jane(CategorySoftBounce, t0.Add(4*time.Hour))), func() []string { return key(4 * time.Hour) }},
		{"remove expiring", func() error { return s.Remove(ctx, "acc", "jane@example.com") }, func() []string { return nil }},
		{"add, expires soon", add(jane(CategoryManual, t0.Add(time.Minute))), func() []string { return key(time.Minute) }},
		{"after expiry, added as new with a later expiry", func() error {
			clk.Add(time.Hour)
			return add(jane(CategoryManual, t0.Add(5*time.Hour)))()
		}, func() []string { return key(5 * time.Hour) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got, want := expiryKeys(t, s.DB), st.want(); !slices.Equal(got, want) {
			t.Fatalf("%s: expiry records %q, want %q", st.name, got, want)
		}
	}
}

// TestCleanupExpiry checks that cleanups delete exactly the expired entries
// and their records, and that a record left behind by a host that changed
// an entry's expiry itself does not delete the entry early.
func TestCleanupExpiry(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	ids := map[string]int64{}
	for _, x := range []struct {
		addr string
		exp  time.Duration // 0: never.
	}{
		{"never1@example.com", 0},
		{"h1@example.com", time.Hour},
		{"h1b@example.com", time.Hour},
		{"h2@example.com", 2 * time.Hour},
		{"never2@example.com", 0},
		{"drift@example.com", time.Hour},
		{"h3@example.com", 3 * time.Hour},
	} {
		e := Entry{Account: "acc", OriginalAddress: x.addr}
		if x.exp != 0 {
			e.ExpiresAt = t0.Add(x.exp)
		}
		e, _, err := s.Add(ctx, e)
		tcheck(t, err, "add")
		ids[x.addr] = e.ID
	}
	// A host moves drift's expiry itself, leaving its record at 1h.
	err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
		e := Entry{ID: ids["drift@example.com"]}
		if err := tx.Get(&e); err != nil {
			return err
		}
		e.ExpiresAt = t0.Add(150 * time.Minute)
		return tx.Update(&e)
	})
	tcheck(t, err, "moving drift's expiry")

	remaining := func() []string {
		var l []string
		err := s.DB.Read(ctx, func(tx *bstore.Tx) error {
			return bstore.QueryTx[Entry](tx).ForEach(func(e Entry) error {
				l = append(l, strings.TrimSuffix(e.BaseAddress, "@example.com"))
				return nil
			})
		})
		tcheck(t, err, "listing")
		slices.Sort(l)
		return l
	}
	keys := func(addrs ...string) []string {
		var l []string
		for _, a := range addrs {
			e, ok, err := s.Lookup(ctx, "acc", a+"@example.com")
			if err != nil || !ok {
				t.Fatalf("lookup %s: %v %v", a, ok, err)
			}
			l = append(l, expiryKey(e.ExpiresAt, e.ID))
		}
		slices.Sort(l)
		return l
	}
	tests := []struct {
		at        time.Duration
		removed   int
		remaining []string
		records   func() []string
	}{
		{-time.Minute, 0, []string{"drift", "h1", "h1b", "h2", "h3", "never1", "never2"}, nil},
		// drift's stale record is dropped and its current one added.
		{time.Hour, 2, []string{"drift", "h2", "h3", "never1", "never2"}, func() []string { return keys("drift", "h2", "h3") }},
		{2 * time.Hour, 1, []string{"drift", "h3", "never1", "never2"}, func() []string { return keys("drift", "h3") }},
		{150 * time.Minute, 1, []string{"h3", "never1", "never2"}, func() []string { return keys("h3") }},
		{1000 * time.Hour, 1, []string{"never1", "never2"}, func() []string { return nil }},
		{2000 * time.Hour, 0, []string{"never1", "never2"}, func() []string { return nil }},
	}
	for _, tc := range tests {
		var wantRecords []string
		if tc.records != nil {
			wantRecords = tc.records()
		}
		n, err := s.Cleanup(ctx, t0.Add(tc.at))
		tcheck(t, err, "cleanup")
		if n != tc.removed {
			t.Fatalf("cleanup at %v removed %d, want %d", tc.at, n, tc.removed)
		}
		if got := remaining(); !slices.Equal(got, tc.remaining) {
			t.Fatalf("after cleanup at %v: %v, want %v", tc.at, got, tc.remaining)
		}
		if tc.records != nil {
			if got := expiryKeys(t, s.DB); !slices.Equal(got, wantRecords) {
				t.Fatalf("after cleanup at %v: records %q, want %q", tc.at, got, wantRecords)
			}
		}
	}
}

// TestCleanupReadsOnlyExpired checks, through bstore's statistics, that a
// cleanup of a list of many entries that never expire reads the records of
// what it removes and little else, and that a fresh database marks its
// migration done at once.
func TestCleanupReadsOnlyExpired(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if n, err := s.Cleanup(ctx, t0); err != nil || n != 0 {
		t.Fatalf("first cleanup of an empty list: %d %v", n, err)
	}
	if m, ok := migrationState(t, s.DB); !ok || !m.Done {
		t.Fatalf("fresh database: migration %+v (stored %v), want done", m, ok)
	}
	const never = 10000
	err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
		for i := range never {
			if _, _, err := s.AddTx(tx, Entry{Account: fmt.Sprintf("a%d", i%10), OriginalAddress: fmt.Sprintf("n%d@example.com", i), Category: CategoryHardBounce}, t0); err != nil {
				return err
			}
			if i%2000 != 0 {
				continue
			}
			// Five expiring entries among them, three expired at t0.
			exp := t0.Add(time.Duration(i/2000-2) * time.Hour)
			if _, _, err := s.AddTx(tx, Entry{Account: "a0", OriginalAddress: fmt.Sprintf("x%d@example.com", i), ExpiresAt: exp}, t0.Add(-24*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	tcheck(t, err, "adding entries")
	if got := len(expiryKeys(t, s.DB)); got != 5 {
		t.Fatalf("%d expiry records, want 5", got)
	}
	cleanup := func(at time.Time, want int) func(tx *bstore.Tx) error {
		return func(tx *bstore.Tx) error {
			n, err := s.CleanupTx(tx, at)
			if err == nil && n != want {
				err = fmt.Errorf("removed %d, want %d", n, want)
			}
			return err
		}
	}
	plantest.Check(t, s.DB, []plantest.Case{
		// Per removed entry: its record's cursor step, the entry's get and
		// the get of its delete; and the migration state.
		{Name: "three expired", Run: cleanup(t0, 3), Type: "SuppressionExpiry", Plan: plantest.PKScan, MaxReads: 1 + 3*3 + 1},
		{Name: "nothing expired", Run: cleanup(t0.Add(-3*time.Hour), 0), Type: "SuppressionExpiry", Plan: plantest.PKScan, MaxReads: 2},
	})
}

// oldEntry is Entry as versions before SuppressionExpiry stored it, with an
// index on ExpiresAt.
type oldEntry struct {
	ID              int64  `bstore:"typename Entry"`
	Account         string `bstore:"unique Account+BaseAddress,index"`
	BaseAddress     string `bstore:"nonzero"`
	OriginalAddress string
	Reason          string
	Category        Category `bstore:"nonzero"`
	Source          Source   `bstore:"nonzero"`
	Code            int64
	EnhancedCode    string
	Created         time.Time
	LastSeen        time.Time
	Hits            int64
	LastHit         time.Time
	ExpiresAt       time.Time `bstore:"index"`
}

// TestExpiryMigration opens a list written with the index on ExpiresAt:
// bstore drops the index, and cleanups in small steps add the missing
// records and remove exactly the expired entries, the later ones once they
// expire.
func TestExpiryMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := bstore.Open(ctx, path, nil, oldEntry{})
	tcheck(t, err, "open with the old type")
	var expired, later []string
	err = old.Write(ctx, func(tx *bstore.Tx) error {
		for i := range 35 {
			e := oldEntry{Account: "acc", BaseAddress: fmt.Sprintf("n%d@example.com", i), Category: CategoryHardBounce, Source: SourceQueue, Created: t0, LastSeen: t0}
			switch i % 7 {
			case 2:
				e.BaseAddress = fmt.Sprintf("x%d@example.com", i)
				e.ExpiresAt = t0.Add(-time.Duration(i) * time.Minute)
				expired = append(expired, e.BaseAddress)
			case 5:
				e.BaseAddress = fmt.Sprintf("l%d@example.com", i)
				e.ExpiresAt = t0.Add(time.Duration(i) * time.Minute)
				later = append(later, e.BaseAddress)
			}
			if err := tx.Insert(&e); err != nil {
				return err
			}
		}
		return nil
	})
	tcheck(t, err, "writing with the old type")
	tcheck(t, old.Close(), "close")
	hasIndex := func() bool {
		p, err := plantest.ReadPages(path)
		tcheck(t, err, "reading pages")
		_, ok := p["Entry/index.ExpiresAt"]
		return ok
	}
	if !hasIndex() {
		t.Fatalf("old database has no ExpiresAt index: the check cannot see it")
	}

	db, err := bstore.Open(ctx, path, nil, DBTypes()...)
	tcheck(t, err, "open with the current types")
	t.Cleanup(func() { db.Close() })
	if hasIndex() {
		t.Fatalf("ExpiresAt index still in the database")
	}
	s := &Store{DB: db, Now: func() time.Time { return t0 }, migrateStep: 10}

	// Lookups ignore the expired entries before any cleanup.
	for _, a := range expired {
		if _, ok, err := s.Lookup(ctx, "acc", a); err != nil || ok {
			t.Fatalf("lookup of expired %s: %v %v", a, ok, err)
		}
	}
	// 35 entries, 10 per step: four cleanups, the last one finds fewer than
	// 10 and is done. Each removes the expired entries of its step.
	for i, want := range []int{2, 1, 1, 1} {
		n, err := s.Cleanup(ctx, t0)
		tcheck(t, err, "cleanup")
		m, _ := migrationState(t, db)
		if n != want || m.Done != (i == 3) {
			t.Fatalf("cleanup %d: removed %d, want %d; migration %+v", i, n, want, m)
		}
	}
	if got := len(expiryKeys(t, db)); got != len(later) {
		t.Fatalf("%d expiry records, want %d", got, len(later))
	}
	var left []string
	err = db.Read(ctx, func(tx *bstore.Tx) error {
		return bstore.QueryTx[Entry](tx).ForEach(func(e Entry) error {
			left = append(left, e.BaseAddress)
			return nil
		})
	})
	tcheck(t, err, "listing")
	for _, a := range expired {
		if slices.Contains(left, a) {
			t.Fatalf("expired %s not removed", a)
		}
	}
	if len(left) != 35-len(expired) {
		t.Fatalf("%d entries left, want %d", len(left), 35-len(expired))
	}
	// The later ones go once they expire, the others stay.
	n, err := s.Cleanup(ctx, t0.Add(time.Hour))
	if err != nil || n != len(later) {
		t.Fatalf("cleanup of the later ones: %d, %v", n, err)
	}
	count, err := s.Count(ctx, Filter{})
	if err != nil || count != 35-len(expired)-len(later) {
		t.Fatalf("%d entries left, %v", count, err)
	}
	if keys := expiryKeys(t, db); len(keys) != 0 {
		t.Fatalf("expiry records left: %q", keys)
	}
}

// TestExpiryBucketsWritten checks in the database file which B-trees one
// add writes: an entry that never expires none of SuppressionExpiry (nor
// an ExpiresAt index), an expiring one its records tree only.
func TestExpiryBucketsWritten(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "suppression.db")
	db, err := bstore.Open(ctx, path, nil, DBTypes()...)
	tcheck(t, err, "open")
	t.Cleanup(func() { db.Close() })
	s := &Store{DB: db, Now: func() time.Time { return t0 }}
	// Enough entries, some expiring, that the trees are not inline.
	err = db.Write(ctx, func(tx *bstore.Tx) error {
		for i := range 3000 {
			e := Entry{Account: fmt.Sprintf("a%d", i%30), OriginalAddress: fmt.Sprintf("f%d@example.com", i)}
			if i%3 == 0 {
				e.ExpiresAt = t0.Add(time.Duration(i) * time.Hour)
			}
			if _, _, err := s.AddTx(tx, e, t0); err != nil {
				return err
			}
		}
		return nil
	})
	tcheck(t, err, "filling")
	entry := []string{"Entry", "Entry/index.Account", "Entry/index.Account+BaseAddress", "Entry/records"}
	tests := []struct {
		name string
		e    Entry
		want []string
	}{
		{"never expires", Entry{Account: "a1", OriginalAddress: "gone@example.com", Category: CategoryHardBounce}, entry},
		{"expires", Entry{Account: "a1", OriginalAddress: "soft@example.com", Category: CategorySoftBounce, ExpiresAt: t0.Add(time.Hour)}, append(slices.Clone(entry), "SuppressionExpiry", "SuppressionExpiry/records")},
	}
	for _, tc := range tests {
		before, err := plantest.ReadPages(path)
		tcheck(t, err, "reading pages")
		_, added, err := s.Add(ctx, tc.e)
		if err != nil || !added {
			t.Fatalf("%s: add: %v, added %v", tc.name, err, added)
		}
		after, err := plantest.ReadPages(path)
		tcheck(t, err, "reading pages")
		var got []string
		for _, b := range plantest.Names(plantest.Written(before, after)) {
			if b != "" {
				got = append(got, b)
			}
		}
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: buckets written %q, want %q", tc.name, got, tc.want)
		}
	}
	// And through bstore: the never-expiring add left no record.
	if keys := expiryKeys(t, db); len(keys) != 1001 {
		t.Fatalf("%d expiry records, want 1001", len(keys))
	}
}

// TestExpiryCompatV1 opens testdata/entries-v1.db.gz, written by the
// version of this package that indexed ExpiresAt (its Store.Add, at
// t0-48h): an entry that never expires, one that expired at t0-1h, one
// that expires at t0+1h, and a manual one of another account. Lookups
// ignore the expired one at once, the first cleanup adds the records and
// removes it, and the later one goes when it expires.
func TestExpiryCompatV1(t *testing.T) {
	ctx := context.Background()
	path := v1Database(t)
	p, err := plantest.ReadPages(path)
	tcheck(t, err, "reading pages")
	if _, ok := p["Entry/index.ExpiresAt"]; !ok {
		t.Fatalf("testdata has no ExpiresAt index")
	}

	db, err := bstore.Open(ctx, path, nil, DBTypes()...)
	tcheck(t, err, "open")
	t.Cleanup(func() { db.Close() })
	p, err = plantest.ReadPages(path)
	tcheck(t, err, "reading pages")
	if _, ok := p["Entry/index.ExpiresAt"]; ok {
		t.Fatalf("ExpiresAt index not dropped")
	}
	s := &Store{DB: db, Now: func() time.Time { return t0 }}
	for _, x := range []struct {
		account, address string
		want             bool
	}{
		{"acc", "gone@example.com", true},
		{"acc", "expired@example.com", false},
		{"acc", "later@example.com", true},
		{"other", "manual@example.org", true},
	} {
		if _, ok, err := s.Lookup(ctx, x.account, x.address); err != nil || ok != x.want {
			t.Fatalf("lookup %s: %v %v, want %v", x.address, ok, err, x.want)
		}
	}
	if m, ok := migrationState(t, db); ok {
		t.Fatalf("migration state before the first cleanup: %+v", m)
	}
	for _, x := range []struct {
		at      time.Time
		removed int
		left    int64
	}{
		{t0, 1, 3},
		{t0.Add(59 * time.Minute), 0, 3},
		{t0.Add(time.Hour), 1, 2},
		{t0.AddDate(100, 0, 0), 0, 2},
	} {
		n, err := s.Cleanup(ctx, x.at)
		if err != nil || n != x.removed {
			t.Fatalf("cleanup at %v: removed %d, %v; want %d", x.at, n, err, x.removed)
		}
		if m, ok := migrationState(t, db); !ok || !m.Done {
			t.Fatalf("migration after a cleanup: %+v, stored %v", m, ok)
		}
		if left, err := s.Count(ctx, Filter{}); err != nil || int64(left) != x.left {
			t.Fatalf("after cleanup at %v: %d entries, %v; want %d", x.at, left, err, x.left)
		}
	}
	if keys := expiryKeys(t, db); len(keys) != 0 {
		t.Fatalf("expiry records left: %q", keys)
	}
}

// v1Database writes testdata/entries-v1.db.gz, a list written by the
// version that indexed ExpiresAt, to a file of the test and returns its
// path.
func v1Database(t *testing.T) string {
	t.Helper()
	gz, err := os.ReadFile("testdata/entries-v1.db.gz")
	tcheck(t, err, "reading testdata")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	tcheck(t, err, "gunzip")
	data, err := io.ReadAll(zr)
	tcheck(t, err, "gunzip")
	path := filepath.Join(t.TempDir(), "entries-v1.db")
	tcheck(t, os.WriteFile(path, data, 0o600), "writing database")
	return path
}

// TestUpgrade: Upgrade finishes the migration of an old list at once, a
// bounded step per transaction, so the first Cleanup only deletes; called
// again it does nothing.
func TestUpgrade(t *testing.T) {
	ctx := context.Background()
	db, err := bstore.Open(ctx, v1Database(t), nil, DBTypes()...)
	tcheck(t, err, "open")
	t.Cleanup(func() { db.Close() })
	s := &Store{DB: db, Now: func() time.Time { return t0 }, migrateStep: 1}
	entries, err := s.Count(ctx, Filter{})
	tcheck(t, err, "count")
	steps, err := s.Upgrade(ctx)
	tcheck(t, err, "upgrade")
	// One entry per step, and one more step that finds none left.
	if steps != entries+1 {
		t.Fatalf("upgrade took %d steps, want %d", steps, entries+1)
	}
	if m, ok := migrationState(t, db); !ok || !m.Done {
		t.Fatalf("migration after Upgrade: %+v, stored %v", m, ok)
	}
	expiring, err := bstore.QueryDB[Entry](ctx, db).FilterFn(func(e Entry) bool { return !e.ExpiresAt.IsZero() }).Count()
	tcheck(t, err, "counting expiring entries")
	records, err := bstore.QueryDB[expiryRecord](ctx, db).Count()
	tcheck(t, err, "counting expiry records")
	if expiring == 0 || records != expiring {
		t.Fatalf("%d expiry records for %d expiring entries", records, expiring)
	}
	if steps, err := s.Upgrade(ctx); err != nil || steps != 0 {
		t.Fatalf("second upgrade: %d steps, %v; want 0", steps, err)
	}
	// The first cleanup deletes what expired, with no migration left to do.
	if n, err := s.Cleanup(ctx, t0); err != nil || n != 1 {
		t.Fatalf("cleanup after upgrade: removed %d, %v; want 1", n, err)
	}
}
