package pgsuppression_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/bouncekit/bouncekit/paging"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
	"github.com/bouncekit/bouncekit/postgres/pgsuppression"
	"github.com/bouncekit/bouncekit/suppression"
)

// Size of the list of the lookup benchmarks, as the bstore store's
// (suppression/bench_test.go).
const (
	benchAccounts          = 1000
	benchEntriesPerAccount = 1000
)

// bench is the large list of the lookup benchmarks, built once per test
// binary run because building it takes a while. TestMain drops it.
var bench struct {
	once       sync.Once
	connString string
	schema     string
	pool       *pgxpool.Pool
	err        error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.pool != nil {
		bench.pool.Close()
	}
	if bench.schema != "" {
		if err := pgtest.DropSchema(context.Background(), bench.connString, bench.schema); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	// No goroutine may outlive the tests: pools are closed.
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

func benchAccount(i int) string { return fmt.Sprintf("account%04d", i) }

func benchAddress(i int) string { return fmt.Sprintf("User.%06d+tag@Domain%d.example", i, i%97) }

// largeList returns a store on a list of benchAccounts *
// benchEntriesPerAccount entries. The rows are copied in (COPY), not added
// one by one: the benchmark is of lookups.
func largeList(b *testing.B) *pgsuppression.Store {
	bench.once.Do(func() {
		ctx := context.Background()
		bench.connString = pgtest.ConnString(b)
		bench.schema, bench.err = pgtest.CreateSchema(ctx, bench.connString)
		if bench.err != nil {
			return
		}
		config, err := pgtest.SchemaConfig(bench.connString, bench.schema)
		if err != nil {
			bench.err = err
			return
		}
		bench.pool, bench.err = pgxpool.NewWithConfig(ctx, config)
		if bench.err != nil {
			return
		}
		if _, bench.err = pgsuppression.Open(ctx, bench.pool); bench.err != nil {
			return
		}
		now := time.Now()
		var n suppression.Normalizer
		rows := make([][]any, 0, benchAccounts*benchEntriesPerAccount)
		for a := 0; a < benchAccounts; a++ {
			for i := 0; i < benchEntriesPerAccount; i++ {
				addr := benchAddress(i)
				base, err := n.Normalize(addr)
				if err != nil {
					bench.err = err
					return
				}
				rows = append(rows, []any{benchAccount(a), base, addr, strings.ToLower(addr), "bench", "manual", "api", int64(0), "", now, now, int64(0)})
			}
		}
		cols := []string{"account", "base_address", "original_address", "original_lower", "reason", "category", "source", "code", "enhanced_code", "created", "last_seen", "hits"}
		if _, bench.err = bench.pool.CopyFrom(ctx, pgx.Identifier{"bouncekit_suppression"}, cols, pgx.CopyFromRows(rows)); bench.err != nil {
			return
		}
		_, bench.err = bench.pool.Exec(ctx, "ANALYZE bouncekit_suppression")
	})
	if bench.err != nil {
		b.Fatalf("building the list: %v", bench.err)
	}
	return &pgsuppression.Store{DB: bench.pool}
}

// BenchmarkLookup looks up addresses of random accounts in a list of 1M
// entries, one goroutine.
func BenchmarkLookup(b *testing.B) {
	s := largeList(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, ok, err := s.Lookup(ctx, benchAccount(i*7919%benchAccounts), benchAddress(i%benchEntriesPerAccount))
		if err != nil || !ok {
			b.Fatalf("lookup: ok %v, err %v", ok, err)
		}
	}
}

// BenchmarkLookupParallel is BenchmarkLookup from GOMAXPROCS goroutines on
// one pool, as a node's delivery workers would.
func BenchmarkLookupParallel(b *testing.B) {
	s := largeList(b)
	ctx := context.Background()
	var seq atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(seq.Add(1))
			_, ok, err := s.Lookup(ctx, benchAccount(i*7919%benchAccounts), benchAddress(i%benchEntriesPerAccount))
			if err != nil || !ok {
				b.Errorf("lookup: ok %v, err %v", ok, err)
				return
			}
		}
	})
}

// BenchmarkAdd adds new addresses, one transaction each.
func BenchmarkAdd(b *testing.B) {
	s := open(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: benchAddress(i)}); err != nil {
			b.Fatalf("add: %v", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}

// BenchmarkAddRefresh adds an address that is listed: the row is locked,
// merged and updated.
func BenchmarkAddRefresh(b *testing.B) {
	s := open(b, nil)
	ctx := context.Background()
	if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com"}); err != nil {
		b.Fatalf("add: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.Add(ctx, suppression.Entry{Account: "acc", OriginalAddress: "john@example.com", Reason: "again"}); err != nil {
			b.Fatalf("add: %v", err)
		}
	}
}

// BenchmarkImport adds 1000 new addresses in one transaction per op, as
// the bstore store's batch figure.
func BenchmarkImport(b *testing.B) {
	s := open(b, nil)
	ctx := context.Background()
	const batch = 1000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var csv strings.Builder
		csv.WriteString("account,address\n")
		for j := 0; j < batch; j++ {
			fmt.Fprintf(&csv, "acc,%s\n", benchAddress(i*batch+j))
		}
		b.StartTimer()
		res, err := s.Import(ctx, strings.NewReader(csv.String()))
		if err != nil || res.Added != batch {
			b.Fatalf("import: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "adds/s")
}

// BenchmarkList lists the first page of 100 of an account's 1000 entries,
// of random accounts in the list of BenchmarkLookup.
func BenchmarkList(b *testing.B) {
	s := largeList(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, _, err := s.List(ctx, suppression.Filter{Account: benchAccount(i * 7919 % benchAccounts)}, paging.Page{Limit: 100})
		if err != nil || len(l) != 100 {
			b.Fatalf("list: %d entries, %v", len(l), err)
		}
	}
}
