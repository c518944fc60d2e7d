package hookqueue

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/paging"
)

// BenchmarkDeliver measures hooks delivered per second to one loopback
// endpoint answering 200 at once, with state on an on-disk database: each
// op is one hook enqueued beforehand, POSTed and retired.
func BenchmarkDeliver(b *testing.B) {
	for _, conc := range []int{4, 16} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) { benchDeliver(b, conc) })
	}
}

func benchDeliver(b *testing.B, concurrency int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	db, err := bstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil, DBTypes()...)
	tcheck(b, err, "open db")
	defer db.Close()

	var n atomic.Int64
	done := make(chan struct{})
	total := int64(b.N)
	q := &Queue{
		DB:            db,
		Concurrency:   concurrency,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		OnResult: func(h Hook, retired bool) {
			if n.Add(1) == total {
				close(done)
			}
		},
	}
	hk := testHook(srv.URL)
	hk.Secrets = []string{secret1}
	hk.Payload.Subject = "benchmark"
	for i := 0; i < b.N; i += 1000 {
		batch := make([]Hook, min(1000, b.N-i))
		for j := range batch {
			batch[j] = hk
		}
		err := db.Write(context.Background(), func(tx *bstore.Tx) error { return q.Enqueue(tx, batch...) })
		tcheck(b, err, "enqueue")
	}

	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() { runDone <- q.Run(ctx) }()
	<-done
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	tcheck(b, <-runDone, "run")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "hooks/s")
	left, err := bstore.QueryDB[Hook](context.Background(), db).Count()
	tcheck(b, err, "count")
	if left != 0 {
		b.Fatalf("%d hooks left", left)
	}
}

// BenchmarkListIncoming lists a page of 100 pending incoming hooks whose
// payloads have a text and an HTML part of 1 MiB each
// (report.MaxIncomingText), as for an account whose endpoint is down:
// each op is one List call.
func BenchmarkListIncoming(b *testing.B) {
	db, err := bstore.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil, DBTypes()...)
	tcheck(b, err, "open db")
	defer db.Close()
	q := &Queue{DB: db}
	in := testIncoming()
	in.Text = strings.Repeat("0123456789abcde\n", 1<<16)
	in.HTML = "<pre>" + in.Text + "</pre>"
	for range 10 {
		batch := make([]Hook, 10)
		for i := range batch {
			batch[i] = Hook{Account: "acc", URL: "https://app.example/in", Incoming: in}
		}
		err := db.Write(context.Background(), func(tx *bstore.Tx) error { return q.Enqueue(tx, batch...) })
		tcheck(b, err, "enqueue")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, _, err := q.List(context.Background(), Filter{Account: "acc"}, paging.Page{Limit: 100})
		if err != nil || len(l) != 100 {
			b.Fatalf("list: %d hooks, %v", len(l), err)
		}
	}
}
