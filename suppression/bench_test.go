package suppression

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/paging"
	"go.uber.org/goleak"
)

// Size of the database of BenchmarkLookup.
const (
	benchAccounts           = 1000
	benchEntriesPerAccount  = 1000
	benchBatch              = 1000 // Adds per transaction.
	benchEntriesDescription = "1M entries, 1000 accounts"
)

// benchDB is the large database of the lookup benchmarks, built once per
// test binary run because building it takes a while. TestMain removes it.
var benchDB struct {
	once sync.Once
	dir  string
	db   *bstore.DB
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDB.db != nil {
		benchDB.db.Close()
	}
	if benchDB.dir != "" {
		os.RemoveAll(benchDB.dir)
	}
	// No goroutine may outlive the tests (the concurrent store tests start
	// some).
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

func benchAccount(i int) string { return fmt.Sprintf("account%04d", i) }

func benchAddress(i int) string { return fmt.Sprintf("User.%06d+tag@Domain%d.example", i, i%97) }

func largeDB(b *testing.B) *bstore.DB {
	benchDB.once.Do(func() {
		benchDB.dir, benchDB.err = os.MkdirTemp("", "suppression-bench")
		if benchDB.err != nil {
			return
		}
		ctx := context.Background()
		db, err := bstore.Open(ctx, filepath.Join(benchDB.dir, "large.db"), nil, DBTypes()...)
		if err != nil {
			benchDB.err = err
			return
		}
		benchDB.db = db
		s := &Store{DB: db}
		now := time.Now()
		start := time.Now()
		for a := range benchAccounts {
			err := db.Write(ctx, func(tx *bstore.Tx) error {
				for i := range benchEntriesPerAccount {
					e := Entry{Account: benchAccount(a), OriginalAddress: benchAddress(i), Category: CategoryHardBounce, Source: SourceQueue}
					if _, _, err := s.AddTx(tx, e, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				benchDB.err = err
				return
			}
		}
		b.Logf("built database of %s in %s", benchEntriesDescription, time.Since(start))
	})
	if benchDB.err != nil {
		b.Fatalf("building database: %v", benchDB.err)
	}
	return benchDB.db
}

// BenchmarkLookup: one read transaction and one unique-index lookup per
// operation, on a database of 1M entries; every lookup finds an entry.
func BenchmarkLookup(b *testing.B) {
	s := &Store{DB: largeDB(b)}
	ctx := context.Background()
	accounts := make([]string, benchAccounts)
	for i := range accounts {
		accounts[i] = benchAccount(i)
	}
	addresses := make([]string, benchEntriesPerAccount)
	for i := range addresses {
		addresses[i] = benchAddress(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Spread over accounts and addresses, not sequential in the index.
		k := i * 7919
		_, ok, err := s.Lookup(ctx, accounts[k%benchAccounts], addresses[(k/benchAccounts)%benchEntriesPerAccount])
		if err != nil || !ok {
			b.Fatalf("lookup: %v, found %v", err, ok)
		}
	}
}

// BenchmarkLookupMiss is BenchmarkLookup for addresses not on the list, the
// common case on the send path.
func BenchmarkLookupMiss(b *testing.B) {
	s := &Store{DB: largeDB(b)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, ok, err := s.Lookup(ctx, benchAccount(i%benchAccounts), "nobody@example.org")
		if err != nil || ok {
			b.Fatalf("lookup: %v, found %v", err, ok)
		}
	}
}

// BenchmarkAdd adds new entries to an on-disk database in batches of 1000
// per write transaction, and reports adds per second.
func BenchmarkAdd(b *testing.B) {
	db := openDB(b)
	s := &Store{DB: db}
	ctx := context.Background()
	now := time.Now()
	addresses := make([]string, b.N)
	for i := range addresses {
		addresses[i] = fmt.Sprintf("user%d@domain%d.example", i, i%1000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for start := 0; start < b.N; start += benchBatch {
		err := db.Write(ctx, func(tx *bstore.Tx) error {
			for i := start; i < min(start+benchBatch, b.N); i++ {
				e := Entry{Account: benchAccount(i % 100), OriginalAddress: addresses[i], Category: CategoryHardBounce, Source: SourceQueue}
				if _, added, err := s.AddTx(tx, e, now); err != nil || !added {
					return fmt.Errorf("add: %v, added %v", err, added)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}

// BenchmarkListAccount lists the first page of 100 entries of one account
// (1000 entries) in the 1M-entry database.
func BenchmarkListAccount(b *testing.B) {
	s := &Store{DB: largeDB(b)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		entries, next, err := s.List(ctx, Filter{Account: benchAccount(i % benchAccounts)}, paging.Page{Limit: 100})
		if err != nil || len(entries) != 100 || next == 0 {
			b.Fatalf("list: %v, %d entries", err, len(entries))
		}
	}
}

// benchCommitEntries is how many entries the per-commit benchmarks' database
// holds before they start, so that its trees have branch pages.
const benchCommitEntries = 10000

// commitDB returns an on-disk store holding benchCommitEntries entries that
// never expire.
func commitDB(b *testing.B) *Store {
	b.Helper()
	db := openDB(b)
	s := &Store{DB: db}
	now := time.Now()
	err := db.Write(context.Background(), func(tx *bstore.Tx) error {
		for i := range benchCommitEntries {
			e := Entry{Account: benchAccount(i % 100), OriginalAddress: fmt.Sprintf("old%d@domain%d.example", i, i%1000), Category: CategoryHardBounce, Source: SourceQueue}
			if _, _, err := s.AddTx(tx, e, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("filling database: %v", err)
	}
	return s
}

// BenchmarkProcessTxCommit is what a hard bounce costs the queue: one write
// transaction per operation, committed to disk, in which ProcessTx adds an
// entry that never expires.
func BenchmarkProcessTxCommit(b *testing.B) {
	s := commitDB(b)
	ctx := context.Background()
	now := time.Now()
	gone := bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
			c := Check{Account: benchAccount(i % 100), Recipient: fmt.Sprintf("gone%d@domain%d.example", i, i%1000), Failure: gone, Now: now}
			d, added, err := s.ProcessTx(tx, c)
			if err == nil && (!d.Suppress || !added || !d.ExpiresAt.IsZero()) {
				err = fmt.Errorf("decision %+v, added %v", d, added)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddExpiringCommit is BenchmarkProcessTxCommit for entries that
// expire (a soft suppression), one write transaction each.
func BenchmarkAddExpiringCommit(b *testing.B) {
	s := commitDB(b)
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
			e := Entry{Account: benchAccount(i % 100), OriginalAddress: fmt.Sprintf("soft%d@domain%d.example", i, i%1000), Category: CategorySoftBounce, Source: SourceQueue, ExpiresAt: now.Add(time.Duration(i%720) * time.Hour)}
			_, added, err := s.AddTx(tx, e, now)
			if err == nil && !added {
				err = fmt.Errorf("not added")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCleanup removes 10 expired entries per operation, in its own
// write transaction, from a database of benchCommitEntries entries that
// never expire; adding the 10 is not timed.
func BenchmarkCleanup(b *testing.B) {
	s := commitDB(b)
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Cleanup(ctx, now); err != nil {
		b.Fatalf("first cleanup: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		err := s.DB.Write(ctx, func(tx *bstore.Tx) error {
			for j := range 10 {
				e := Entry{Account: benchAccount(j), OriginalAddress: fmt.Sprintf("exp%d-%d@example.org", i, j), Category: CategorySoftBounce, Source: SourceQueue, ExpiresAt: now.Add(-time.Duration(j+1) * time.Minute)}
				if _, _, err := s.AddTx(tx, e, now.Add(-time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n, err := s.Cleanup(ctx, now)
		if err != nil || n != 10 {
			b.Fatalf("cleanup: %v, removed %d", err, n)
		}
	}
}

// BenchmarkCleanupNothing is a cleanup that finds nothing to remove in a
// database of benchCommitEntries entries that never expire: what a host
// calling Cleanup often pays.
func BenchmarkCleanupNothing(b *testing.B) {
	s := commitDB(b)
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Cleanup(ctx, now); err != nil {
		b.Fatalf("first cleanup: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		n, err := s.Cleanup(ctx, now)
		if err != nil || n != 0 {
			b.Fatalf("cleanup: %v, removed %d", err, n)
		}
	}
}
