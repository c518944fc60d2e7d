package riverhook_test

import (
	"cmp"
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bouncekit/bouncekit/postgres/riverhook"
	"github.com/bouncekit/bouncekit/webhook"
)

// BenchmarkThroughput delivers b.N hooks with 1, 2 and 4 node processes
// against one loopback receiver and reports hooks/s from the first
// request the receiver saw to the last; node start-up and inserting the
// jobs are not measured. Use a fixed count, e.g. -benchtime=20000x: each
// run starts its own nodes. B/op and allocs/op are the parent's (the
// receiver), not the nodes'.
func BenchmarkThroughput(b *testing.B) {
	configs := []struct {
		workers  int
		cooldown time.Duration
	}{
		{64, 0}, // The defaults: at most 64 jobs per 100ms per node.
		{256, 0},
		{64, 10 * time.Millisecond},
	}
	for _, c := range configs {
		for _, n := range []int{1, 2, 4} {
			benchThroughput(b, n, c.workers, c.cooldown)
		}
	}
}

func benchThroughput(b *testing.B, n, workers int, cooldown time.Duration) {
	name := "workers=" + strconv.Itoa(workers) + "/cooldown=" + cmp.Or(cooldown, 100*time.Millisecond).String() + "/nodes=" + strconv.Itoa(n)
	b.Run(name, func(b *testing.B) {
		_, q, connString, schema := sharedSchema(b)
		wr := newWatchReceiver(b.N, b.N)
		defer wr.srv.Close()
		insertJobs(b, q, b.N, wr.srv.URL)
		var ru0 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		b.ResetTimer()
		nodes := startNodes(b, n, workers, cooldown, connString, schema)
		select {
		case <-wr.allC:
		case <-time.After(10 * time.Minute):
			b.Fatalf("not all delivered")
		}
		b.StopTimer()
		var ru1 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		var nodeCPU time.Duration
		for _, nd := range nodes {
			nd.stop(b)
			nodeCPU += nd.cmd.ProcessState.UserTime() + nd.cmd.ProcessState.SystemTime()
		}
		// CPU per hook of the nodes and of this process (the receiver and
		// its HTTP server); the rest of the machine's is PostgreSQL's and
		// other load's.
		b.ReportMetric(float64(nodeCPU.Microseconds())/float64(b.N), "node-cpu-µs/hook")
		self := time.Duration(syscall.TimevalToNsec(ru1.Utime) - syscall.TimevalToNsec(ru0.Utime) + syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Stime))
		b.ReportMetric(float64(self.Microseconds())/float64(b.N), "receiver-cpu-µs/hook")
		wr.mu.Lock()
		d := wr.last.Sub(wr.first)
		wr.mu.Unlock()
		if d > 0 {
			b.ReportMetric(float64(b.N)/d.Seconds(), "hooks/s")
		}
	})
}

// BenchmarkInsert inserts hooks as a relay does, in batches of 1 and of
// 1000 per transaction; ns/op is per hook.
func BenchmarkInsert(b *testing.B) {
	for _, batch := range []int{1, 1000} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			_, q, _, _ := sharedSchema(b)
			jobs := make([]riverhook.Job, 0, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				jobs = jobs[:0]
				for k := i; k < min(b.N, i+batch); k++ {
					jobs = append(jobs, riverhook.Job{
						WebhookID: "bench-" + strconv.Itoa(k),
						Account:   "acct",
						URL:       "https://app.example.com/hook",
						Payload:   webhook.Outgoing{Event: webhook.EventDelivered, QueueMsgID: int64(k + 1)},
					})
				}
				if _, err := q.Insert(context.Background(), jobs...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
