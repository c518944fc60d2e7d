package riverhook

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bouncekit/bouncekit/hookqueue"
	"github.com/bouncekit/bouncekit/postgres/internal/pgtest"
)

// statsQueue opens a Queue with metrics on a table of finished jobs of
// its queue and pending ones in each pending state, analyzed, as River's
// table looks after a while: most rows are kept for KeepRetired.
func statsQueue(tb testing.TB, finished, pending int) (*Queue, *prometheus.Registry) {
	tb.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(tb)
	reg := prometheus.NewRegistry()
	m, err := hookqueue.NewMetrics(reg)
	if err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	q, err := Open(ctx, pool, Config{Metrics: m})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	const insert = `INSERT INTO river_job (state, queue, kind, args, max_attempts, finalized_at)
		SELECT $1::river_job_state, $2, $3, jsonb_build_object('account', 'a', 'submitted', now()), 12, CASE WHEN $1 = 'completed' THEN now() END
		FROM generate_series(1, $4)`
	for _, s := range []struct {
		state string
		n     int
	}{{"completed", finished}, {"available", pending / 4}, {"scheduled", pending / 4}, {"retryable", pending / 4}, {"running", pending - 3*(pending/4)}} {
		if _, err := pool.Exec(ctx, insert, s.state, q.queue(), Kind, s.n); err != nil {
			tb.Fatalf("insert %s jobs: %v", s.state, err)
		}
	}
	if _, err := pool.Exec(ctx, `ANALYZE river_job`); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
	return q, reg
}

// The gauges' query reads River's fetch index, not the table: its cost
// is that of the pending jobs, not of the finished ones kept. It counts
// the jobs of every pending state, running ones too.
func TestStatsPlan(t *testing.T) {
	q, reg := statsQueue(t, 50000, 400)
	ctx := context.Background()
	rows, err := q.pool.Query(ctx, `EXPLAIN `+statsQuery, pendingStateNames(), q.queue(), Kind)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatalf("scan: %v", err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "Seq Scan") || !strings.Contains(text, "river_job_prioritized_fetching_index") {
		t.Fatalf("plan:\n%s", text)
	}
	q.stats(ctx)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "bouncekit_webhook_queue_size" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 400 {
				t.Fatalf("queue size %v, want 400", v)
			}
			return
		}
	}
	t.Fatalf("no queue size gauge")
}

// BenchmarkStats reads the gauges from a table of 100000 finished jobs
// and some pending ones.
func BenchmarkStats(b *testing.B) {
	for _, pending := range []int{100, 10000} {
		b.Run("pending="+strconv.Itoa(pending), func(b *testing.B) {
			q, _ := statsQueue(b, 100000, pending)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				q.stats(ctx)
			}
		})
	}
}
