package pgsent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/postgres/pgsent"
)

// BenchmarkPut puts batches of 100 new records, one transaction each, as
// a relay moving a node's outbox would.
func BenchmarkPut(b *testing.B) {
	x := open(b)
	ctx := context.Background()
	const batch = 100
	records := make([]pgsent.Sent, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range records {
			id := int64(i*batch + j + 1)
			records[j] = msg("a", id, id, "bob@example.com", t0)
		}
		if err := x.Put(ctx, records...); err != nil {
			b.Fatalf("put: %v", err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkByMessageID looks up random Message-IDs in an index of 100,000
// records (submissions of 2 recipients on 4 nodes).
func BenchmarkByMessageID(b *testing.B) {
	x := open(b)
	ctx := context.Background()
	const n = 100_000
	var records []pgsent.Sent
	for i := int64(1); i <= n; i++ {
		records = append(records, msg(fmt.Sprint("node", i%4), i, (i+1)/2, fmt.Sprintf("r%d@example.com", i), t0.Add(time.Duration(i)*time.Second)))
		if len(records) == 1000 || i == n {
			if err := x.Put(ctx, records...); err != nil {
				b.Fatalf("put: %v", err)
			}
			records = records[:0]
		}
	}
	if _, err := x.DB.Exec(ctx, "ANALYZE bouncekit_sent"); err != nil {
		b.Fatalf("analyze: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i*7919%n + 1)
		l, err := x.ByMessageID(ctx, "alice", fmt.Sprintf("mnode%d%d@example.org", id%4, (id+1)/2))
		if err != nil || len(l) == 0 {
			b.Fatalf("lookup: %d records, %v", len(l), err)
		}
	}
}
